"""Actions a seller cannot simply take back ask first, in a <dialog> inside the real form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from contacts import services as contacts
from contacts.models import User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay.api import tokens
from relay.models import Conversation


@pytest.fixture(autouse=True)
def english_afterwards() -> Iterator[None]:
    """LocaleMiddleware activates a language per request: leave none behind for other tests."""
    yield
    translation.deactivate()


@pytest.fixture
def listing(seller: User) -> Listing:
    return marketplace.create_listing(
        seller=seller, title="Mountain bike", price=Decimal("3500000"), city="Bandung"
    )


@pytest.fixture
def conversation(listing: Listing) -> Conversation:
    response = Client().post(
        reverse("relay:buyer_chat_start", args=[listing.code]), {"text": "Masih ada?"}
    )
    assert response.status_code == 302
    return Conversation.objects.get(listing=listing)


@dataclass(frozen=True)
class Action:
    form_action: str  # the URL the real form posts to
    english: tuple[str, str, str]  # title, explanation, confirm button
    indonesian: tuple[str, str, str]


def page_url(name: str, seller: User, listing: Listing, conversation: Conversation) -> str:
    if name == "block":
        return reverse("relay:conversation", args=[conversation.code])
    if name in ("sold", "close", "rotate"):
        return reverse("marketplace:listing_edit", args=[listing.code])
    if name == "remove":
        endpoint, _ = contacts.get_or_create_endpoint(channel="sms", address="+14155550100")
        contacts.claim_endpoint(user=seller, endpoint=endpoint)
        return reverse("contacts:channels")
    tokens.create_api_token(user=seller, name="shop backend")
    return reverse("api:tokens")


ACTIONS = {
    "block": Action(
        "/block/",
        (
            "Block this buyer?",
            "The buyer can no longer write to you here. You can unblock them later from this "
            "conversation.",
            "Block buyer",
        ),
        ("Blokir pembeli ini?", "Anda bisa membuka blokirnya nanti", "Blokir pembeli"),
    ),
    "sold": Action(
        "/sold/",
        (
            "Mark this listing as sold?",
            "Buyers can no longer start conversations about it.",
            "Mark as sold",
        ),
        ("Tandai iklan ini terjual?", "Pembeli tidak bisa lagi memulai", "Tandai terjual"),
    ),
    "close": Action(
        "/close/",
        ("Close this listing?", "You can publish it again later.", "Close listing"),
        ("Tutup iklan ini?", "Anda bisa menayangkannya lagi nanti.", "Tutup iklan"),
    ),
    "rotate": Action(
        "/rotate/",
        (
            "Replace this listing's handle?",
            "Buyers who know the old handle will be told it was replaced; links and QR codes "
            "with it stop working.",
            "Issue a new handle",
        ),
        ("Ganti kode iklan ini?", "tautan dan kode QR dengan kode lama", "Buat kode baru"),
    ),
    "remove": Action(
        "/remove/",
        ("Remove SMS?", "arrive only in your web inbox", "Remove channel"),
        ("Hapus SMS?", "hanya masuk ke kotak masuk web Anda", "Hapus saluran"),
    ),
    "revoke": Action(
        "/revoke/",
        ("Revoke the token “shop backend”?", "This cannot be undone", "Revoke token"),
        ("Cabut token “shop backend”?", "Ini tidak bisa dibatalkan", "Cabut token"),
    ),
}


def dialog_in_form(html: str, form_action: str) -> str:
    """The <dialog> inside the POST form whose action ends with `form_action`."""
    for form in re.findall(
        r"<form method=\"post\" action=\"([^\"]*)\"[^>]*>(.*?)</form>", html, re.S
    ):
        action, body = form
        if action.endswith(form_action):
            match = re.search(r"<dialog class=\"confirm\".*?</dialog>", body, re.S)
            assert match, f"the {action} form has no confirmation dialog"
            return match.group(0)
    raise AssertionError(f"no POST form to …{form_action} on the page")


@pytest.mark.parametrize("name", ACTIONS)
@pytest.mark.parametrize("language", ["en", "id"])
def test_an_action_that_cannot_be_taken_back_asks_first_with_an_explanation(
    name: str,
    language: str,
    seller_client: Any,
    seller: User,
    listing: Listing,
    conversation: Conversation,
) -> None:
    action = ACTIONS[name]
    url = page_url(name, seller, listing, conversation)

    response = seller_client.get(url, headers={"accept-language": language})

    assert response.status_code == 200
    html = response.content.decode()
    dialog = dialog_in_form(html, action.form_action)
    title, text, confirm = action.english if language == "en" else action.indonesian
    assert title in dialog and text in dialog
    assert re.search(
        rf"<button type=\"submit\" class=\"danger\" data-confirm-submit>{confirm}<", dialog
    )
    cancel = "Cancel" if language == "en" else "Batal"
    assert f"data-confirm-cancel autofocus>{cancel}</button>" in dialog
    assert 'aria-labelledby="' in dialog and 'aria-describedby="' in dialog
    assert "/static/confirm.js" in html


def test_without_javascript_the_form_still_posts_directly(
    seller_client: Any, listing: Listing
) -> None:
    # The dialog only adds a question in the browser; the POST itself needs nothing extra.
    response = seller_client.post(
        reverse("marketplace:listing_action", args=[listing.code, "sold"])
    )

    assert response.status_code == 302
    listing.refresh_from_db()
    assert listing.status == Listing.Status.SOLD
