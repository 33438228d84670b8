"""A seller copies, shares and prints a handle; a buyer finds a listing by typing one."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
from django.conf import settings
from django.urls import reverse

from contacts import services as contacts
from contacts.models import User
from marketplace import handles, sharing
from marketplace import services as marketplace
from marketplace.models import Listing

pytestmark = pytest.mark.django_db

SELLER_NUMBER = "+6281234567890"


@pytest.fixture
def bike(seller: User) -> Listing:
    return marketplace.create_listing(seller=seller, title="Mountain bike", price=Decimal(3500000))


def page_of(response: Any) -> str:
    return html.unescape(response.content.decode())


def modules_of(svg: str) -> list[list[int]]:
    """Read the dark modules back out of segno's SVG path: one `h` run per stretch of dark."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1)) // 4  # type: ignore[union-attr]
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    grid = [[0] * size for _ in range(size)]
    x = y = 0.0
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            for column in range(int(x), int(x + float(a))):
                grid[int(y)][column] = 1
            x += float(a)
    return grid


def test_the_qr_code_on_the_dashboard_holds_the_public_listing_url(
    bike: Listing, seller_client: Any
) -> None:
    url = sharing.public_listing_url(bike)
    assert url == f"{settings.RELAY_PUBLIC_URL}/l/{bike.code}/"

    page = page_of(seller_client.get(reverse("marketplace:dashboard")))
    svg = re.search(r'data-testid="qr">(<svg.*?</svg>)', page, re.S).group(1)  # type: ignore[union-attr]
    expected = segno.make(url, error="m", micro=False)
    border = 4
    drawn = [row[border:-border] for row in modules_of(svg)[border:-border]]
    assert drawn == [list(row) for row in expected.matrix]
    assert drawn != [list(row) for row in segno.make(url + "x", error="m").matrix]
    assert 'role="img" aria-label="QR code for the listing page of' in svg


def test_share_links_carry_the_handle_and_the_listing_url_and_never_the_number(
    bike: Listing, seller: User, seller_client: Any
) -> None:
    phone, _created = contacts.get_or_create_endpoint(channel="whatsapp", address=SELLER_NUMBER)
    contacts.claim_endpoint(user=seller, endpoint=phone)
    handle = handles.live_handle(bike)
    assert handle is not None
    url = sharing.public_listing_url(bike)

    page = page_of(seller_client.get(reverse("marketplace:dashboard")))
    links = re.findall(r'href="([^"]+)"[^>]*data-testid="share-link"', page)
    assert len(links) == 2
    whatsapp, telegram = (urlsplit(link) for link in links)
    assert (whatsapp.netloc, whatsapp.path) == ("wa.me", "/")
    text = parse_qs(whatsapp.query)["text"][0]
    assert handle.display in text and text.endswith(url)
    assert telegram.netloc == "t.me"
    assert parse_qs(telegram.query)["url"] == [url]
    assert handle.display in parse_qs(telegram.query)["text"][0]
    digits = SELLER_NUMBER.lstrip("+")
    for link in links:
        assert digits not in link and digits[2:] not in link
    assert f'data-copy="{handle.display}"' in page and f'data-copy="{url}"' in page
    assert 'data-copied="Copied"' in page


def test_a_paused_handle_is_not_offered_for_sharing(bike: Listing, seller_client: Any) -> None:
    marketplace.mark_listing_sold(listing=bike)
    page = page_of(seller_client.get(reverse("marketplace:dashboard")))
    assert 'data-testid="share"' not in page
    assert "(Paused)" in page


def test_a_buyer_types_a_handle_and_lands_on_the_listing(bike: Listing, client: Any) -> None:
    handle = handles.live_handle(bike)
    assert handle is not None
    typed = handle.code.lower()  # no dash, lower case, as people type it
    response = client.get(reverse("marketplace:find_listing"), {"handle": typed}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("marketplace:listing_public", args=[bike.code])
    assert "Mountain bike" in page_of(response)


def test_an_unknown_or_replaced_handle_finds_nothing_and_says_so(
    bike: Listing, client: Any
) -> None:
    old = handles.live_handle(bike)
    assert old is not None
    marketplace.rotate_listing_handle(listing=bike)
    for typed in (old.display, "ZZZZ-ZZZZ"):
        response = client.get(reverse("marketplace:find_listing"), {"handle": typed})
        assert response.status_code == 404
        assert f"No listing has the handle {typed}." in page_of(response)

    response = client.get(
        reverse("marketplace:find_listing"), {"handle": "ZZZZ-ZZZZ"}, HTTP_ACCEPT_LANGUAGE="id"
    )
    assert "Tidak ada iklan dengan kode ZZZZ-ZZZZ." in page_of(response)


def test_a_draft_cannot_be_found_by_its_handle(seller: User, client: Any) -> None:
    draft = marketplace.create_listing(
        seller=seller, title="Draft", price=Decimal(1), publish=False
    )
    handle = handles.issue_handle(listing=draft)
    response = client.get(reverse("marketplace:find_listing"), {"handle": handle.display})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("language", "steps", "calls"),
    [
        (
            "en",
            [
                "The buyer writes the handle",
                "The seller answers on their app",
                "Neither sees a number",
            ],
            ["Start selling", "Find the listing"],
        ),
        (
            "id",
            [
                "Pembeli menulis kodenya",
                "Penjual membalas dari aplikasinya",
                "Tak ada yang melihat nomor",
            ],
            ["Mulai jualan", "Cari iklannya"],
        ),
    ],
)
def test_the_home_page_explains_how_it_works_in_three_steps(
    client: Any, language: str, steps: list[str], calls: list[str]
) -> None:
    page = page_of(client.get(reverse("marketplace:home"), HTTP_ACCEPT_LANGUAGE=language))
    positions = [page.index(step) for step in steps]
    assert positions == sorted(positions)
    for call in calls:
        assert call in page
