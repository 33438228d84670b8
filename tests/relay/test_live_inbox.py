"""The live seller inbox: one poll that answers only what is new, read marks, an ended session."""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Endpoint, User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay.models import Conversation, Delivery, Message
from relay.pipeline import roads
from relay.services import read_marks, web

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def roomy_limits(settings: Any) -> None:
    """Long conversations written in one go: the per-minute limit is not what is tested here."""
    settings.RELAY_LIMIT_MESSAGES_PER_MINUTE = 10_000


@pytest.fixture
def listing(seller: User) -> Listing:
    return marketplace.create_listing(seller=seller, title="Sepeda lipat", price=Decimal(1))


def open_chat(listing: Listing, text: str = "Masih ada?") -> tuple[Endpoint, Conversation]:
    buyer = web.browser_endpoint(signed=None, language="id")
    result = roads.start_chat(
        listing=listing, text=text, buyer=buyer, network_key=web.network_key("10.1.2.3")
    )
    assert result.conversation is not None
    return buyer, result.conversation


def poll(client: Client, **cursors: Any) -> Any:
    response = client.get(reverse("relay:inbox_poll"), cursors)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/json"
    return response.json()


def page_cursors(client: Client, conversation: Conversation) -> dict[str, str]:
    """The cursors the open conversation page starts its live script from."""
    response = client.get(reverse("relay:conversation", args=[conversation.code]))
    context = response.context
    return {
        "conversation": conversation.code,
        "seq": str(context["seq"]),
        "read": str(max([0, *(shown.id for shown in context["shown"])])),
        "since": context["since"],
        "threads": context["threads_version"],
        "visible": "1",
    }


def test_the_poll_returns_only_the_messages_the_page_does_not_have(
    seller_client: Client, listing: Listing
) -> None:
    buyer, conversation = open_chat(listing, "Pesan pertama")
    roads.buyer_message(buyer=buyer, conversation=conversation, text="Pesan kedua")
    cursors = page_cursors(seller_client, conversation)
    roads.buyer_message(buyer=buyer, conversation=conversation, text="Pesan ketiga")
    third = Message.objects.order_by("id").last()
    assert third is not None

    answer = poll(seller_client, **cursors)

    assert "Pesan ketiga" in answer["bubbles"]
    assert "Pesan pertama" not in answer["bubbles"] and "Pesan kedua" not in answer["bubbles"]
    assert answer["bubbles"].count("data-message=") == 1
    assert f'data-message="{third.pk}"' in answer["bubbles"]
    assert poll(seller_client, **{**cursors, "seq": answer["seq"]})["bubbles"] == ""


def test_a_relay_notice_to_the_seller_reaches_the_open_page(
    seller_client: Client, listing: Listing
) -> None:
    buyer, conversation = open_chat(listing)
    cursors = page_cursors(seller_client, conversation)
    roads.buyer_message(buyer=buyer, conversation=conversation, text="STOP")

    answer = poll(seller_client, **cursors)

    assert 'class="bubble relay"' in answer["bubbles"]
    assert "STOP" not in answer["bubbles"]  # the keyword is the relay's business, not a message


def test_an_idle_poll_costs_the_same_statements_for_a_short_and_a_long_conversation(
    seller_client: Client, listing: Listing
) -> None:
    _, short = open_chat(listing, "Halo")
    long_listing = marketplace.create_listing(
        seller=listing.seller, title="Kursi rotan", price=Decimal(2)
    )
    other_buyer, long = open_chat(long_listing, "Halo juga")
    for n in range(100):
        roads.buyer_message(buyer=other_buyer, conversation=long, text=f"Pertanyaan {n}")
        roads.seller_reply(seller=listing.seller, conversation=long, text=f"Jawaban {n}")
    assert Message.objects.filter(conversation=long).count() == 201

    counts = {}
    for conversation in (short, long):
        cursors = page_cursors(seller_client, conversation)
        poll(seller_client, **cursors)  # the first tick after the page: its cursors are current
        with CaptureQueriesContext(connection) as statements:
            answer = poll(seller_client, **cursors)
        assert answer["bubbles"] == "" and "threads" not in answer  # nothing new, nothing sent
        counts[conversation.code] = len(statements)

    assert counts[short.code] == counts[long.code]
    assert counts[long.code] <= 6


def test_the_thread_list_counts_the_buyers_unread_messages_and_previews_the_last_one(
    seller_client: Client, listing: Listing
) -> None:
    buyer, conversation = open_chat(listing, "Masih ada?")
    roads.buyer_message(buyer=buyer, conversation=conversation, text="Bisa kirim ke Bandung?")

    threads = html.unescape(poll(seller_client)["threads"])

    assert "2 unread" in threads
    assert "Bisa kirim ke Bandung?" in threads and "Masih ada?" not in threads
    assert "Web chat" in threads and "Sepeda lipat" in threads
    assert f"Buyer {conversation.tag}" in threads

    seller_client.get(reverse("relay:conversation", args=[conversation.code]))  # read it
    assert "unread" not in poll(seller_client)["threads"]
    roads.seller_reply(seller=listing.seller, conversation=conversation, text="Bisa, Kak")
    assert "You: Bisa, Kak" in html.unescape(poll(seller_client)["threads"])


def test_an_unchanged_thread_list_is_not_sent_again(
    seller_client: Client, listing: Listing
) -> None:
    buyer, conversation = open_chat(listing)
    version = poll(seller_client)["threads_version"]
    assert "threads" not in poll(seller_client, threads=version)

    roads.buyer_message(buyer=buyer, conversation=conversation, text="Halo?")
    changed = poll(seller_client, threads=version)
    assert "Halo?" in changed["threads"] and changed["threads_version"] != version


def test_a_hidden_tab_does_not_mark_new_messages_read(
    seller_client: Client, listing: Listing
) -> None:
    buyer, conversation = open_chat(listing)
    cursors = page_cursors(seller_client, conversation)
    roads.buyer_message(buyer=buyer, conversation=conversation, text="Sudah dibaca?")

    hidden = poll(seller_client, **{**cursors, "visible": "0"})
    assert "Sudah dibaca?" in hidden["bubbles"]
    assert "1 unread" in html.unescape(hidden["threads"])

    newest = Message.objects.order_by("id").last()
    assert newest is not None
    cursors.update(seq=str(hidden["seq"]), read=str(newest.pk))
    shown = poll(seller_client, **cursors)  # the tab comes to the front: it is read
    assert "unread" not in shown["threads"]


def test_a_page_cannot_mark_messages_it_never_showed_as_read(listing: Listing) -> None:
    buyer, conversation = open_chat(listing)
    newest = Message.objects.get().pk
    read_marks.mark_seller_read(conversation=conversation, up_to=newest + 1000)
    roads.buyer_message(buyer=buyer, conversation=conversation, text="Yang baru")

    conversation.refresh_from_db()
    assert conversation.seller_read_message_id == newest
    assert Message.objects.filter(id__gt=conversation.seller_read_message_id).count() == 1


def test_the_poll_tells_the_page_when_its_own_message_changed_state(
    seller_client: Client, listing: Listing
) -> None:
    _, conversation = open_chat(listing)
    roads.seller_reply(seller=listing.seller, conversation=conversation, text="Masih, Kak")
    cursors = page_cursors(seller_client, conversation)
    mine = Message.objects.get(sender_side="seller")
    delivery = Delivery.objects.get(message=mine, kind=Delivery.Kind.RELAY)
    delivery.state = Delivery.State.READ
    delivery.save(update_fields=["state", "updated_at"])  # as a status webhook records it

    answer = poll(seller_client, **cursors)

    assert answer["states"] == {str(mine.pk): '<span class="delivery-read">read</span>'}


def test_a_poll_after_the_session_ended_answers_401_json_not_the_login_page(
    seller_client: Client, listing: Listing
) -> None:
    _, conversation = open_chat(listing)
    seller_client.post(reverse("contacts:logout"))

    response = seller_client.get(reverse("relay:inbox_poll"), {"conversation": conversation.code})

    assert response.status_code == 401
    assert response.json()["error"] == "logged_out"
    assert response.json()["login"].startswith(reverse("contacts:login"))
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_a_poll_with_a_cursor_that_is_not_a_number_is_refused(seller_client: Client) -> None:
    response = seller_client.get(reverse("relay:inbox_poll"), {"seq": "DROP TABLE"})
    assert response.status_code == 400 and response.json()["error"] == "bad_cursor"


def test_another_sellers_conversation_is_not_polled(
    client: Client, other_seller: User, listing: Listing
) -> None:
    _, conversation = open_chat(listing, "Rahasia")
    client.force_login(other_seller)
    response = client.get(reverse("relay:inbox_poll"), {"conversation": conversation.code})
    assert response.status_code == 404
    assert "Rahasia" not in poll(client)["threads"]


@pytest.mark.parametrize(
    "since", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "2026-12-01T10:00:00"]
)
def test_a_poll_with_a_time_at_the_ends_of_the_calendar_is_refused(
    seller_client: Client, since: str
) -> None:
    response = seller_client.get(reverse("relay:inbox_poll"), {"since": since})
    assert response.status_code == 400 and response.json()["error"] == "bad_cursor"
