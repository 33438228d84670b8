// The body guards that run in the sender's browser before an end-to-end encrypted message is
// encrypted: the server cannot read such a message, so it cannot mask a number in it, see that
// it is a keyword, or measure its visible text. The rules are the server's own, served with the
// page as <script type="application/json" id="perantara-guard-rules"> (relay/pipeline/
// guard_rules.py builds them from the Python definitions); this file only knows how to apply
// them, in the order the server's pipeline does (relay/pipeline/guards.py). The shared cases in
// tests/shared/guard_cases.json run against both.
//
//   PerantaraGuards.check(text, rules?) → {action, text, notices}
//     "command": a keyword or link code; send `text` as a plain submission (the server acts on it)
//     "refuse":  nothing to send (empty, invisible only, too long, rules missing); notices say why
//     "send":    encrypt and send `text` (details masked); notices tell the sender what was hidden
//
// Phone numbers are found with libphonenumber-js (static/vendor/libphonenumber-max.js, pinned in
// package-lock.json), the JavaScript port of the library the server uses.
(function () {
  "use strict";

  // --- Regular expressions written in the subset both sides read (contacts/contact_guard.py) ---

  // Python's \w, \d and \b are Unicode-aware; JavaScript's are ASCII even with the "u" flag.
  var WORD = "\\p{L}\\p{N}_";
  var OUTSIDE = {
    w: "[" + WORD + "]",
    W: "[^" + WORD + "]",
    d: "\\p{Nd}",
    D: "\\P{Nd}",
    b: "(?:(?<=[" + WORD + "])(?![" + WORD + "])|(?<![" + WORD + "])(?=[" + WORD + "]))",
  };
  var INSIDE = { w: WORD, d: "\\p{Nd}" };
  var IDIOMS = [
    ["[^\\W\\d_]", "[\\p{L}\\p{Nl}\\p{No}]"], // a letter, as Python reads it
    ["[^\\W_]", "[\\p{L}\\p{N}]"], // a letter or a digit
  ];
  var cache = new Map();

  function translate(source) {
    var out = "";
    var inClass = false;
    for (var i = 0; i < source.length; i++) {
      var idiom = !inClass && IDIOMS.find(function (pair) { return source.startsWith(pair[0], i); });
      if (idiom) {
        out += idiom[1];
        i += idiom[0].length - 1;
        continue;
      }
      var ch = source[i];
      if (ch === "\\") {
        var next = source[++i];
        var table = inClass ? INSIDE : OUTSIDE;
        if (inClass && "WDb".indexOf(next) >= 0) throw new Error("unsupported in a class: \\" + next);
        out += Object.prototype.hasOwnProperty.call(table, next) ? table[next] : "\\" + next;
        continue;
      }
      if (ch === "[" && !inClass) inClass = true;
      else if (ch === "]" && inClass) inClass = false;
      out += ch;
    }
    return out;
  }

  // A compiled pattern; `extra` adds flags ("g" to find all, "d" for group positions, "y").
  function regex(rule, extra) {
    var flags = "u" + (rule.flags || "") + (extra || "");
    var key = flags + "\u0000" + rule.source;
    if (!cache.has(key)) cache.set(key, new RegExp(translate(rule.source), flags));
    var compiled = cache.get(key);
    compiled.lastIndex = 0;
    return compiled;
  }

  function fullmatch(rule, text) {
    return regex({ source: "^(?:" + rule.source + ")$", flags: rule.flags }).test(text);
  }

  function finditer(rule, text) {
    return Array.from(text.matchAll(regex(rule, "gd")));
  }

  // --- Visible text, length, link codes and keywords (relay/pipeline/guards.py, keywords.py) ---

  function pythonStrip(text) {
    return text.replace(/^\s+|\s+$/gu, "");
  }

  function visible(text, invisible) {
    var classes = invisible.categories.map(function (c) { return "\\p{" + c + "}"; }).join("");
    var hidden = new RegExp("[" + classes + "]", "u");
    return pythonStrip(
      Array.from(text)
        .filter(function (ch) { return invisible.kept.indexOf(ch) >= 0 || !hidden.test(ch); })
        .join("")
    );
  }

  function codePoints(text) {
    return Array.from(text).length;
  }

  function keywordOf(text, rules) {
    var words = text.replace(regex(rules.punctuation, "g"), "").split(/\s+/u).filter(Boolean);
    if (words.length === 2 && words[0].startsWith(rules.tag_prefix)) words = words.slice(1);
    if (words.length !== 1) return null;
    var word = words[0].toUpperCase();
    return Object.prototype.hasOwnProperty.call(rules.words, word) ? rules.words[word] : null;
  }

  // "2 scam" after REPORT: the report waits for its numbered reason until `until` (ms).
  function reasonAwaited(text, rule) {
    return Boolean(rule.until) && Date.now() < rule.until && regex(rule).test(text);
  }

  // --- The number guard (contacts/contact_guard.py), detector by detector ---

  function readDigits(text, c) {
    var chars = Array.from(text.split(""));
    finditer(c.patterns.digit_run, text).forEach(function (m) {
      var run = m[0];
      var digits = (run.match(/[0-9]/g) || []).length;
      if (digits && digits >= run.length - digits && digits !== run.length) {
        for (var k = 0; k < run.length; k++) chars[m.index + k] = c.lookalikes[run[k]] || run[k];
      }
    });
    return chars.join("").replace(regex(c.patterns.double_zero, "g"), " +");
  }

  function span(start, end, kind) {
    return { start: start, end: end, kind: kind };
  }

  function count(text, chars) {
    return Array.from(text).filter(function (ch) { return chars.indexOf(ch) >= 0; }).length;
  }

  function balanced(text, start, end, c) {
    var piece = text.slice(start, end);
    var opened = count(piece, c.openers) - count(piece, c.closers);
    while (opened > 0 && start < end && (c.openers + " ").indexOf(text[start]) >= 0) {
      opened -= c.openers.indexOf(text[start]) >= 0 ? 1 : 0;
      start += 1;
    }
    while (opened < 0 && end > start && (c.closers + " ").indexOf(text[end - 1]) >= 0) {
      opened += c.closers.indexOf(text[end - 1]) >= 0 ? 1 : 0;
      end -= 1;
    }
    return [start, end];
  }

  function isAmount(text, start, end, c) {
    var p = c.patterns;
    var before = regex(p.currency_before, "g");
    before.lastIndex = Math.max(start - c.amount_window, 0);
    return (
      fullmatch(p.thousands, text.slice(start, end)) ||
      fullmatch(p.round, text.slice(start, end)) ||
      before.test(text.slice(0, start)) ||
      regex(p.unit_after).test(text.slice(end, end + c.amount_window))
    );
  }

  function widened(source, start) {
    if (start > 0 && source.digits.slice(start - 1, start + 1) === " +") {
      return source.original.slice(start - 1, start + 1) === "00" ? start - 1 : start;
    }
    return start;
  }

  function digitsOnly(text) {
    return text.replace(/\D/g, "");
  }

  // Python's matcher (Leniency.VALID) refuses a number written in national form without the
  // national prefix its region's format requires ("812 345 678" in ID); libphonenumber-js does
  // not check that, so it is checked here: a national number as the digits written is not one.
  function prefixMissing(lib, written, region) {
    if (written.indexOf("+") >= 0) return false;
    var parsed = lib.parsePhoneNumberFromString(written, region);
    if (!parsed) return true;
    var national = digitsOnly(parsed.formatNational());
    return national.length > parsed.nationalNumber.length && digitsOnly(written) === parsed.nationalNumber;
  }

  // Python's matcher never takes a comma into a number; libphonenumber-js reads ",75" after a
  // number as an auto-dialled extension ("0812-3456-78902,75 jt"). Such a match is read again
  // up to its comma, as Python reads it.
  function findNumbers(lib, text, options) {
    var found = [];
    lib.findPhoneNumbersInText(text, options).forEach(function (m) {
      var comma = text.slice(m.startsAt, m.endsAt).indexOf(",");
      if (comma < 0) return found.push(m);
      lib.findPhoneNumbersInText(text.slice(m.startsAt, m.startsAt + comma), options).forEach(
        function (inner) {
          found.push({ startsAt: m.startsAt + inner.startsAt, endsAt: m.startsAt + inner.endsAt });
        }
      );
    });
    return found;
  }

  function matchedNumbers(lib, source, text) {
    var found = [];
    source.regions.forEach(function (region) {
      var options = { defaultCountry: region, leniency: "VALID" };
      findNumbers(lib, text, options).forEach(function (m) {
        if (prefixMissing(lib, text.slice(m.startsAt, m.endsAt), region)) return;
        var bounds = balanced(source.original, m.startsAt, m.endsAt, source.rules);
        if (!isAmount(source.original, bounds[0], bounds[1], source.rules)) {
          found.push(span(widened(source, bounds[0]), bounds[1], "phone"));
        }
      });
    });
    return found;
  }

  function phoneNumbers(source, lib) {
    var found = matchedNumbers(lib, source, source.original);
    if (source.digits !== source.original) {
      matchedNumbers(lib, source, source.digits).forEach(function (s) {
        var inside = found.filter(function (o) { return s.start <= o.start && o.end <= s.end; });
        if (inside.length < 2) found.push(s);
      });
    }
    return found;
  }

  function bareMobileNumbers(source, lib) {
    var c = source.rules;
    if (source.regions.indexOf(c.bare_mobile_region) < 0) return [];
    return finditer(c.patterns.bare_mobile, source.digits)
      .filter(function (m) {
        var digits = digitsOnly(m[0]);
        var number = lib.parsePhoneNumberFromString("0" + digits, c.bare_mobile_region);
        var mobile = Boolean(number) && number.getType() === "MOBILE";
        return mobile && digits.length >= c.bare_mobile_min_digits;
      })
      .map(function (m) { return span(m.index, m.index + m[0].length, "phone"); });
  }

  function digitValue(token, c) {
    var word = token.toLowerCase();
    if (c.digit_words.indexOf(word) >= 0) return [1, 1];
    if (Object.prototype.hasOwnProperty.call(c.repeaters, word)) return [c.repeaters[word] - 1, 1];
    if (/^[0-9]+$/.test(token)) return [token.length, 0];
    return [0, 0];
  }

  function spelledDigits(source) {
    var c = source.rules;
    var text = source.digits;
    var runs = [];
    var run = null;
    finditer(c.patterns.token, text).forEach(function (m) {
      var value = digitValue(m[0], c);
      var gap = run && fullmatch(c.patterns.run_gap, text.slice(run.end, m.index));
      if (run && !(value[0] && gap)) {
        runs.push(run);
        run = null;
      }
      if (value[0]) {
        run = run || { start: m.index, digits: 0, words: 0 };
        run.end = m.index + m[0].length;
        run.digits += value[0];
        run.words += value[1];
      }
    });
    if (run) runs.push(run);
    return runs
      .filter(function (r) { return r.digits >= c.spelled_min_digits && r.words >= c.spelled_min_words; })
      .map(function (r) { return span(r.start, r.end, "phone"); });
  }

  function emails(source) {
    var found = [];
    source.rules.emails.forEach(function (rule) {
      finditer(rule, source.original).forEach(function (m) {
        found.push(span(m.index, m.index + m[0].length, "email"));
      });
    });
    return found;
  }

  function appLinks(source) {
    var trailing = source.rules.trailing;
    return finditer(source.rules.patterns.app_link, source.original).map(function (m) {
      var end = m.index + m[0].length;
      while (end > m.index && trailing.indexOf(source.original[end - 1]) >= 0) end -= 1;
      return span(m.index, end, "app_link");
    });
  }

  function appHandles(source) {
    var c = source.rules;
    var found = [];
    [c.patterns.at_handle, c.patterns.colon_handle].forEach(function (rule) {
      finditer(rule, source.original).forEach(function (m) {
        var handle = m[1].replace(/\.+$/, "");
        if (c.not_handles.indexOf(handle.toLowerCase()) >= 0) return;
        if (handle.replace(/^@+/, "").length < 2) return;
        var start = m.indices[1][0];
        found.push(span(start, start + handle.length, "app_link"));
      });
    });
    return found;
  }

  function merge(spans) {
    var sorted = spans.slice().sort(function (a, b) { return a.start - b.start || b.end - a.end; });
    var merged = [];
    sorted.forEach(function (s) {
      var last = merged[merged.length - 1];
      if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
      else merged.push({ start: s.start, end: s.end, kind: s.kind });
    });
    return merged;
  }

  var DETECTORS = [phoneNumbers, bareMobileNumbers, spelledDigits, emails, appLinks, appHandles];

  // {text, kinds}: `text` with every contact detail replaced by the placeholder.
  function mask(text, contact, lib) {
    var source = {
      original: text,
      digits: readDigits(text, contact),
      regions: contact.regions.length ? contact.regions : [undefined],
      rules: contact,
    };
    var spans = merge(
      DETECTORS.reduce(function (all, detector) { return all.concat(detector(source, lib)); }, [])
    );
    var pieces = [];
    var cursor = 0;
    spans.forEach(function (s) {
      pieces.push(text.slice(cursor, s.start), contact.placeholder);
      cursor = s.end;
    });
    pieces.push(text.slice(cursor));
    var kinds = Array.from(new Set(spans.map(function (s) { return s.kind; }))).sort();
    return { text: pieces.join(""), kinds: kinds };
  }

  // --- The guards in the pipeline's order ---

  function readRules() {
    var element = document.getElementById("perantara-guard-rules");
    return element ? JSON.parse(element.textContent) : null;
  }

  function refuse(text, notice) {
    return { action: "refuse", text: text, notices: notice ? [notice] : [] };
  }

  function check(text, rules) {
    rules = rules || readRules();
    var lib = window.libphonenumber;
    if (!rules || !lib || typeof lib.findPhoneNumbersInText !== "function") {
      // Fail closed: without the rules or the phone library nothing is checked, so nothing goes.
      return refuse(text, rules ? rules.notices.unavailable : "");
    }
    text = String(text);
    if (fullmatch(rules.link_code, pythonStrip(text))) return { action: "command", text: text, notices: [] };
    if (codePoints(pythonStrip(text)) > rules.limit) return refuse(text, rules.notices.too_long);
    var cleaned = visible(text, rules.invisible);
    if (!cleaned) return refuse(text, rules.notices.empty_message);
    if (keywordOf(cleaned, rules.keywords) !== null) return { action: "command", text: cleaned, notices: [] };
    if (reasonAwaited(cleaned, rules.report_reason)) return { action: "command", text: cleaned, notices: [] };
    if (!rules.contact.mask) return { action: "send", text: cleaned, notices: [] };
    var masked = mask(cleaned, rules.contact, lib);
    var notices = masked.kinds.length ? [rules.notices.contact_masked[masked.kinds.join(",")]] : [];
    return { action: "send", text: masked.text, notices: notices };
  }

  window.PerantaraGuards = { check: check, rules: readRules, translate: translate };
})();
