"""Buyer web-chat links: they expire, renew while used, die with an end, a block or a close, and
refuse tampering; a refused link says what happened and shows no history."""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core import signing
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay import selectors
from relay.models import Conversation, Message, Report, Side
from relay.pipeline import roads
from relay.services import lifecycle

pytestmark = pytest.mark.django_db

SECRET = "Jemput di Jalan Kenanga nomor tujuh"  # the history a refused link must never show
DAY = dt.timedelta(days=1)


@pytest.fixture
def listing(seller: User) -> Listing:
    return marketplace.create_listing(seller=seller, title="Sepeda lipat", price=Decimal(900))


@pytest.fixture(autouse=True)
def thirty_days(settings: Any) -> None:
    settings.RELAY_CHAT_LINK_DAYS = 30


class Chat:
    """A buyer's browser in a web chat the seller has answered."""

    def __init__(self, listing: Listing, seller: User) -> None:
        self.browser = Client()
        self.listing = listing
        response = self.browser.post(
            reverse("relay:buyer_chat_start", args=[listing.code]), {"text": "Masih ada?"}
        )
        assert response.status_code == 302, response.content
        self.url: str = response["Location"]
        self.conversation = Conversation.objects.get(listing=listing)
        roads.seller_reply(seller=seller, conversation=self.conversation, text=SECRET)

    def page(self, url: str | None = None, **extra: Any) -> tuple[int, str]:
        response = self.browser.get(url or self.url, **extra)
        return response.status_code, html.unescape(response.content.decode())


@pytest.fixture
def chat(listing: Listing, seller: User) -> Chat:
    return Chat(listing, seller)


def link_on(page: str) -> str:
    """The link the chat page carries on with (its script puts it in the address bar)."""
    found = re.search(r'data-chat-link="([^"]+)"', page)
    assert found, page
    return found.group(1)


def every_chat_url(chat: Chat, url: str) -> list[tuple[str, str]]:
    """Each way into a chat with a link: the page, the poll, writing, the lifecycle, reporting."""
    return [
        ("get", url),
        ("get", url + "messages/"),
        ("post", url),
        ("post", url + "block/"),
        ("post", url + "unblock/"),
        ("post", url + "resume/"),
        ("post", url + "report/"),
    ]


def assert_refused_everywhere(chat: Chat, url: str, *, status: int, says: str) -> None:
    messages, reports = Message.objects.count(), Report.objects.count()
    state = Conversation.objects.values_list("status", "blocked_by", "ended_by").get()
    for method, target in every_chat_url(chat, url):
        data = {"text": "are you there?", "reason": "spam"} if method == "post" else {}
        response = getattr(chat.browser, method)(target, data)
        page = html.unescape(response.content.decode())
        assert response.status_code == status, (method, target)
        assert says in page, (method, target)
        assert SECRET not in page, (method, target)
        assert 'class="composer"' not in page and "data-chat-link" not in page
    # Nothing a refused link asked for was done.
    assert (Message.objects.count(), Report.objects.count()) == (messages, reports)
    assert Conversation.objects.values_list("status", "blocked_by", "ended_by").get() == state


def test_a_chat_link_opens_the_buyers_chat_and_is_not_cached(chat: Chat) -> None:
    response = chat.browser.get(chat.url)
    page = html.unescape(response.content.decode())

    assert response.status_code == 200
    assert SECRET in page and 'class="composer"' in page
    assert link_on(page) == chat.url  # young: the page keeps the link it was opened with
    assert "no-store" in response["Cache-Control"]
    poll = chat.browser.get(chat.url + "messages/")
    assert SECRET in poll.content.decode() and "X-Chat-Link" not in poll


def test_a_link_older_than_the_chat_link_days_is_refused_without_history(chat: Chat) -> None:
    with time_machine.travel(timezone.now() + 30 * DAY + dt.timedelta(minutes=1)):
        status, page = chat.page()
        assert_refused_everywhere(chat, chat.url, status=410, says="This chat link has expired")

    assert status == 410
    assert "Chat links stop working after 30 days" in page
    # What the buyer can do: start again from the listing page.
    assert reverse("marketplace:listing_public", args=[chat.listing.code]) in page


def test_a_link_used_near_its_end_is_renewed_and_the_renewed_link_lives_on(chat: Chat) -> None:
    with time_machine.travel(timezone.now() + 29 * DAY):
        status, page = chat.page()
        renewed = link_on(page)
        assert status == 200 and SECRET in page
        assert renewed != chat.url
        # The forms and the poll of the page use the renewed link too.
        assert f'data-poll="{renewed}messages/"' in page
        assert f'action="{renewed}report/"' in page
    with time_machine.travel(timezone.now() + 58 * DAY):
        assert chat.page()[0] == 410  # the old link, 58 days old
        status, page = chat.page(renewed)  # the renewed one, 29 days old
        assert status == 200 and SECRET in page


def test_a_poll_near_the_links_end_hands_the_page_a_renewed_link(chat: Chat) -> None:
    with time_machine.travel(timezone.now() + 10 * DAY):
        poll = chat.browser.get(chat.url + "messages/")
        renewed = poll["X-Chat-Link"]
        assert SECRET in poll.content.decode()
    with time_machine.travel(timezone.now() + 35 * DAY):
        status, page = chat.page(renewed)
        assert status == 200 and SECRET in page


def seller_blocks(chat: Chat, seller_client: Client) -> None:
    seller_client.post(reverse("relay:conversation_block", args=[chat.conversation.code]))


def seller_stops(chat: Chat, seller_client: Client) -> None:
    seller_client.post(
        reverse("relay:conversation", args=[chat.conversation.code]), {"text": "STOP"}
    )


def moderator_blocks(chat: Chat, seller_client: Client) -> None:
    lifecycle.block(chat.conversation, by_side=Side.RELAY)


def it_closes_when_idle(chat: Chat, seller_client: Client) -> None:
    assert lifecycle.close_idle(now=timezone.now() + 61 * DAY) == 1


ENDINGS: dict[str, Callable[[Chat, Client], None]] = {
    "the seller blocks": seller_blocks,
    "the seller types STOP": seller_stops,
    "a moderator blocks": moderator_blocks,
    "it closes when idle": it_closes_when_idle,
}


@pytest.mark.parametrize("ending", ENDINGS)
def test_after_the_conversation_ends_the_old_link_shows_no_history_anywhere(
    chat: Chat, seller_client: Client, ending: str
) -> None:
    assert SECRET in chat.page()[1]
    ENDINGS[ending](chat, seller_client)
    assert Conversation.objects.get().status != "open"

    status, page = chat.page()
    assert status == 410 and "This chat has ended" in page
    assert reverse("marketplace:listing_public", args=[chat.listing.code]) in page
    assert_refused_everywhere(chat, chat.url, status=410, says="This chat has ended")


def test_a_seller_who_unblocks_does_not_revive_the_old_link_but_the_buyer_can_come_back(
    chat: Chat, seller_client: Client
) -> None:
    seller_blocks(chat, seller_client)
    seller_client.post(reverse("relay:conversation_unblock", args=[chat.conversation.code]))

    assert chat.page()[0] == 410  # copied before the block: dead for good
    # From the listing page, the same browser finds its conversation again.
    again = chat.browser.post(
        reverse("relay:buyer_chat_start", args=[chat.listing.code]), {"text": "Halo lagi"}
    )
    status, page = chat.page(again["Location"])
    assert status == 200 and SECRET in page and "Halo lagi" in page


def test_a_buyer_who_blocks_is_handed_the_new_link_and_the_copied_one_dies(chat: Chat) -> None:
    copied = chat.url
    response = chat.browser.post(chat.url + "block/", follow=True)
    page = html.unescape(response.content.decode())
    new_link = response.redirect_chain[-1][0]

    assert "Blocked. You can unblock" in page and SECRET in page and "Unblock" in page
    assert new_link != copied
    assert_refused_everywhere(chat, copied, status=410, says="This chat has ended")
    page = html.unescape(chat.browser.post(new_link + "unblock/", follow=True).content.decode())
    assert "Unblocked." in page and 'class="composer"' in page and SECRET in page


def test_a_buyer_who_types_stop_can_resume_from_the_page_they_land_on(chat: Chat) -> None:
    response = chat.browser.post(chat.url, {"text": "BERHENTI"}, follow=True)
    landed = response.redirect_chain[-1][0]

    assert landed != chat.url and chat.page()[0] == 410
    page = html.unescape(chat.browser.post(landed + "resume/", follow=True).content.decode())
    assert "Resumed." in page and SECRET in page


def tampered(token: str) -> list[str]:
    payload, stamp, signature = token.split(":")
    other = signing.dumps({"e": "X" * 12, "c": "Y" * 12, "g": 0}, salt="another-purpose")
    forged = signing.b64_encode(b'{"e":"AAAAAAAAAAAA","c":"BBBBBBBBBBBB","g":0}').decode()
    return [
        f"{payload}:{stamp}:{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}",
        f"{forged}:{stamp}:{signature}",  # another conversation under this link's signature
        f"{payload}:{signing.b62_encode(signing.b62_decode(stamp) + 86400)}:{signature}",
        payload,  # cut short
        other,  # signed, but for another purpose
        "not-a-link",
    ]


def test_a_tampered_link_is_refused_as_not_valid_without_history(chat: Chat) -> None:
    token = chat.url.split("/")[2]
    for forged in tampered(token):
        url = reverse("relay:buyer_chat", args=[forged])
        status, page = chat.page(url)
        assert status == 404, forged
        assert "This chat link is not valid" in page and SECRET not in page
        assert_refused_everywhere(chat, url, status=404, says="This chat link is not valid")


def test_the_refusal_pages_speak_indonesian(chat: Chat) -> None:
    with time_machine.travel(timezone.now() + 31 * DAY):
        status, page = chat.page(HTTP_ACCEPT_LANGUAGE="id")
    assert status == 410 and "Tautan obrolan ini sudah kedaluwarsa" in page
    lifecycle.block(chat.conversation, by_side=Side.RELAY)
    assert "Obrolan ini sudah berakhir" in chat.page(HTTP_ACCEPT_LANGUAGE="id")[1]
    bad = reverse("relay:buyer_chat", args=["not-a-link"])
    assert "Tautan obrolan ini tidak valid" in chat.page(bad, HTTP_ACCEPT_LANGUAGE="id")[1]


def test_an_open_chat_link_is_checked_against_the_generation_it_was_issued_at(
    chat: Chat,
) -> None:
    """The selector itself: the page's rule holds for any caller."""
    token = chat.url.split("/")[2]
    assert selectors.open_chat_link(token).conversation == chat.conversation
    lifecycle.end(chat.conversation, by_side=Side.SELLER)
    with pytest.raises(selectors.ChatLinkRefused) as refused:
        selectors.open_chat_link(token)
    assert refused.value.reason == "ended" and refused.value.status == 410
