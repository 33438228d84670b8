/* Perantara: web ↔ web end-to-end encryption in the browser (issue #15; DESIGN.md, "Web ↔ web
   end to end" and "Franking"). The browser's own Web Crypto API only: X25519, HKDF-SHA-256,
   AES-256-GCM, HMAC-SHA-256, SHA-256. The server side is relay/services/e2ee.py and
   relay/franking.py; tests/relay/e2ee_reference.py is a Python implementation of the same bytes.

   DEVICE. On first use a page makes an X25519 key pair, the private key non-extractable, and
   keeps it in IndexedDB (database "perantara-e2ee", store "devices", one record per role slot:
   {privateKey: CryptoKey, publicKey: ArrayBuffer(32), registeredAt}). It registers the raw
   public key (POST {"public_key": base64}); the server names the device by its fingerprint,
   fp = lowercase hex SHA-256(raw public key).

   SENDING m (after the browser guards, static/guards.js, when present):
     k_f  = 32 random bytes (franking key)         n  = 16 random bytes (replay nonce)
     c    = HMAC-SHA-256(k_f, "frank-v1" ‖ UTF-8(m))             (the franking commitment)
     inner = UTF-8(JSON {"v":1, "m": m, "kf": b64(k_f), "n": b64(n), "conv": <conversation code>})
     K_c  = 32 random bytes (content key);  iv = 12 random bytes
     ct   = AES-256-GCM(K_c, iv, inner, associated data = c)       (ciphertext ‖ 16-byte tag)
     for every live device D of BOTH sides (public key P_D, fingerprint fp_D):
       (e, E) = a fresh ephemeral X25519 key pair;  s = X25519(e, P_D)   (32 bytes)
       KEK  = HKDF-SHA-256(ikm = s, salt = E ‖ P_D, info = "perantara-e2ee-v1 wrap", 32 bytes)
       wiv  = 12 random bytes
       wk   = AES-256-GCM(KEK, wiv, K_c, associated data = "perantara-wrap-v1" ‖ ASCII(fp_D))
       entry = {"d": fp_D, "epk": b64(E), "iv": b64(wiv), "wk": b64(wk)}
     envelope = JSON {"v":1, "alg":"X25519-HKDF-SHA256-A256GCM", "iv": b64(iv), "ct": b64(ct),
                      "keys": [entry, …]}                  (b64: standard base64 with padding)
     POST {"envelope": <envelope JSON text>, "commitment": b64(c)}
   The server refuses an envelope whose "d" set is not exactly the live devices of both sides
   (409 stale_keys: the page fetches the keys and retries once), one over its size limit (400),
   or a conversation that is not web ↔ web now (409 not_e2ee: the page shows the change). It
   stores the envelope sealed under the conversation key, c, and its reporting tag
   r = HMAC-SHA-256(K_srv, "report-v1" ‖ c ‖ ctx) over its own context ctx.

   OPENING. The recipient (and the sender's other devices) find their entry by fp, derive KEK
   with their private key and E, unwrap K_c, open ct with the server-supplied c as associated
   data, then DROP the message, showing a notice in its place, when: anything does not open
   (tampered; so does any field that does not decode), the inner conversation code is not
   this conversation's, HMAC(k_f, m) ≠ c, k_f is not 32 bytes, m is longer than the relay's
   text limit (data-max-chars) or not well-formed Unicode (a sender cannot send an
   unreportable message), or its nonce was already seen under another message id (replay;
   IndexedDB store "nonces" keeps "<slot>|<conversation>|<nonce>" → message id across visits). A device that is not in the envelope and is newer than the message says
   it was sent before the device was set up.

   SAFETY CODE: SHA-256(UTF-8("perantara-safety-v1\nbuyer:" + sorted buyer fps joined by "," +
   "\nseller:" + sorted seller fps joined by ",")), the first 8 bytes as a big-endian integer
   mod 10^12, 12 digits zero-padded, in groups of four (same as relay/services/e2ee.py).

   window.PerantaraE2EE.opened(uid) → {text, frankingKey (b64), ctx (object), tag (b64)} | null
   window.PerantaraE2EE.openedBy(side) → the opened messages that side sent, for a franked report.
*/
(function () {
  "use strict";
  var root = document.getElementById("e2ee");
  if (!root || !window.crypto || !window.crypto.subtle || !window.indexedDB) return;
  var subtle = window.crypto.subtle;
  var enc = new TextEncoder();
  var dec = new TextDecoder();
  var strings = JSON.parse(document.getElementById("perantara-e2ee-strings").textContent);
  var side = root.dataset.side, other = side === "buyer" ? "seller" : "buyer";
  var conversation = root.dataset.conversation;
  var box = document.getElementById("bubbles");
  var label = document.getElementById("e2ee-label");
  var status = document.getElementById("e2ee-status");
  var codeBox = document.getElementById("e2ee-code");
  var WRAP_INFO = enc.encode("perantara-e2ee-v1 wrap");
  var STATE_MS = 4000;
  var NONCES = "nonces", NONCE_BYTES = 16, FRANKING_KEY_BYTES = 32;
  var maxChars = parseInt(root.dataset.maxChars, 10) || 4000;  // RELAY_MAX_TEXT_CHARS

  var device = null;          // {privateKey, publicKey (ArrayBuffer), fingerprint, registeredAt}
  var state = null;           // the server's answer: mode, reason, devices of both sides
  var opened = {};            // uid → {text, frankingKey, ctx, tag, side} or {dropped: reason}
  var nonces = new Map();     // b64 nonce → uid it was first seen under (also in IndexedDB)
  var failed = false;

  // --- bytes --------------------------------------------------------------------------------
  function b64(bytes) {
    var view = new Uint8Array(bytes), text = "";
    for (var i = 0; i < view.length; i++) text += String.fromCharCode(view[i]);
    return btoa(text);
  }
  function unb64(text) {
    var raw = atob(text), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function hex(bytes) {
    return Array.prototype.map.call(new Uint8Array(bytes), function (b) {
      return (b < 16 ? "0" : "") + b.toString(16);
    }).join("");
  }
  function concat(a, b) {
    var out = new Uint8Array(a.byteLength + b.byteLength);
    out.set(new Uint8Array(a), 0);
    out.set(new Uint8Array(b), a.byteLength);
    return out;
  }
  function random(n) { return window.crypto.getRandomValues(new Uint8Array(n)); }
  function same(a, b) {
    var x = new Uint8Array(a), y = new Uint8Array(b);
    if (x.length !== y.length) return false;
    var diff = 0;
    for (var i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
    return diff === 0;
  }
  function fingerprint(raw) { return subtle.digest("SHA-256", raw).then(hex); }

  // --- primitives ---------------------------------------------------------------------------
  function commitment(kf, m) {
    return subtle.importKey("raw", kf, {name: "HMAC", hash: "SHA-256"}, false, ["sign"])
      .then(function (key) { return subtle.sign("HMAC", key, concat(enc.encode("frank-v1"), enc.encode(m))); });
  }
  function wrapKey(shared, epk, recipientPublic) {
    return subtle.importKey("raw", shared, "HKDF", false, ["deriveKey"]).then(function (ikm) {
      return subtle.deriveKey(
        {name: "HKDF", hash: "SHA-256", salt: concat(epk, recipientPublic), info: WRAP_INFO},
        ikm, {name: "AES-GCM", length: 256}, false, ["encrypt", "decrypt"]);
    });
  }
  function wrapAad(fp) { return enc.encode("perantara-wrap-v1" + fp); }

  function wrapTo(contentKey, target) {
    var ephemeral, epk;
    return subtle.generateKey({name: "X25519"}, false, ["deriveBits"]).then(function (pair) {
      ephemeral = pair;
      return subtle.exportKey("raw", pair.publicKey);
    }).then(function (raw) {
      epk = raw;
      return subtle.importKey("raw", target.publicKey, {name: "X25519"}, true, []);
    }).then(function (publicKey) {
      return subtle.deriveBits({name: "X25519", public: publicKey}, ephemeral.privateKey, 256);
    }).then(function (shared) { return wrapKey(shared, epk, target.publicKey); })
      .then(function (key) {
        var iv = random(12);
        return subtle.encrypt({name: "AES-GCM", iv: iv, additionalData: wrapAad(target.fingerprint)}, key, contentKey)
          .then(function (wk) { return {d: target.fingerprint, epk: b64(epk), iv: b64(iv), wk: b64(wk)}; });
      });
  }

  function seal(m, targets) {
    var kf = random(32), n = random(16), contentKey = random(32), iv = random(12), c;
    return commitment(kf, m).then(function (value) {
      c = value;
      var inner = JSON.stringify({v: 1, m: m, kf: b64(kf), n: b64(n), conv: conversation});
      return subtle.importKey("raw", contentKey, "AES-GCM", false, ["encrypt"]).then(function (key) {
        return subtle.encrypt({name: "AES-GCM", iv: iv, additionalData: c}, key, enc.encode(inner));
      });
    }).then(function (ct) {
      return Promise.all(targets.map(function (t) { return wrapTo(contentKey, t); })).then(function (keys) {
        var envelope = {v: 1, alg: "X25519-HKDF-SHA256-A256GCM", iv: b64(iv), ct: b64(ct), keys: keys};
        return {envelope: JSON.stringify(envelope), commitment: b64(c)};
      });
    });
  }

  function unwrapFor(entry) {
    var epk = unb64(entry.epk);
    return subtle.importKey("raw", epk, {name: "X25519"}, true, []).then(function (publicKey) {
      return subtle.deriveBits({name: "X25519", public: publicKey}, device.privateKey, 256);
    }).then(function (shared) { return wrapKey(shared, epk, device.publicKey); })
      .then(function (key) {
        return subtle.decrypt({name: "AES-GCM", iv: unb64(entry.iv), additionalData: wrapAad(device.fingerprint)}, key, unb64(entry.wk));
      });
  }

  // Open one bubble's envelope: {text, …} or {dropped: reason} or {unreadable: reason}.
  // Whatever the envelope holds, it ends in one of these: a field that does not decode is
  // "tampered", never an exception that would stop every later bubble from opening.
  function openBubble(bubble) {
    return Promise.resolve(bubble).then(openChecked).catch(function () { return {dropped: "tampered"}; });
  }
  function openChecked(bubble) {
    var uid = bubble.dataset.uid;
    var c = unb64(bubble.dataset.c || "");
    var envelope = JSON.parse(bubble.dataset.envelope);
    if (!envelope || !Array.isArray(envelope.keys)) throw new Error("envelope");
    var entry = envelope.keys.filter(function (k) { return k && k.d === device.fingerprint; })[0];
    if (!entry) {
      var before = Date.parse(bubble.dataset.sent) < Date.parse(device.registeredAt);
      return {unreadable: before ? "before_device" : "not_for_device"};
    }
    var inner, kf;
    return unwrapFor(entry).then(function (contentKey) {
      return subtle.importKey("raw", contentKey, "AES-GCM", false, ["decrypt"]);
    }).then(function (key) {
      return subtle.decrypt({name: "AES-GCM", iv: unb64(envelope.iv), additionalData: c}, key, unb64(envelope.ct));
    }).then(function (plain) {
      inner = JSON.parse(dec.decode(plain));
      if (!inner || inner.v !== 1 || inner.conv !== conversation || typeof inner.m !== "string") throw new Error("inner");
      if (typeof inner.n !== "string" || unb64(inner.n).length !== NONCE_BYTES) throw new Error("nonce");
      kf = typeof inner.kf === "string" ? unb64(inner.kf) : new Uint8Array(0);
      return reportable(inner.m, kf) ? commitment(kf, inner.m) : null;
    }).then(function (recomputed) {
      // A message the relay could not verify in a report is dropped like a wrong commitment:
      // a franking key that is not 32 bytes, a text over the relay's limit or one that is not
      // well-formed Unicode (relay/franking.py refuses each), so no sender can deliver a
      // message that cannot be reported.
      if (recomputed === null || !same(recomputed, c)) return {dropped: "commitment"};
      return firstSeen(inner.n, uid).then(function (first) {
        if (!first) return {dropped: "replay"};
        var ctx = null;
        try { ctx = JSON.parse(bubble.dataset.ctx || "null"); } catch (e) { ctx = null; }
        return {text: inner.m, frankingKey: inner.kf, ctx: ctx, tag: bubble.dataset.r || "", side: bubble.dataset.side, uid: uid};
      });
    });
  }
  function reportable(m, kf) {
    return kf.length === FRANKING_KEY_BYTES && !/\p{Cs}/u.test(m) && Array.from(m).length <= maxChars;
  }

  // Replays: a nonce is kept with the message id it first came under, in this page and in
  // IndexedDB, so a copy is dropped even when the original was opened in an earlier visit.
  function firstSeen(n, uid) {
    var known = nonces.get(n);
    if (known !== undefined) return Promise.resolve(known === uid);
    nonces.set(n, uid);
    var key = slot() + "|" + conversation + "|" + n;
    return new Promise(function (resolve) {
      database().then(function (db) {
        var tx = db.transaction(NONCES, "readwrite"), kept = tx.objectStore(NONCES), first;
        var got = kept.get(key);
        got.onsuccess = function () {
          first = got.result;
          if (first === undefined) kept.put(uid, key);
        };
        tx.oncomplete = function () { db.close(); resolve(first === undefined || first === uid); };
        tx.onerror = function () { db.close(); resolve(true); };  // this page's memory still holds
      }, function () { resolve(true); });
    });
  }

  // --- the device -------------------------------------------------------------------------
  // Version 2 adds the "nonces" store (replay detection that outlives the page); an existing
  // "devices" store and its keys are kept.
  function database() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open("perantara-e2ee", 2);
      request.onupgradeneeded = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains("devices")) db.createObjectStore("devices");
        if (!db.objectStoreNames.contains(NONCES)) db.createObjectStore(NONCES);
      };
      request.onerror = function () { reject(request.error); };
      request.onsuccess = function () { resolve(request.result); };
    });
  }
  function store(mode, work) {
    return database().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("devices", mode);
        var answer = work(tx.objectStore("devices"));
        tx.oncomplete = function () { db.close(); resolve(answer.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }
  function slot() { return side + ":" + root.dataset.slot; }

  function csrf() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", cache: "no-store",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf(), Accept: "application/json"},
      body: JSON.stringify(body)
    });
  }
  function url(kind) {
    var link = box && box.getAttribute("data-chat-link");
    var suffix = {device: "devices/", state: "e2ee/", send: "e2ee/send/"}[kind];
    return link ? link + suffix : root.dataset[kind];
  }

  function ensureDevice() {
    return store("readonly", function (s) { return s.get(slot()); }).then(function (found) {
      if (found) return found;
      return subtle.generateKey({name: "X25519"}, false, ["deriveBits"]).then(function (pair) {
        return subtle.exportKey("raw", pair.publicKey).then(function (raw) {
          return {privateKey: pair.privateKey, publicKey: raw, registeredAt: ""};
        });
      });
    }).then(function (record) {
      return fingerprint(record.publicKey).then(function (fp) {
        record.fingerprint = fp;
        return post(url("device"), {public_key: b64(record.publicKey)}).then(function (r) {
          if (!r.ok) throw new Error("register " + r.status);
          return r.json();
        }).then(function (answer) {
          record.registeredAt = record.registeredAt || answer.created_at;
          var kept = {privateKey: record.privateKey, publicKey: record.publicKey, registeredAt: record.registeredAt};
          return store("readwrite", function (s) { return s.put(kept, slot()); }).then(function () { return record; });
        });
      });
    });
  }

  // --- the conversation's state: mode, devices, safety code, key changes --------------------
  function targetsOf(answer) {
    var listed = answer.devices.buyer.concat(answer.devices.seller);
    return Promise.all(listed.map(function (d) {
      var raw = unb64(d.public_key);
      return fingerprint(raw).then(function (fp) { return {publicKey: raw, fingerprint: fp}; });
    }));
  }
  function safetyCode(answer) {
    function fps(list) { return Promise.all(list.map(function (d) { return fingerprint(unb64(d.public_key)); })); }
    return Promise.all([fps(answer.devices.buyer), fps(answer.devices.seller)]).then(function (both) {
      var text = "perantara-safety-v1\nbuyer:" + both[0].sort().join(",") + "\nseller:" + both[1].sort().join(",");
      return subtle.digest("SHA-256", enc.encode(text));
    }).then(function (digest) {
      var view = new Uint8Array(digest), number = 0n;
      for (var i = 0; i < 8; i++) number = (number << 8n) | BigInt(view[i]);
      var digits = (number % 1000000000000n).toString().padStart(12, "0");
      return digits.slice(0, 4) + " " + digits.slice(4, 8) + " " + digits.slice(8);
    });
  }
  function noticeKeyChange(answer) {
    var key = "perantara-e2ee-keys:" + conversation + ":" + other;
    var now = answer.devices[other].map(function (d) { return d.fingerprint; }).sort().join(",");
    var before = null;
    try { before = window.localStorage.getItem(key); window.localStorage.setItem(key, now); } catch (e) { return; }
    if (before !== null && before !== "" && now !== "" && before !== now) {
      var line = document.getElementById("e2ee-keys-changed");
      line.textContent = strings.keys_changed;
      line.hidden = false;
    }
  }
  function applyState(answer) {
    var changed = !state || state.mode !== answer.mode || state.reason !== answer.reason;
    state = answer;
    root.dataset.mode = answer.mode;
    if (label) {
      label.textContent = said("mode_" + answer.reason) || said("mode_relay");
      label.className = "e2ee-label e2ee-label-" + answer.mode;
    }
    noticeKeyChange(answer);
    var panel = document.getElementById("e2ee-safety");
    if (answer.mode === "e2ee") {
      safetyCode(answer).then(function (code) { codeBox.textContent = code; if (panel) panel.hidden = false; });
    } else if (panel) {
      panel.hidden = true;
    }
    if (changed) render();
  }
  function refreshState() {
    if (!conversation) return Promise.resolve(null);
    return fetch(url("state"), {credentials: "same-origin", cache: "no-store", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (answer) { if (answer && answer.devices) applyState(answer); return state; })
      .catch(function () { return state; });
  }

  function said(key) {
    var text = strings[key];
    return text ? text.split("{app}").join((state && state.app) || "") : "";
  }

  // --- the stream: open, label, divide -----------------------------------------------------
  var observer = null, rendering = null, again = false;

  function show(bubble, result) {
    var text = bubble.querySelector(".bubble-text");
    if (!text) return;
    bubble.classList.remove("e2ee-pending");
    if (result.dropped) {
      bubble.classList.add("e2ee-dropped");
      bubble.dataset.e2eeStatus = "dropped-" + result.dropped;
      text.textContent = strings.dropped + " " + strings["dropped_" + result.dropped];
    } else if (result.unreadable) {
      bubble.classList.add("e2ee-unreadable");
      bubble.dataset.e2eeStatus = result.unreadable;
      text.textContent = strings[result.unreadable];
    } else {
      bubble.classList.add("e2ee-open");
      bubble.dataset.e2eeStatus = "open";
      text.textContent = result.text;
    }
  }

  function divide() {
    box.querySelectorAll(".e2ee-divider").forEach(function (line) { line.remove(); });
    var previous = null;
    box.querySelectorAll(".bubble[data-message]:not(.relay)").forEach(function (bubble) {
      // A photo always passes through the relay (it must clean it), whatever the mode: it is
      // labelled on its own bubble and does not mean the conversation left end to end.
      if (bubble.dataset.e2ee !== "1" && bubble.querySelector(".bubble-photos")) return;
      var mode = bubble.dataset.e2ee === "1" ? "e2ee" : "relay";
      if (previous !== null && mode !== previous) bubble.before(divider(mode, false));
      previous = mode;
    });
    if (state && previous !== null && state.mode !== previous) box.append(divider(state.mode, true));
  }
  function divider(mode, now) {
    var line = document.createElement("p");
    line.className = "e2ee-divider e2ee-divider-" + mode;
    line.setAttribute("role", "note");
    line.textContent = now ? said("now_" + (mode === "e2ee" ? "e2ee" : state.reason)) || said("now_relay") : said("from_" + mode);
    return line;
  }

  function pass() {
    var bubbles = Array.prototype.slice.call(box.querySelectorAll('.bubble[data-e2ee="1"]'));
    // In order, one at a time: a replay is the later copy of a nonce.
    return bubbles.reduce(function (chain, bubble) {
      return chain.then(function () {
        var uid = bubble.dataset.uid;
        if (!bubble.dataset.envelope) return null;
        if (opened[uid]) { show(bubble, opened[uid]); return null; }
        return openBubble(bubble).then(function (result) { opened[uid] = result; show(bubble, result); });
      });
    }, Promise.resolve());
  }

  function render() {
    if (!device || !box) return;
    if (rendering) { again = true; return; }
    if (observer) observer.disconnect();
    // Opening messages and adding dividers makes the list taller: a reader who was at the
    // newest message (where the page scrolled them) stays there.
    var atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
    rendering = pass().then(function () { divide(); }).catch(function () {}).then(function () {
      if (atBottom) box.scrollTop = box.scrollHeight;
      rendering = null;
      if (observer) observer.observe(box, {childList: true});
      if (again) { again = false; render(); }
    });
  }

  // --- sending ------------------------------------------------------------------------------
  function say(lines, problem) {
    if (!status) return;
    status.textContent = lines.filter(Boolean).join(" ");
    status.classList.toggle("flash-error", !!problem);
    status.hidden = !status.textContent;
  }
  function guardRules() {
    var node = document.getElementById("perantara-guard-rules");
    try { return node ? JSON.parse(node.textContent) : {}; } catch (e) { return {}; }
  }
  function sendSealed(text, retried) {
    // From a promise: a key list that does not decode fails this send (the text stays in the
    // box, the button comes back), never the submit handler itself.
    return Promise.resolve(state).then(targetsOf).then(function (targets) { return seal(text, targets); }).then(function (sealed) {
      return post(url("send"), sealed);
    }).then(function (r) {
      return r.json().then(function (answer) { return {status: r.status, answer: answer}; });
    }).then(function (reply) {
      if (reply.status === 409 && reply.answer.state) {
        applyState(reply.answer.state);
        if (reply.answer.error === "stale_keys" && !retried && state.mode === "e2ee") return sendSealed(text, true);
      }
      return reply;
    });
  }
  function attach(form) {
    var area = form.querySelector("textarea[name=text]");
    form.addEventListener("submit", function (event) {
      if (!device || !state || state.mode !== "e2ee" || failed) return;  // relay-mediated: a plain post
      event.preventDefault();
      var checked = window.PerantaraGuards
        ? window.PerantaraGuards.check(area.value, guardRules())
        : {action: "send", text: area.value, notices: []};
      if (checked.action === "command") { form.submit(); return; }  // STOP, BLOCK, REPORT, HELP…
      if (checked.action === "refuse") { say(checked.notices, true); return; }
      if (!checked.text.trim()) { say([strings.empty], true); return; }
      var button = form.querySelector("button[type=submit]");
      if (button) button.disabled = true;
      sendSealed(checked.text, false).then(function (reply) {
        if (reply.status === 201) {
          area.value = "";
          say((checked.notices || []).concat(reply.answer.notices || []), false);
          document.dispatchEvent(new CustomEvent("perantara:sent"));
        } else {
          say([reply.answer.message || strings.not_sent], true);  // the text stays in the box
        }
      }).catch(function () { say([strings.not_sent], true); })
        .then(function () { if (button) button.disabled = false; });
    });
  }

  // --- reports: the opened messages of the other side, franked --------------------------------
  function openedBy(who) {
    return Object.keys(opened).map(function (uid) { return opened[uid]; })
      .filter(function (o) { return o.text !== undefined && o.side === who; })
      .map(function (o) { return {text: o.text, frankingKey: o.frankingKey, ctx: o.ctx, tag: o.tag, uid: o.uid}; });
  }
  document.querySelectorAll("details.report form").forEach(function (form) {
    form.addEventListener("submit", function () {
      var field = form.querySelector("input[name=franked]");
      var franked = openedBy(other);
      if (!field || !franked.length) return;  // relay-mediated: the relay sealed its evidence
      field.value = JSON.stringify(franked.map(function (o) {
        return {message: o.uid, m: o.text, kf: o.frankingKey, ctx: o.ctx, r: o.tag};
      }));
    });
  });

  window.PerantaraE2EE = {
    opened: function (uid) {
      var o = opened[uid];
      return o && o.text !== undefined ? {text: o.text, frankingKey: o.frankingKey, ctx: o.ctx, tag: o.tag} : null;
    },
    openedBy: openedBy,
    state: function () { return state; },
    device: function () { return device ? device.fingerprint : null; }
  };

  // --- start -------------------------------------------------------------------------------
  ensureDevice().then(function (record) {
    device = record;
    root.dataset.device = record.fingerprint;
    if (box) {
      observer = new MutationObserver(function () { render(); });
      observer.observe(box, {childList: true});
    }
    document.querySelectorAll("form.composer").forEach(attach);
    return refreshState();
  }).then(function () {
    render();
    root.dataset.ready = "1";
    if (root.dataset.conversation) setInterval(refreshState, STATE_MS);
  }).catch(function () {
    failed = true;  // no keys here (private window, storage refused): messages go relay-mediated
    say([strings.no_device], true);
    root.dataset.ready = "0";
  });
})();
