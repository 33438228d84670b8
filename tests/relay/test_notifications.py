"""E-mail for sellers away from the inbox: what it says, what it never says, and when it comes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from celery.signals import before_task_publish
from django.core import mail
from django.test import Client
from django.urls import reverse

from contacts import services as contacts
from contacts.models import Endpoint, User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay import tasks
from relay.models import Conversation, Message, Side
from relay.services import outbound
from relay.services.conversations import create_conversation

pytestmark = pytest.mark.django_db

START = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
NUMBER = "+14155550100"
SECRET = "Masih ada? Saya mau lihat sore ini"


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def listing(seller: User) -> Listing:
    return marketplace.create_listing(seller=seller, title="Mountain bike", price=Decimal(3500000))


@pytest.fixture
def buyer(db: None) -> Endpoint:
    endpoint, _ = contacts.get_or_create_endpoint(channel="sms", address=NUMBER)
    return endpoint


def open_conversation(listing: Listing, buyer: Endpoint, text: str = SECRET) -> Conversation:
    conversation, _ = create_conversation(listing=listing, buyer=buyer, buyer_identity=None)
    buyer_writes(conversation, text, first=True)
    return conversation


def buyer_writes(conversation: Conversation, text: str, *, first: bool = False) -> Message:
    return outbound.relay_message(
        conversation=conversation,
        sender_side=Side.BUYER,
        sender=conversation.buyer_endpoint,
        identity=None,
        text=text,
        channel="sms",
        introduce=first,
    )


def everything_in(message: mail.EmailMultiAlternatives) -> str:
    html = "".join(str(content) for content, _type in message.alternatives)
    return f"{message.subject}\n{message.body}\n{html}"


def assert_private(message: mail.EmailMultiAlternatives, *texts: str) -> None:
    """Nothing a buyer wrote and no form of their number is in the e-mail."""
    content = everything_in(message)
    for text in (*texts, NUMBER, NUMBER.lstrip("+"), "4155550100", "555-0100"):
        assert text not in content


def test_a_new_conversation_email_names_the_buyer_s_pseudonym_and_the_listing_only(
    listing: Listing, buyer: Endpoint, mailoutbox: list[Any], clock: Any
) -> None:
    conversation = open_conversation(listing, buyer)

    assert tasks.notify_new_conversation(conversation.pk)

    [sent] = mailoutbox
    assert sent.to == ["sari@example.com"]
    assert sent.subject == f"New conversation: Buyer {conversation.tag} about Mountain bike"
    assert f"Buyer {conversation.tag} wrote about Mountain bike" in sent.body
    link = f"http://127.0.0.1:8000/inbox/{conversation.code}/"
    assert link in sent.body
    html, kind = sent.alternatives[0]
    assert kind == "text/html" and f'href="{link}"' in html
    assert_private(sent, SECRET, "Masih ada")


def test_a_number_typed_into_the_message_stays_out_of_the_email(
    listing: Listing, buyer: Endpoint, mailoutbox: list[Any], clock: Any
) -> None:
    conversation = open_conversation(listing, buyer, text="call me on 0812-3456-7890")
    clock.shift(dt.timedelta(minutes=5))
    buyer_writes(conversation, "or +62 812 3456 7890 on WhatsApp")
    clock.shift(dt.timedelta(minutes=16))

    assert tasks.notify_unread() == 1

    assert_private(mailoutbox[0], "0812", "812 3456", "3456", "7890", "call me", "WhatsApp")


def test_an_indonesian_seller_gets_the_email_in_indonesian(
    listing: Listing, buyer: Endpoint, seller: User, mailoutbox: list[Any], clock: Any
) -> None:
    User.objects.filter(pk=seller.pk).update(language="id")
    conversation = open_conversation(listing, buyer)
    tasks.notify_new_conversation(conversation.pk)
    clock.shift(dt.timedelta(minutes=1))
    buyer_writes(conversation, "Bisa nego?")
    clock.shift(dt.timedelta(minutes=16))
    tasks.notify_unread()

    new, unread = mailoutbox
    assert new.subject == f"Percakapan baru: Pembeli {conversation.tag} tentang Mountain bike"
    assert "Seorang pembeli memulai percakapan" in new.body
    assert unread.subject == (
        f"Pesan belum dibaca dari Pembeli {conversation.tag} tentang Mountain bike"
    )
    assert f"Pembeli {conversation.tag} tentang Mountain bike: 1 pesan belum dibaca" in unread.body
    assert "hapus centang di halaman Saluran" in unread.alternatives[0][0]
    for english in ("Buyer", "New conversation", "unread"):
        assert english not in everything_in(new) + everything_in(unread)
    assert_private(unread, SECRET, "Bisa nego")


def test_unread_messages_are_mailed_after_n_minutes_and_each_only_once(
    listing: Listing, buyer: Endpoint, mailoutbox: list[Any], clock: Any, settings: Any
) -> None:
    settings.RELAY_NOTIFY_UNREAD_MINUTES = 15
    conversation = open_conversation(listing, buyer)
    clock.shift(dt.timedelta(minutes=1))
    buyer_writes(conversation, "Halo?")

    clock.shift(dt.timedelta(minutes=10))
    assert tasks.notify_unread() == 0  # not 15 minutes yet
    clock.shift(dt.timedelta(minutes=6))
    assert tasks.notify_unread() == 1
    assert f"Buyer {conversation.tag} about Mountain bike: 2 unread messages" in mailoutbox[0].body
    clock.shift(dt.timedelta(minutes=30))
    assert tasks.notify_unread() == 0  # the same messages, already mentioned
    assert len(mailoutbox) == 1

    buyer_writes(conversation, "Masih ada?")
    clock.shift(dt.timedelta(minutes=16))
    assert tasks.notify_unread() == 1
    assert "1 unread message" in mailoutbox[1].body  # only the new one
    assert tasks.notify_new_conversation(conversation.pk) is False  # nothing left to tell


def test_messages_the_new_conversation_email_covered_are_not_mailed_again(
    listing: Listing, buyer: Endpoint, mailoutbox: list[Any], clock: Any
) -> None:
    conversation = open_conversation(listing, buyer)
    assert tasks.notify_new_conversation(conversation.pk)
    assert not tasks.notify_new_conversation(conversation.pk)  # a redelivered task
    clock.shift(dt.timedelta(minutes=20))
    assert tasks.notify_unread() == 0
    assert len(mailoutbox) == 1


def test_one_email_covers_all_of_a_seller_s_waiting_conversations(
    listing: Listing, buyer: Endpoint, seller: User, mailoutbox: list[Any], clock: Any
) -> None:
    lamp = marketplace.create_listing(seller=seller, title="Desk lamp", price=Decimal(90000))
    other, _ = contacts.get_or_create_endpoint(channel="sms", address="+14155550111")
    bike_chat = open_conversation(listing, buyer)
    lamp_chat = open_conversation(lamp, other, text="Lampunya warna apa?")
    clock.shift(dt.timedelta(minutes=16))

    assert tasks.notify_unread() == 1

    [sent] = mailoutbox
    assert sent.subject == "Unread messages in 2 conversations"
    assert f"Buyer {bike_chat.tag} about Mountain bike: 1 unread message" in sent.body
    assert f"Buyer {lamp_chat.tag} about Desk lamp: 1 unread message" in sent.body
    assert_private(sent, SECRET, "Lampunya", "+14155550111")


def test_a_seller_who_turned_emails_off_gets_none(
    seller_client: Client, listing: Listing, buyer: Endpoint, mailoutbox: list[Any], clock: Any
) -> None:
    response = seller_client.post(reverse("contacts:notifications"), {}, follow=True)
    assert "E-mail notifications are off." in response.content.decode()

    conversation = open_conversation(listing, buyer)
    clock.shift(dt.timedelta(minutes=16))

    assert not tasks.notify_new_conversation(conversation.pk)
    assert tasks.notify_unread() == 0
    assert mailoutbox == []


def test_a_seller_who_read_the_conversation_gets_nothing(
    seller_client: Client, listing: Listing, buyer: Endpoint, mailoutbox: list[Any], clock: Any
) -> None:
    conversation = open_conversation(listing, buyer)
    clock.shift(dt.timedelta(seconds=30))
    assert (
        seller_client.get(reverse("relay:conversation", args=[conversation.code])).status_code
        == 200
    )

    assert not tasks.notify_new_conversation(conversation.pk)
    clock.shift(dt.timedelta(minutes=16))
    assert tasks.notify_unread() == 0
    assert mailoutbox == []

    clock.shift(dt.timedelta(minutes=1))
    # What arrives while the tab is open is read once the tab's live poll has shown it ...
    buyer_writes(conversation, "Halo?")
    clock.shift(dt.timedelta(seconds=5))
    poll = reverse("relay:inbox_poll")
    asked = {"conversation": conversation.code, "seq": "0", "read": "0", "visible": "1"}
    assert seller_client.get(poll, asked).status_code == 200
    clock.shift(dt.timedelta(minutes=16))
    assert tasks.notify_unread() == 0
    # ... and what arrives after the seller left is unread again.
    buyer_writes(conversation, "Masih ada?")
    clock.shift(dt.timedelta(minutes=16))
    assert tasks.notify_unread() == 1
    assert "1 unread message" in mailoutbox[0].body


def test_a_message_the_seller_answered_from_their_app_is_not_unread(
    listing: Listing, buyer: Endpoint, seller: User, mailoutbox: list[Any], clock: Any
) -> None:
    conversation = open_conversation(listing, buyer)
    clock.shift(dt.timedelta(minutes=2))
    outbound.relay_message(
        conversation=conversation,
        sender_side=Side.SELLER,
        sender=seller.endpoints.get(channel="web"),
        identity=None,
        text="Masih, kak",
        channel="web",
    )
    clock.shift(dt.timedelta(minutes=16))
    assert tasks.notify_unread() == 0


def test_a_seller_on_an_app_gets_no_email_until_they_ask_for_it(
    seller_client: Client,
    listing: Listing,
    buyer: Endpoint,
    seller: User,
    mailoutbox: list[Any],
    clock: Any,
) -> None:
    whatsapp, _ = contacts.get_or_create_endpoint(channel="whatsapp", address="+14155550199")
    contacts.claim_endpoint(user=seller, endpoint=whatsapp)
    contacts.set_preferred_endpoint(user=seller, endpoint=whatsapp)
    page = seller_client.get(reverse("contacts:channels")).content.decode()
    assert 'name="email_notifications" id="id_email_notifications">' in page  # unticked

    conversation = open_conversation(listing, buyer)
    assert not tasks.notify_new_conversation(conversation.pk)

    seller_client.post(reverse("contacts:notifications"), {"email_notifications": "on"})
    clock.shift(dt.timedelta(minutes=16))
    assert tasks.notify_unread() == 1
    assert len(mailoutbox) == 1


def test_the_channels_page_offers_the_setting_checked_for_a_web_inbox_seller(
    seller_client: Client,
) -> None:
    page = seller_client.get(reverse("contacts:channels")).content.decode()

    assert (
        '<label for="id_email_notifications">'
        "E-mail me about new conversations and unread messages</label>"
    ) in page
    assert 'type="checkbox" name="email_notifications" id="id_email_notifications" checked' in page
    assert "after 15 minutes" in page and "never the message or anyone" in page


def test_a_buyer_s_first_message_publishes_the_email_task_with_the_conversation_id_only(
    listing: Listing, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    published: list[tuple[str, Any]] = []

    def capture(sender: str, body: Any, **_: Any) -> None:
        published.append((sender, body))

    before_task_publish.connect(capture)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            Client().post(reverse("relay:buyer_chat_start", args=[listing.code]), {"text": SECRET})
    finally:
        before_task_publish.disconnect(capture)

    conversation = listing.conversations.get()
    [(_name, body)] = [(n, b) for n, b in published if n == "relay.notify_new_conversation"]
    args, kwargs, _embed = body
    assert (list(args), kwargs) == ([conversation.pk], {})
    assert SECRET not in repr(body)

    tasks.notify_new_conversation(*args)
    assert [sent.subject for sent in mailoutbox] == [
        f"New conversation: Buyer {conversation.tag} about Mountain bike"
    ]


def test_two_sweeps_racing_send_the_seller_one_email(
    listing: Listing, buyer: Endpoint, seller: User, mailoutbox: list[Any], clock: Any
) -> None:
    from django.utils import timezone

    from relay.services import notifications

    open_conversation(listing, buyer)
    clock.shift(dt.timedelta(minutes=16))
    # The slower run found the same unread messages before the faster one mailed about them.
    seen_by_slower = notifications._unread(Conversation.objects.all(), before=timezone.now())

    assert tasks.notify_unread() == 1
    assert not notifications._send(seller, seen_by_slower, new=False)
    assert len(mailoutbox) == 1
