"""The web chat: one endpoint per browser, starts limited per browser and per network."""

from __future__ import annotations

import html
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from contacts.models import User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay import selectors
from relay.models import Ban, Conversation
from relay.services import snapshot, web

pytestmark = pytest.mark.django_db


@pytest.fixture
def listings(seller: User) -> list[Listing]:
    return [
        marketplace.create_listing(seller=seller, title=f"Item {n}", price=Decimal(10))
        for n in range(3)
    ]


def start(client: Client, listing: Listing, text: str = "Is it available?", **extra: Any) -> str:
    url = reverse("relay:buyer_chat_start", args=[listing.code])
    return html.unescape(client.post(url, {"text": text}, follow=True, **extra).content.decode())


def test_one_browser_is_one_buyer_and_finds_its_conversation_again(
    listings: list[Listing],
) -> None:
    browser = Client()
    start(browser, listings[0])
    start(browser, listings[0], "me again")
    start(browser, listings[1])
    assert Conversation.objects.count() == 2
    assert len({c.buyer_endpoint_id for c in Conversation.objects.all()}) == 1


def test_web_chats_from_one_network_are_limited_across_browsers(
    listings: list[Listing], settings: Any
) -> None:
    settings.RELAY_LIMIT_WEB_CHATS_PER_NETWORK_PER_HOUR = 2
    assert "Keep this page's link" in start(Client(), listings[0])
    assert "Keep this page's link" in start(Client(), listings[1])
    refused = start(Client(), listings[2])
    assert "You are sending too fast" in refused
    assert Conversation.objects.count() == 2
    # Another network is not held back by this one.
    assert "Keep this page's link" in start(Client(), listings[2], REMOTE_ADDR="10.9.8.7")


def test_forwarded_addresses_count_only_behind_a_trusted_proxy(
    listings: list[Listing], settings: Any
) -> None:
    settings.RELAY_LIMIT_WEB_CHATS_PER_NETWORK_PER_HOUR = 1
    spoofed = {"HTTP_X_FORWARDED_FOR": "192.0.2.1"}
    start(Client(), listings[0], **spoofed)
    # Untrusted: the header is ignored, both come from REMOTE_ADDR and the second is refused.
    assert "too fast" in start(Client(), listings[1], HTTP_X_FORWARDED_FOR="192.0.2.2")
    settings.RELAY_TRUSTED_PROXY_HOPS = 1
    assert "too fast" not in start(Client(), listings[1], HTTP_X_FORWARDED_FOR="192.0.2.3")


def test_an_ipv6_household_is_one_network() -> None:
    assert web.network_key("2001:db8:1:2::10") == web.network_key("2001:db8:1:2:ffff::1")
    assert web.network_key("2001:db8:1:2::10") != web.network_key("2001:db8:1:3::10")
    assert "2001" not in web.network_key("2001:db8:1:2::10")


def test_a_banned_browser_cannot_start_another_chat(listings: list[Listing]) -> None:
    browser = Client()
    start(browser, listings[0])
    buyer = Conversation.objects.get().buyer_endpoint
    Ban.objects.create(blind_index=buyer.blind_index)
    snapshot.invalidate()
    assert "can no longer use Perantara" in start(browser, listings[1])
    assert Conversation.objects.count() == 1


def test_a_forged_browser_cookie_gets_a_new_buyer(listings: list[Listing]) -> None:
    browser = Client()
    browser.cookies["perantara_chat"] = "forged"
    start(browser, listings[0])
    assert Conversation.objects.count() == 1


def test_a_web_chat_buyer_who_typed_stop_can_resume_from_the_page(
    listings: list[Listing],
) -> None:
    browser = Client()
    start(browser, listings[0])
    conversation = Conversation.objects.get()
    url = reverse(
        "relay:buyer_chat",
        args=[
            selectors.chat_token(endpoint=conversation.buyer_endpoint, conversation=conversation)
        ],
    )
    response = browser.post(url, {"text": "STOP"}, follow=True)
    page = html.unescape(response.content.decode())
    assert "Done: you won't get more messages" in page and "Resume conversation" in page
    assert 'class="composer"' not in page
    # The STOP retired the link the buyer wrote from; the page they landed on carries its heir.
    url = response.redirect_chain[-1][0]
    page = html.unescape(browser.post(url + "resume/", follow=True).content.decode())
    assert "Resumed." in page and 'class="composer"' in page
    conversation.refresh_from_db()
    assert conversation.status == "open"


@pytest.mark.parametrize(
    ("word", "answer"),
    [("HELP", "flash-warning"), ("BAHASA", "flash-warning"), ("MYDATA", "/privacy/")],
)
def test_a_keyword_as_the_first_web_chat_message_is_answered_on_the_start_page(
    listings: list[Listing], word: str, answer: str
) -> None:
    """No conversation exists yet: the keyword's answer shows where the buyer is, not a 500."""
    browser = Client()
    url = reverse("relay:buyer_chat_start", args=[listings[0].code])
    response = browser.post(url, {"text": word}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == url
    assert answer in response.content.decode()
    assert not Conversation.objects.exists()
    # The browser keeps its endpoint: its next message starts the chat as the same buyer.
    assert web.BROWSER_COOKIE in browser.cookies
    start(browser, listings[0])
    assert Conversation.objects.count() == 1


def test_the_start_page_says_photos_come_after_the_first_message_and_the_chat_takes_them(
    listings: list[Listing],
) -> None:
    """No conversation exists before the first message, so no photo can be stored for it."""
    url = reverse("relay:buyer_chat_start", args=[listings[0].code])
    browser = Client()
    page = html.unescape(browser.get(url).content.decode())
    assert "You can add photos after your first message, once the chat is open." in page
    assert 'type="file"' not in page
    indonesian = html.unescape(Client().get(url, HTTP_ACCEPT_LANGUAGE="id").content.decode())
    assert "Anda dapat menambahkan foto setelah pesan pertama" in indonesian
    chat = start(browser, listings[0])
    assert 'name="photo"' in chat and "Add photo" in chat
