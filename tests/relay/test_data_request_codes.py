"""The "Your data" codes: the same answer for unknown numbers, expiry, single use, attempts,
rate limits, the web-chat cookie, and the MYDATA keyword's shape.

The code a test types is read the way the worker reads it, from the delivery's sealed
parameters (the end-to-end tests read it on the sandbox phone: test_data_requests.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts import services as contacts
from contacts.models import DataRequestCode, Endpoint, User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay import crypto
from relay import services as relay
from relay.models import Conversation, Delivery, Message, Side
from relay.pipeline import keywords
from relay.services import data_requests, outbound

KNOWN = "+6281234567001"
UNKNOWN = "+6281299998888"


@pytest.fixture
def listing(seller: User) -> Listing:
    relay.add_relay_identity(
        channel="whatsapp", provider_id="100000000000001", address="15550001111"
    )
    return marketplace.create_listing(seller=seller, title="Sepeda", price=Decimal("1"), city="")


@pytest.fixture
def buyer(listing: Listing) -> Endpoint:
    """A WhatsApp buyer who has a conversation (stored directly: no worker needed here)."""
    endpoint, _created = contacts.get_or_create_endpoint(channel="whatsapp", address=KNOWN)
    return endpoint


def ask(client: Client, number: str, channel: str = "whatsapp") -> Any:
    return client.post(
        reverse("relay:privacy"), {"channel": channel, "region": "ID", "number": number}
    )


def sent_code(endpoint: Endpoint) -> str:
    delivery = Delivery.objects.filter(
        recipient_endpoint=endpoint, notice_code="data_request_code"
    ).latest("id")
    return outbound.open_secret_params(delivery)["code"]


def type_code(client: Client, code: str) -> Any:
    return client.post(reverse("relay:privacy_code"), {"code": code})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_an_unknown_number_gets_the_same_answer_and_nothing_is_sent(buyer: Endpoint) -> None:
    known, unknown = Client(), Client()
    answers = [ask(known, KNOWN), ask(unknown, UNKNOWN)]
    assert [(a.status_code, a["Location"]) for a in answers] == [
        (302, reverse("relay:privacy_code"))
    ] * 2
    pages = [c.get(reverse("relay:privacy_code")).content.decode() for c in (known, unknown)]
    assert pages[0].replace(pages[0].split('name="csrfmiddlewaretoken" value="')[1][:64], "") == (
        pages[1].replace(pages[1].split('name="csrfmiddlewaretoken" value="')[1][:64], "")
    )
    assert "If we know this number, a code is on its way" in pages[1]
    assert Delivery.objects.filter(notice_code="data_request_code").count() == 1
    # Asking creates no endpoint.
    assert not Endpoint.objects.filter(channel="whatsapp").exclude(pk=buyer.pk).exists()
    # Wrong codes read the same for both, up to the lock.
    code = sent_code(buyer)
    errors = []
    for client in (known, unknown):
        errors.append(type_code(client, wrong(code)).content.decode())
    assert all("That code is not right, or it has expired" in page for page in errors)
    for page in pages + errors:
        assert "81234567001" not in page and "81299998888" not in page


def test_five_wrong_codes_lock_a_known_and_an_unknown_number_alike(buyer: Endpoint) -> None:
    known, unknown = Client(), Client()
    ask(known, KNOWN)
    ask(unknown, UNKNOWN)
    code = sent_code(buyer)
    for _try in range(4):
        type_code(known, wrong(code))
        type_code(unknown, wrong(code))
    last = [type_code(c, wrong(code)).content.decode() for c in (known, unknown)]
    assert all("Too many wrong codes. Ask for a new one." in page for page in last)
    locked = type_code(known, code)
    assert locked.status_code == 200 and "Too many wrong codes" in locked.content.decode()


def test_the_right_code_works_once_and_not_after_ten_minutes(buyer: Endpoint) -> None:
    browser = Client()
    ask(browser, KNOWN)
    code = sent_code(buyer)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11)):
        expired = type_code(browser, code)
    assert "That code is not right, or it has expired" in expired.content.decode()

    ask(browser, KNOWN)
    code = sent_code(buyer)
    assert type_code(browser, code)["Location"] == reverse("relay:privacy_mine")
    reused = Client()
    used = DataRequestCode.objects.latest("id")
    assert used.consumed_at is not None
    reused.get(reverse("relay:privacy_code") + f"?r={used.reference}")
    again = type_code(reused, code)
    assert again.status_code == 200 and "That code is not right" in again.content.decode()
    assert reused.get(reverse("relay:privacy_export")).status_code == 302  # no grant


def test_a_new_code_replaces_the_old_one(buyer: Endpoint) -> None:
    browser = Client()
    ask(browser, KNOWN)
    old = sent_code(buyer)
    ask(browser, KNOWN)
    new = sent_code(buyer)
    if old != new:
        assert "not right" in type_code(browser, old).content.decode()
    assert type_code(browser, new).status_code == 302


def test_codes_are_stored_only_as_a_keyed_hash(buyer: Endpoint) -> None:
    ask(Client(), KNOWN)
    code = sent_code(buyer)
    stored = DataRequestCode.objects.get()
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    delivery = Delivery.objects.get(notice_code="data_request_code")
    assert delivery.notice_params == {} and code.encode() not in bytes(
        delivery.sealed_params or b""
    )


def test_asking_too_often_for_one_number_is_refused_known_or_not(buyer: Endpoint) -> None:
    for number in (KNOWN, UNKNOWN):
        for _ in range(3):
            assert ask(Client(), number).status_code == 302
        refused = ask(Client(), number)
        assert refused.status_code == 200
        assert "Too many codes were asked for" in refused.content.decode()


def test_one_network_cannot_probe_many_numbers(db: None) -> None:
    browser = Client()
    for n in range(10):
        assert ask(browser, f"+62812345670{n:02d}").status_code == 302
    assert "Too many codes were asked for" in ask(browser, "+6281234567099").content.decode()


def test_an_invalid_number_is_named_and_messenger_is_sent_to_the_keyword(db: None) -> None:
    page = ask(Client(), "bukan nomor").content.decode()
    assert "look like a phone number" in page
    messenger = Client().post(
        reverse("relay:privacy"), {"channel": "messenger", "region": "ID", "number": "123"}
    )
    assert messenger.status_code == 200  # the form offers WhatsApp and SMS only
    assert "Send MYDATA (or DATAKU) to Perantara in the app" in messenger.content.decode()


def test_the_page_speaks_indonesian(db: None) -> None:
    html = Client().get(reverse("relay:privacy"), headers={"accept-language": "id"}).content
    text = html.decode()
    assert "Data Anda" in text and "Kirimi saya kode" in text and "Your data" not in text


def test_a_web_chat_buyer_exports_and_erases_with_their_browser_cookie(listing: Listing) -> None:
    browser = Client()
    started = browser.post(
        reverse("relay:buyer_chat_start", args=[listing.code]), {"text": "Masih ada?"}
    )
    chat_url = started["Location"]
    assert reverse("relay:privacy_web") in browser.get(chat_url).content.decode()
    conversation = Conversation.objects.get()
    buyer_id = conversation.buyer_endpoint_id

    assert Client().post(reverse("relay:privacy_web")).status_code == 302  # no cookie: no grant
    granted = browser.post(reverse("relay:privacy_web"))
    assert granted["Location"] == reverse("relay:privacy_mine")
    document = browser.get(reverse("relay:privacy_export")).json()
    assert document["addresses"][0]["channel"] == "web"
    assert document["conversations_as_buyer"][0]["messages"][0]["text"] == "Masih ada?"

    assert "This cannot be undone" in browser.get(reverse("relay:privacy_erase")).content.decode()
    erased = browser.post(reverse("relay:privacy_erase"))
    assert erased.cookies["perantara_chat"].value == ""  # the browser forgets its endpoint
    message = Message.objects.get(conversation=conversation, sender_side=Side.BUYER)
    key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    with pytest.raises(crypto.BodyUnreadable):
        crypto.decrypt_body(key, message.uid, message.body_sealed)
    gone = browser.get(chat_url)  # the conversation is closed and its link names no one
    assert gone.status_code == 410
    assert "Masih ada?" not in gone.content.decode()
    browser.post(reverse("relay:buyer_chat_start", args=[listing.code]), {"text": "Halo lagi"})
    fresh = Conversation.objects.exclude(pk=conversation.pk).get()
    assert fresh.buyer_endpoint_id != buyer_id


def test_a_seller_account_address_is_exported_but_not_erased_here(
    seller: User, buyer: Endpoint
) -> None:
    contacts.claim_endpoint(user=seller, endpoint=buyer)
    browser = Client()
    ask(browser, KNOWN)
    type_code(browser, sent_code(buyer))
    assert browser.get(reverse("relay:privacy_export")).status_code == 200
    refused = browser.post(reverse("relay:privacy_erase"))
    assert refused["Location"] == reverse("relay:privacy_mine")
    buyer.refresh_from_db()
    assert contacts.endpoint_address(buyer) == KNOWN


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("MYDATA", keywords.MY_DATA),
        ("dataku!", keywords.MY_DATA),
        ("#K7Q2 mydata", keywords.MY_DATA),
        ("DATA", None),  # an everyday answer, not a keyword
        ("mydata please", None),
        ("kirim data saya", None),
    ],
)
def test_only_the_word_alone_is_the_data_keyword(text: str, word: str | None) -> None:
    assert keywords.keyword_of(text) == word


def test_purging_deletes_used_and_expired_codes_and_keeps_live_ones(buyer: Endpoint) -> None:
    from relay.services import data_requests

    ask(Client(), KNOWN)  # replaced (used) by the next one
    ask(Client(), KNOWN)
    assert data_requests.purge_data_request_codes() == 1
    live = DataRequestCode.objects.get()
    assert data_requests.purge_data_request_codes(now=live.expires_at) == 1
    assert not DataRequestCode.objects.exists()


def test_a_whatsapp_username_without_a_number_is_found_by_its_id(db: None) -> None:
    """WhatsApp buyers known only by their business-scoped user id (BSUID) can ask too."""
    known, _created = contacts.get_or_create_endpoint(
        channel="whatsapp", address="ID.1502576394655843"
    )
    found = data_requests.find_endpoint(channel="whatsapp", raw_address="ID.1502576394655843")
    assert found is not None and found.pk == known.pk
