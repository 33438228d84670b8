"""The privacy review of issue #15, in real browsers (static/e2ee.js).

- A replay is dropped even when its original was opened in an earlier visit and the server no
  longer shows it (the nonces live in IndexedDB, not only in the page's memory).
- A message the relay could never verify in a report (a franking key that is not 32 bytes) is
  dropped like a wrong commitment: no sender can deliver an unreportable message.
- An envelope field that does not decode drops that one message and every later one still opens.
- Stale keys: the page encrypted to an old device set, the server answers 409 with the fresh
  state, the page encrypts again and the message goes once, to the new device too.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any

import pytest

from contacts.models import User
from marketplace.models import Listing
from relay import crypto
from relay.models import Conversation, DeviceKey, Message, Side
from relay.services import e2ee
from tests.browser import test_e2ee as base
from tests.browser.test_e2ee import bubbles, buyer_starts, inject, mode, ready, seller_opens, wait
from tests.relay import e2ee_reference as ref

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The fixtures of the suite this one extends.
profiles, sari, bike = base.profiles, base.sari, base.bike


def verdicts(browser: Any) -> dict[str, tuple[str, str]]:
    return {x["uid"]: (x["status"], x["text"]) for x in bubbles(browser)}


def all_opened(browser: Any, count: int) -> bool:
    found = bubbles(browser)
    return len(found) == count and all(x["status"] for x in found)


def device_keys() -> list[bytes]:
    return [bytes(d.public_key) for d in DeviceKey.objects.filter(retired_at=None).order_by("id")]


def test_a_replay_of_a_message_opened_in_an_earlier_visit_is_dropped(
    profiles: Callable[[], Any], live_server: Any, bike: Listing, sari: User
) -> None:
    buyer, seller = profiles(), profiles()
    conversation = buyer_starts(buyer, live_server, bike)
    seller_opens(seller, live_server, conversation)
    code, keys = conversation.code, device_keys()
    original = inject(
        conversation, *ref.seal("Sekali saja", to=keys, conversation=code, nonce=b"\x02" * 16)
    )
    seller.refresh()
    ready(seller)
    wait(seller, lambda b: all_opened(b, 1), "the original opened")
    assert verdicts(seller)[str(original.uid)] == ("open", "Sekali saja")

    # A misbehaving server hides the original and serves a copy under a new message id.
    key = crypto.unwrap_key(conversation.wrapped_key, code)
    envelope = crypto.decrypt_body(key, original.uid, original.body_sealed)
    commitment = base64.b64encode(bytes(original.franking_commitment or b"")).decode()
    Message.objects.filter(pk=original.pk).delete()
    replayed = inject(conversation, envelope, commitment)
    seller.refresh()
    ready(seller)
    wait(seller, lambda b: all_opened(b, 1), "the copy was looked at")
    status, text = verdicts(seller)[str(replayed.uid)]
    assert status == "dropped-replay"
    assert "repeats an earlier message" in text
    assert "Sekali saja" not in seller.find_element("id", "bubbles").text


def test_an_unreportable_message_is_dropped_and_a_broken_field_stops_nothing_after_it(
    profiles: Callable[[], Any], live_server: Any, bike: Listing, sari: User
) -> None:
    buyer, seller = profiles(), profiles()
    conversation = buyer_starts(buyer, live_server, bike)
    seller_opens(seller, live_server, conversation)
    code, keys = conversation.code, device_keys()
    # HMAC takes a 33-byte key, so the commitment matches; the relay's report check would
    # call it malformed: the seller could never prove what the buyer wrote.
    long_key = inject(
        conversation,
        *ref.seal("Kunci panjang", to=keys, conversation=code, franking_key=b"\x05" * 33),
    )
    too_long = inject(
        conversation, *ref.seal("y" * 4001, to=keys, conversation=code)
    )  # over RELAY_MAX_TEXT_CHARS: a report could not carry it
    envelope, c = ref.seal("Rusak", to=keys, conversation=code)
    broken = json.loads(envelope)
    for entry in broken["keys"]:
        entry["epk"] = "not base64!"  # only a server that skipped its own check serves this
    broken_field = inject(conversation, json.dumps(broken), c)
    after = inject(conversation, *ref.seal("Pesan sesudahnya", to=keys, conversation=code))

    seller.refresh()
    ready(seller)
    wait(seller, lambda b: all_opened(b, 4), "every message was looked at")
    shown = verdicts(seller)
    assert shown[str(long_key.uid)][0] == "dropped-commitment"
    assert "could not be reported" in shown[str(long_key.uid)][1]
    assert shown[str(too_long.uid)][0] == "dropped-commitment"
    assert shown[str(broken_field.uid)][0] == "dropped-tampered"
    assert shown[str(after.uid)] == ("open", "Pesan sesudahnya")
    reportable = seller.execute_script("return window.PerantaraE2EE.openedBy('buyer');")
    assert [o["text"] for o in reportable] == ["Pesan sesudahnya"]


HOLD_STATE = """
window.__sends = 0;
var real = window.fetch;
window.fetch = function (url, options) {
  var method = (options && options.method) || "GET";
  if (method === "GET" && /\\/e2ee\\/$/.test(String(url))) return Promise.reject(new Error("held"));
  if (/\\/e2ee\\/send\\/$/.test(String(url))) window.__sends += 1;
  return real.apply(this, arguments);
};
"""


def test_stale_keys_are_refetched_from_the_409_and_the_message_goes_once(
    profiles: Callable[[], Any], live_server: Any, bike: Listing, sari: User
) -> None:
    buyer, seller = profiles(), profiles()
    conversation = buyer_starts(buyer, live_server, bike)
    seller_opens(seller, live_server, conversation)
    wait(buyer, lambda b: mode(b) == "e2ee", "the buyer's page has the seller's device")
    # The buyer's page keeps the key list it has: its state polls are held back from here on.
    buyer.execute_script(HOLD_STATE)
    laptop = ref.Device.new()  # the seller sets up another browser meanwhile
    e2ee.register_device(
        endpoint=e2ee.seller_device_endpoint(conversation),
        public_key_b64=base64.b64encode(laptop.public).decode(),
    )
    assert len(buyer.execute_script("return window.PerantaraE2EE.state().devices.seller;")) == 1

    base.send(buyer, "Dua kunci sekarang")
    assert buyer.execute_script("return window.__sends;") == 2  # the 409, then the retry
    assert len(buyer.execute_script("return window.PerantaraE2EE.state().devices.seller;")) == 2
    status = buyer.find_element("id", "e2ee-status")
    assert not status.is_displayed() or "not sent" not in status.text
    [message] = Message.objects.filter(e2ee=True, sender_side=Side.BUYER)
    fresh = Conversation.objects.get(pk=conversation.pk)
    key = crypto.unwrap_key(fresh.wrapped_key, fresh.code)
    envelope = crypto.decrypt_body(key, message.uid, message.body_sealed)
    commitment = base64.b64encode(bytes(message.franking_commitment or b"")).decode()
    assert ref.open_envelope(envelope, commitment, laptop)["m"] == "Dua kunci sekarang"
    wait(seller, lambda b: base.shows(b, "Dua kunci sekarang"), "the seller opens it")
    texts = [b["text"] for b in bubbles(seller)]
    assert texts.count("Dua kunci sekarang") == 1


BAD_KEYS = """
var real = window.fetch;
window.fetch = function (url, options) {
  var method = (options && options.method) || "GET";
  if (method !== "GET" || !/\\/e2ee\\/$/.test(String(url))) return real.apply(this, arguments);
  return real.apply(this, arguments).then(function (r) { return r.json(); }).then(function (a) {
    a.devices.seller = a.devices.seller.map(function (d) {
      return Object.assign({}, d, {public_key: "not base64!"});
    });
    var headers = {"Content-Type": "application/json"};
    return new Response(JSON.stringify(a), {status: 200, headers: headers});
  });
};
"""


def test_a_key_list_that_does_not_decode_fails_the_send_and_keeps_the_text(
    profiles: Callable[[], Any], live_server: Any, bike: Listing, sari: User
) -> None:
    buyer, seller = profiles(), profiles()
    conversation = buyer_starts(buyer, live_server, bike)
    seller_opens(seller, live_server, conversation)
    wait(buyer, lambda b: mode(b) == "e2ee", "end to end")
    buyer.execute_script(BAD_KEYS)
    wait(
        buyer,
        lambda b: (
            b.execute_script(
                "var s = window.PerantaraE2EE.state();"
                "return s.devices.seller.length && s.devices.seller[0].public_key;"
            )
            == "not base64!"
        ),
        "the page holds the broken key list",
    )
    box = buyer.find_element("css selector", "form.composer textarea[name=text]")
    box.send_keys("Tetap di kotak")
    button = buyer.find_element("css selector", "form.composer button[type=submit]")
    button.click()
    status = buyer.find_element("id", "e2ee-status")
    wait(buyer, lambda b: "not sent" in status.text, "the page says it was not sent")
    assert box.get_attribute("value") == "Tetap di kotak"
    assert button.is_enabled()
    assert not Message.objects.filter(e2ee=True).exists()
