"""End-to-end encrypted bodies on the server: shredded and erased like any body, never read as
text by the data export, the API or a delivery to a platform."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from contacts.models import User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay import crypto
from relay.api.tokens import create_api_token
from relay.models import Conversation, Delivery, Message, Report, Side
from relay.services import accounts, delivery, evidence, web
from relay.services.accounts import E2EE_EXPORT_NOTE
from tests.ops.conftest import days_ago
from tests.relay.e2ee_world import Chat, e2ee_message

pytestmark = pytest.mark.django_db
SECRET = "My address is Jalan Melati 12, come at 7"


@pytest.fixture
def listing(seller: User) -> Listing:
    return marketplace.create_listing(seller=seller, title="Mountain bike", price=Decimal(3500000))


@pytest.fixture
def chat(listing: Listing, seller_client: Client) -> Chat:
    return Chat(listing, seller_client)


def envelope_of(message: Message) -> str:
    """What the relay can open of an E2EE body: the browsers' envelope, never the text."""
    conversation = Conversation.objects.get(pk=message.conversation_id)
    message.refresh_from_db()
    key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    return crypto.decrypt_body(key, message.uid, message.body_sealed)


def test_purge_shreds_e2ee_ciphertext_with_the_conversation_key(chat: Chat) -> None:
    message, _claim = e2ee_message(chat.conversation, Side.SELLER, SECRET)
    assert '"devices"' in envelope_of(message)  # opens before: the test can fail
    Conversation.objects.filter(pk=chat.conversation.pk).update(
        status="closed", closed_at=days_ago(120)
    )

    call_command("purge", stdout=io.StringIO(), stderr=io.StringIO())

    chat.conversation.refresh_from_db()
    assert chat.conversation.wrapped_key is None
    with pytest.raises(crypto.BodyUnreadable):
        envelope_of(message)


def test_delete_user_shreds_the_sellers_e2ee_conversations(chat: Chat, seller: User) -> None:
    seller_said, _ = e2ee_message(chat.conversation, Side.SELLER, SECRET)
    buyer_said, _ = e2ee_message(chat.conversation, Side.BUYER, "See you there")
    assert envelope_of(seller_said) and envelope_of(buyer_said)

    call_command("delete_user", username="sari", yes=True, stdout=io.StringIO())

    for message in (seller_said, buyer_said):
        with pytest.raises(crypto.BodyUnreadable):
            envelope_of(message)


def test_buyer_erasure_overwrites_their_e2ee_bodies_and_keeps_the_sellers(chat: Chat) -> None:
    buyer_said, _ = e2ee_message(chat.conversation, Side.BUYER, SECRET)
    seller_said, _ = e2ee_message(chat.conversation, Side.SELLER, "Fine, 7 it is")
    before = bytes(buyer_said.body_sealed)

    summary = accounts.erase_endpoint_data(endpoints=[chat.conversation.buyer_endpoint])

    assert summary.messages_overwritten == 2  # the web-chat opener and the E2EE message
    buyer_said.refresh_from_db()
    assert bytes(buyer_said.body_sealed) != before
    assert len(bytes(buyer_said.body_sealed)) == len(before)
    with pytest.raises(crypto.BodyUnreadable):
        envelope_of(buyer_said)  # the key lives on, the ciphertext is noise
    assert '"devices"' in envelope_of(seller_said)  # the seller's record stays theirs


def test_the_data_export_lists_e2ee_messages_as_unreadable_to_the_relay(
    chat: Chat, seller: User
) -> None:
    e2ee_message(chat.conversation, Side.SELLER, SECRET)
    as_seller = accounts.export_user_data(user=seller)
    as_buyer = accounts.export_endpoint_data(endpoints=[chat.conversation.buyer_endpoint])
    for document in (as_seller, as_buyer):
        dumped = json.dumps(document)
        assert '"devices"' not in dumped and SECRET not in dumped
    [conversation] = as_seller["listings"][0]["conversations"]
    first, encrypted = conversation["messages"]
    assert first["text"] == "Is the bike still available?"
    assert encrypted["from"] == "you" and encrypted["text"] is None
    assert encrypted["end_to_end_encrypted"] is True and encrypted["expired"] is False
    assert encrypted["note"] == E2EE_EXPORT_NOTE == "end-to-end encrypted: the relay cannot read it"
    buyer_view = as_buyer["conversations_as_buyer"][0]["messages"][-1]
    assert buyer_view["note"] == E2EE_EXPORT_NOTE and buyer_view["from"].startswith("Seller")


def test_the_api_shows_an_e2ee_message_as_an_encrypted_marker(chat: Chat, seller: User) -> None:
    e2ee_message(chat.conversation, Side.BUYER, SECRET)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {create_api_token(user=seller, name='b').secret}")
    url = reverse("api:messages", args=[chat.conversation.code])
    listed = api.get(url).json()["results"]
    assert [(m["text"], m["e2ee"]) for m in listed] == [
        ("Is the bike still available?", False),
        ("Encrypted message", True),
    ]
    indonesian = api.get(url, HTTP_ACCEPT_LANGUAGE="id").json()["results"]
    assert indonesian[-1]["text"] == "Pesan terenkripsi"
    assert '"devices"' not in api.get(url).content.decode()


def test_a_delivery_of_an_e2ee_message_to_a_platform_never_sends_the_envelope(
    chat: Chat, listing: Listing
) -> None:
    message, _ = e2ee_message(chat.conversation, Side.BUYER, SECRET)
    leg = Delivery(
        message=message,
        conversation=chat.conversation,
        recipient_endpoint=web.seller_web_endpoint(listing.seller),
        recipient_side=Side.SELLER,
        channel="whatsapp",
    )
    text = delivery.render(leg)
    assert "Encrypted message: open the web chat or the web inbox to read it." in text
    assert '"devices"' not in text and SECRET not in text


def test_franked_evidence_is_shredded_by_purge_after_the_window_and_not_before(
    chat: Chat,
) -> None:
    _message, claim = e2ee_message(chat.conversation, Side.SELLER, SECRET)
    chat.buyer_reports([claim])
    report = Report.objects.get()
    Report.objects.filter(pk=report.pk).update(status="dismissed", resolved_at=days_ago(10))

    call_command("purge", stdout=io.StringIO(), stderr=io.StringIO())

    report.refresh_from_db()
    [item] = evidence.open_report_fields(report).evidence  # inside the window: still readable
    assert (item["kind"], item["verified"], item["text"]) == ("franked", True, SECRET)

    Report.objects.filter(pk=report.pk).update(resolved_at=days_ago(200))
    call_command("purge", stdout=io.StringIO(), stderr=io.StringIO())

    report.refresh_from_db()
    assert report.evidence_sealed is None and report.wrapped_key is None
    with pytest.raises(evidence.EvidenceShredded):
        evidence.open_report_fields(report)


def test_buyer_erasure_shreds_the_franked_evidence_of_their_report(chat: Chat) -> None:
    _message, claim = e2ee_message(chat.conversation, Side.SELLER, SECRET)
    chat.buyer_reports([claim])
    report = Report.objects.get()
    assert evidence.open_report_fields(report).evidence[0]["text"] == SECRET

    accounts.erase_endpoint_data(endpoints=[chat.conversation.buyer_endpoint])

    report.refresh_from_db()
    with pytest.raises(evidence.EvidenceShredded):
        evidence.open_report_fields(report)
