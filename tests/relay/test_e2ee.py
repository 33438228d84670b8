"""Web ↔ web end to end, the server's side: device keys, the mode, envelopes it cannot read.

The envelopes here are made by tests/relay/e2ee_reference.py, a Python implementation of
static/e2ee.js's documented bytes; the browser tests (tests/browser/test_e2ee.py) use the real
script.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts import services as contacts
from contacts.models import Endpoint, User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay import crypto, franking, tasks
from relay import services as relay
from relay.models import Ban, Conversation, DeviceKey, Message, Sanction, Side
from relay.services import e2ee, lifecycle, snapshot
from tests.conftest import PASSWORD
from tests.relay import e2ee_reference as ref

pytestmark = pytest.mark.django_db

TEXT = "Masih ada? Bisa COD di Bandung besok jam 10"


@dataclass
class Pair:
    """A web-chat buyer and the seller in the web inbox, each with one browser device."""

    seller: User
    listing: Listing
    conversation: Conversation
    buyer_browser: Client
    seller_browser: Client
    chat: str  # the buyer's chat link
    buyer_device: ref.Device
    seller_device: ref.Device

    def devices(self) -> list[bytes]:
        return [self.buyer_device.public, self.seller_device.public]

    def buyer_sends(self, envelope: str, commitment: str) -> Any:
        return self.buyer_browser.post(
            self.chat + "e2ee/send/",
            json.dumps({"envelope": envelope, "commitment": commitment}),
            content_type="application/json",
        )

    def seller_sends(self, envelope: str, commitment: str) -> Any:
        return self.seller_browser.post(
            reverse("relay:seller_e2ee_send", args=[self.conversation.code]),
            json.dumps({"envelope": envelope, "commitment": commitment}),
            content_type="application/json",
        )


def register(client: Client, url: str, public_key: object) -> Any:
    return client.post(url, json.dumps({"public_key": public_key}), content_type="application/json")


def key_b64(device: ref.Device) -> str:
    return base64.b64encode(device.public).decode()


@pytest.fixture
def pair(seller: User) -> Pair:
    listing = marketplace.create_listing(seller=seller, title="Sepeda lipat", price=Decimal(1))
    buyer_browser = Client()
    started = buyer_browser.post(
        reverse("relay:buyer_chat_start", args=[listing.code]), {"text": "Halo"}
    )
    chat = started["Location"]
    seller_browser = Client()
    seller_browser.login(username="sari", password=PASSWORD)
    conversation = Conversation.objects.get()
    made = Pair(
        seller, listing, conversation, buyer_browser, seller_browser, chat,
        ref.Device.new(), ref.Device.new(),
    )  # fmt: skip
    assert register(buyer_browser, chat + "devices/", key_b64(made.buyer_device)).status_code == 201
    seller_url = reverse("relay:seller_device")
    assert register(seller_browser, seller_url, key_b64(made.seller_device)).status_code == 201
    return made


def sealed(pair: Pair, text: str = TEXT, **options: Any) -> tuple[str, str]:
    return ref.seal(text, to=pair.devices(), conversation=pair.conversation.code, **options)


def test_registering_a_device_is_idempotent_and_a_malformed_key_is_a_clear_400(
    pair: Pair,
) -> None:
    url = reverse("relay:seller_device")
    again = register(pair.seller_browser, url, key_b64(pair.seller_device))
    assert again.status_code == 200
    assert again.json()["fingerprint"] == pair.seller_device.fingerprint
    second = ref.Device.new()  # the seller's laptop and phone: several devices
    assert register(pair.seller_browser, url, key_b64(second)).status_code == 201
    assert DeviceKey.objects.filter(retired_at=None).count() == 3
    for bad, said in (
        ("not base64!", "32 bytes"),
        (base64.b64encode(b"short").decode(), "32 bytes"),
        (12345, "base64 text"),
    ):
        refused = register(pair.seller_browser, url, bad)
        assert refused.status_code == 400
        assert said in refused.json()["message"]
    garbage = pair.seller_browser.post(url, b"{nope", content_type="application/json")
    assert garbage.status_code == 400
    assert garbage.json() == {"error": "malformed", "message": "The request is not valid JSON."}
    # The buyer's key is theirs: the seller cannot claim it.
    taken = register(pair.seller_browser, url, key_b64(pair.buyer_device))
    assert taken.status_code == 400 and taken.json()["error"] == "taken"
    assert DeviceKey.objects.filter(retired_at=None).count() == 3


def test_a_logged_out_seller_registers_nothing(pair: Pair) -> None:
    answer = register(Client(), reverse("relay:seller_device"), key_b64(ref.Device.new()))
    assert answer.status_code == 401
    assert DeviceKey.objects.count() == 2


def test_the_conversation_is_end_to_end_only_when_both_are_on_the_web_with_a_device(
    seller: User,
) -> None:
    listing = marketplace.create_listing(seller=seller, title="Kursi", price=Decimal(1))
    browser = Client()
    chat = browser.post(reverse("relay:buyer_chat_start", args=[listing.code]), {"text": "Hi"})
    conversation = Conversation.objects.get()
    assert e2ee.conversation_mode(conversation).reason == "buyer_setup"
    register(browser, chat["Location"] + "devices/", key_b64(ref.Device.new()))
    assert e2ee.conversation_mode(conversation).reason == "seller_setup"
    e2ee.register_device(
        endpoint=e2ee.seller_device_endpoint(conversation),
        public_key_b64=key_b64(ref.Device.new()),
    )
    mode = e2ee.conversation_mode(conversation)
    assert mode.e2ee and mode.reason == "e2ee"
    assert len(mode.safety_code.replace(" ", "")) == 12
    prefer_whatsapp(seller)
    assert e2ee.conversation_mode(conversation).reason == "seller_app"


def prefer_whatsapp(seller: User) -> Endpoint:
    relay.add_relay_identity(channel="whatsapp", provider_id="wa-main", address="+14155550100")
    endpoint, _ = contacts.get_or_create_endpoint(channel="whatsapp", address="+6281234567890")
    contacts.claim_endpoint(user=seller, endpoint=endpoint)
    contacts.set_preferred_endpoint(user=seller, endpoint=endpoint)
    snapshot.invalidate()
    return endpoint


def test_the_safety_code_is_the_documented_digest_of_both_sides_keys() -> None:
    buyer, seller = ["b" * 64], ["d" * 64, "c" * 64]
    text = f"perantara-safety-v1\nbuyer:{'b' * 64}\nseller:{'c' * 64},{'d' * 64}"
    import hashlib

    number = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") % 10**12
    expected = f"{number:012d}"
    assert e2ee.safety_code(buyer=buyer, seller=seller) == (
        f"{expected[:4]} {expected[4:8]} {expected[8:]}"
    )
    assert e2ee.safety_code(buyer=buyer, seller=seller[::-1]) == e2ee.safety_code(
        buyer=buyer, seller=seller
    )


def test_an_encrypted_message_is_stored_sealed_with_the_servers_reporting_tag(
    pair: Pair,
) -> None:
    envelope, c = sealed(pair)
    answer = pair.buyer_sends(envelope, c)
    assert answer.status_code == 201, answer.content
    message = Message.objects.get(e2ee=True)
    key = crypto.unwrap_key(pair.conversation.wrapped_key, pair.conversation.code)
    stored = crypto.decrypt_body(key, message.uid, message.body_sealed)
    assert TEXT not in stored and json.loads(stored) == json.loads(envelope)
    assert bytes(message.franking_commitment or b"") == base64.b64decode(c)
    ctx = franking.context(
        conversation=pair.conversation.code,
        message=str(message.uid),
        sender=pair.conversation.buyer_pseudonym,
        recipient=pair.conversation.seller_pseudonym,
        sent_at=message.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert message.franking_context == ctx
    assert bytes(message.reporting_tag or b"") == franking.reporting_tag(base64.b64decode(c), ctx)
    # The seller's device opens it, and what it opens verifies as a franked report would.
    inner = ref.open_envelope(stored, c, pair.seller_device)
    assert inner["m"] == TEXT and inner["conv"] == pair.conversation.code
    verdict = franking.verify(
        message=inner["m"],
        franking_key=base64.b64decode(inner["kf"]),
        ctx=ctx,
        tag=bytes(message.reporting_tag or b""),
        conversation=pair.conversation.code,
    )
    assert verdict.verified and verdict.sender == "Buyer " + pair.conversation.tag


def test_the_seller_answers_end_to_end_too_and_the_pages_never_show_the_text(
    pair: Pair,
) -> None:
    envelope, c = sealed(pair, "Masih, kak. Silakan datang")
    assert pair.seller_sends(envelope, c).status_code == 201
    message = Message.objects.get(e2ee=True)
    assert message.sender_side == Side.SELLER
    assert message.franking_context is not None
    assert message.franking_context["sender"] == pair.conversation.seller_pseudonym
    inbox = pair.seller_browser.get(reverse("relay:conversation", args=[pair.conversation.code]))
    page = inbox.content.decode()
    assert "Masih, kak" not in page
    assert "End-to-end encrypted" in page and f'data-uid="{message.uid}"' in page
    chat = pair.buyer_browser.get(pair.chat).content.decode()
    assert "Masih, kak" not in chat and "data-envelope=" in chat
    # The delivery to the web chat is done without opening anything.
    assert message.deliveries.get().state in ("pending", "delivered")


def test_the_thread_list_previews_an_encrypted_message_as_such(pair: Pair) -> None:
    envelope, c = sealed(pair)
    pair.buyer_sends(envelope, c)
    page = pair.seller_browser.get(reverse("relay:inbox")).content.decode()
    assert "Encrypted message" in page and TEXT not in page


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ("missing_seller_device", "stale_keys"),
        ("an_extra_device", "stale_keys"),
        ("a_retired_device", "stale_keys"),
    ],
)
def test_an_envelope_must_name_exactly_the_current_devices_of_both_sides(
    pair: Pair, change: str, error: str
) -> None:
    targets = pair.devices()
    if change == "missing_seller_device":
        targets = [pair.buyer_device.public]
    elif change == "an_extra_device":
        targets = [*targets, ref.Device.new().public]
    else:  # the seller added a laptop since the page fetched the keys
        e2ee.register_device(
            endpoint=e2ee.seller_device_endpoint(pair.conversation),
            public_key_b64=key_b64(ref.Device.new()),
        )
    envelope, c = ref.seal(TEXT, to=targets, conversation=pair.conversation.code)
    refused = pair.buyer_sends(envelope, c)
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == error
    assert "devices of this conversation changed" in body["message"]
    assert body["state"]["mode"] == "e2ee"  # the page retries with these keys
    assert not Message.objects.filter(e2ee=True).exists()


@pytest.mark.parametrize(
    ("envelope", "commitment", "said"),
    [
        ("{not json", base64.b64encode(b"c" * 32).decode(), "not in the expected format"),
        ('{"v": 2}', base64.b64encode(b"c" * 32).decode(), "not in the expected format"),
        ('{"v": 1, "iv": "", "ct": "", "keys": []}', "", "not in the expected format"),
        (None, None, "is missing"),
    ],
)
def test_a_malformed_envelope_is_a_clear_400_and_stores_nothing(
    pair: Pair, envelope: Any, commitment: Any, said: str
) -> None:
    refused = pair.buyer_sends(envelope, commitment)
    assert refused.status_code == 400
    assert said in refused.json()["message"]
    assert Message.objects.count() == 1  # the opening "Halo" only


def test_a_commitment_that_is_not_32_bytes_is_refused(pair: Pair) -> None:
    envelope, _c = sealed(pair)
    refused = pair.buyer_sends(envelope, base64.b64encode(b"short").decode())
    assert refused.status_code == 400
    assert "32 bytes" in refused.json()["message"]


def test_an_oversize_envelope_is_refused_with_the_limit(pair: Pair, settings: Any) -> None:
    settings.RELAY_E2EE_MAX_ENVELOPE_BYTES = 4096
    envelope, c = sealed(pair, "x" * 5000)
    refused = pair.buyer_sends(envelope, c)
    assert refused.status_code == 400
    assert refused.json()["error"] == "too_large" and "4096" in refused.json()["message"]


def test_an_envelope_to_a_conversation_that_left_the_web_is_refused_and_the_page_told(
    pair: Pair,
) -> None:
    envelope, c = sealed(pair)
    prefer_whatsapp(pair.seller)
    refused = pair.buyer_sends(envelope, c)
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "not_e2ee"
    assert "no longer end-to-end encrypted" in body["message"]
    assert body["state"]["mode"] == "relay" and body["state"]["reason"] == "seller_app"
    assert not Message.objects.filter(e2ee=True).exists()
    # The buyer's page now says what happens to their messages.
    chat = pair.buyer_browser.get(pair.chat).content.decode()
    assert "the relay reads your messages to deliver them to WhatsApp" in chat


def test_a_banned_buyer_sends_nothing_end_to_end(pair: Pair) -> None:
    Ban.objects.create(blind_index=pair.conversation.buyer_endpoint.blind_index)
    snapshot.invalidate()
    refused = pair.buyer_sends(*sealed(pair))
    assert refused.status_code == 422
    assert "can no longer use Perantara" in refused.json()["message"]
    assert not Message.objects.filter(e2ee=True).exists()


def test_a_suspended_buyer_and_a_suspended_seller_pause_the_encrypted_road(pair: Pair) -> None:
    Sanction.objects.create(
        kind=Sanction.Kind.SUSPEND,
        endpoint=pair.conversation.buyer_endpoint,
        until=timezone.now() + dt.timedelta(days=2),
    )
    snapshot.invalidate()
    refused = pair.buyer_sends(*sealed(pair))
    assert refused.status_code == 422 and refused.json()["error"] == "suspended"
    # The seller, writing to a suspended buyer, is told the conversation is paused.
    paused = pair.seller_sends(*sealed(pair))
    assert paused.status_code == 422 and paused.json()["error"] == "other_suspended"
    assert not Message.objects.filter(e2ee=True).exists()


def test_a_blocked_conversation_carries_no_encrypted_message(pair: Pair) -> None:
    lifecycle.block(pair.conversation, by_side=Side.SELLER)
    refused = pair.seller_sends(*sealed(pair))
    assert refused.status_code == 422 and refused.json()["error"] == "not_open"
    assert "unblock" in refused.json()["message"].lower()
    assert not Message.objects.filter(e2ee=True).exists()


def test_the_message_rate_limit_holds_on_the_encrypted_road(pair: Pair, settings: Any) -> None:
    settings.RELAY_LIMIT_MESSAGES_PER_MINUTE = 3  # the opening "Halo" is one
    codes = [pair.buyer_sends(*sealed(pair, f"pesan {n}")).status_code for n in range(3)]
    assert codes == [201, 201, 429]
    assert Message.objects.filter(e2ee=True).count() == 2


def test_the_api_shows_encrypted_messages_as_such_and_device_keys_read_only(
    pair: Pair,
) -> None:
    pair.buyer_sends(*sealed(pair))
    api = pair.seller_browser  # session authentication, as the API allows
    listed = api.get(f"/api/conversations/{pair.conversation.code}/messages/").json()
    encrypted = [m for m in listed["results"] if m["e2ee"]]
    assert len(encrypted) == 1
    assert TEXT not in json.dumps(listed) and '"ct"' not in encrypted[0]["text"]
    devices = api.get(f"/api/conversations/{pair.conversation.code}/devices/")
    assert devices.status_code == 200
    body = devices.json()
    assert body["mode"] == "e2ee"
    assert [d["public_key"] for d in body["devices"]["buyer"]] == [key_b64(pair.buyer_device)]
    assert [d["public_key"] for d in body["devices"]["seller"]] == [key_b64(pair.seller_device)]
    assert set(body) == {"mode", "reason", "app", "conversation", "devices", "safety_code"}
    assert api.post(f"/api/conversations/{pair.conversation.code}/devices/").status_code == 405


def test_the_unread_e_mail_counts_an_encrypted_message_and_carries_none_of_it(
    pair: Pair, mailoutbox: list[Any]
) -> None:
    envelope, c = sealed(pair)
    assert pair.buyer_sends(envelope, c).status_code == 201
    later = timezone.now() + dt.timedelta(minutes=30)
    with time_machine.travel(later, tick=False):
        assert tasks.notify_unread() == 1
    [sent] = mailoutbox
    everything = sent.subject + sent.body + "".join(str(part[0]) for part in sent.alternatives)
    assert "2 unread messages" in everything  # the opening "Halo" and the encrypted one
    ciphertext = json.loads(envelope)["ct"]
    for secret in (TEXT, ciphertext[:16], c, "Halo"):
        assert secret not in everything


def test_a_retired_device_that_comes_back_keeps_the_limit_by_retiring_the_oldest_other(
    pair: Pair, settings: Any
) -> None:
    """RELAY_E2EE_MAX_DEVICES holds when a retired browser is used again: it comes back as the
    newest, and the oldest other device stops getting new messages in its place."""
    settings.RELAY_E2EE_MAX_DEVICES = 2
    url = reverse("relay:seller_device")
    phone, laptop = ref.Device.new(), ref.Device.new()
    assert register(pair.seller_browser, url, key_b64(phone)).status_code == 201
    assert register(pair.seller_browser, url, key_b64(laptop)).status_code == 201

    def live() -> set[str]:
        seller = DeviceKey.objects.exclude(fingerprint=pair.buyer_device.fingerprint)
        return set(seller.filter(retired_at=None).values_list("fingerprint", flat=True))

    assert live() == {phone.fingerprint, laptop.fingerprint}  # the first device retired
    assert register(pair.seller_browser, url, key_b64(pair.seller_device)).status_code == 200
    assert live() == {pair.seller_device.fingerprint, laptop.fingerprint}  # back; phone retired
