"""A number typed into a listing is saved as typed, hidden from buyers, and the seller is told."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.urls import reverse

from contacts.models import User
from marketplace import services
from marketplace.models import Listing

WARNING = "Phone numbers, e-mail addresses and app links are hidden from buyers"
WARNING_ID = "Nomor HP, alamat e-mail, dan tautan aplikasi disembunyikan dari pembeli"
DESCRIPTION = "Sepeda gunung, jarang dipakai. WA 0812-3456-7890 kalau serius ya"


def form(**fields: str) -> dict[str, str]:
    return {
        "title": "Mountain bike",
        "price": "3500000",
        "currency": "IDR",
        "city": "Bandung",
        "description": "",
        "mask_contact_details": "on",
        "publish": "1",
        **fields,
    }


def test_a_listing_with_a_phone_number_is_saved_and_the_seller_is_warned(
    seller_client: Any, client: Any
) -> None:
    response = seller_client.post(
        reverse("marketplace:listing_new"), form(description=DESCRIPTION), follow=True
    )
    page = response.content.decode()
    assert "Listing created." in page and WARNING in page
    listing = Listing.objects.get()
    assert listing.description == DESCRIPTION  # stored as typed
    assert "0812-3456-7890" in page  # the seller's own edit form shows their text

    public = client.get(reverse("marketplace:listing_public", args=[listing.code]))
    html = public.content.decode()
    assert "Sepeda gunung, jarang dipakai. WA [hidden] kalau serius ya" in html
    for digits in ("0812", "3456", "7890"):
        assert digits not in html


def test_a_listing_without_contact_details_gets_no_warning(seller_client: Any) -> None:
    response = seller_client.post(
        reverse("marketplace:listing_new"),
        form(description="Rp 3.500.000 nego, COD Bandung tanggal 12/03/2026"),
        follow=True,
    )
    page = response.content.decode()
    assert "Listing created." in page
    assert WARNING not in page


def test_editing_a_listing_to_add_an_email_warns_and_removing_it_does_not(
    seller_client: Any, seller: User
) -> None:
    listing = services.create_listing(seller=seller, title="Desk lamp", price=Decimal("90000"))
    url = reverse("marketplace:listing_edit", args=[listing.code])
    added = seller_client.post(url, form(title="Desk lamp", description="mail sari@example.com"))
    assert WARNING in seller_client.get(added.url).content.decode()
    removed = seller_client.post(url, form(title="Desk lamp", description="Works fine"))
    assert WARNING not in seller_client.get(removed.url).content.decode()


def test_an_indonesian_seller_is_warned_in_indonesian(seller_client: Any) -> None:
    response = seller_client.post(
        reverse("marketplace:listing_new"),
        form(description="ig: @sari.bikes"),
        headers={"accept-language": "id"},
        follow=True,
    )
    assert WARNING_ID in response.content.decode()


def test_the_title_is_masked_on_the_public_page_and_the_web_chat_start(
    seller: User, client: Any
) -> None:
    listing = services.create_listing(
        seller=seller, title="iPhone 13 Pro 256GB hub 0812 3456 7890", price=Decimal("9000000")
    )
    for name, args in (
        ("marketplace:listing_public", [listing.code]),
        ("relay:buyer_chat_start", [listing.code]),
    ):
        html = client.get(reverse(name, args=args)).content.decode()
        assert "iPhone 13 Pro 256GB hub [hidden]" in html
        assert "3456" not in html


def test_an_indonesian_buyer_sees_the_placeholder_in_indonesian(seller: User, client: Any) -> None:
    listing = services.create_listing(
        seller=seller, title="Rice cooker", price=Decimal("250000"), description="t.me/sari_bikes"
    )
    html = client.get(
        reverse("marketplace:listing_public", args=[listing.code]),
        headers={"accept-language": "id"},
    ).content.decode()
    assert "[disembunyikan]" in html and "sari_bikes" not in html
