"""Sellers manage their own listings; nobody else can see or change them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse

from contacts import services as contacts
from contacts.models import User
from marketplace import services
from marketplace.handles import live_handle
from marketplace.models import Listing
from relay import services as relay


@pytest.fixture
def bike(seller: User) -> Listing:
    return services.create_listing(seller=seller, title="Mountain bike", price=Decimal("3500000"))


def test_a_seller_creates_a_listing_and_sees_its_handle(seller_client: Any) -> None:
    response = seller_client.post(
        reverse("marketplace:listing_new"),
        {
            "title": "Rice cooker",
            "price": "250000",
            "currency": "IDR",
            "city": "Bandung",
            "description": "Works",
            "mask_contact_details": "on",
            "publish": "1",
        },
        follow=True,
    )
    listing = Listing.objects.get()
    handle = live_handle(listing)
    assert handle is not None
    assert listing.status == "active"
    assert handle.display in response.content.decode()
    dashboard = seller_client.get(reverse("marketplace:dashboard")).content.decode()
    assert "Rice cooker" in dashboard and handle.display in dashboard


def test_the_listing_form_shows_field_errors(seller_client: Any) -> None:
    response = seller_client.post(
        reverse("marketplace:listing_new"), {"title": "x", "price": "-5", "currency": "IDR"}
    )
    page = response.content.decode()
    assert "at least 3 characters" in page
    assert "greater than or equal to 0" in page
    assert not Listing.objects.exists()


def test_a_seller_cannot_see_or_change_another_sellers_listing(
    bike: Listing, other_seller: User, client: Any
) -> None:
    client.force_login(other_seller)
    assert client.get(reverse("marketplace:listing_edit", args=[bike.code])).status_code == 404
    edit = client.post(
        reverse("marketplace:listing_edit", args=[bike.code]),
        {"title": "Stolen", "price": "1", "currency": "IDR"},
    )
    assert edit.status_code == 404
    for action in ("sold", "close", "rotate", "publish"):
        response = client.post(reverse("marketplace:listing_action", args=[bike.code, action]))
        assert response.status_code == 404
    assert "Mountain bike" not in client.get(reverse("marketplace:dashboard")).content.decode()
    bike.refresh_from_db()
    assert (bike.title, bike.status) == ("Mountain bike", "active")


def test_dashboard_needs_a_login(client: Any) -> None:
    response = client.get(reverse("marketplace:dashboard"))
    assert response.status_code == 302
    assert reverse("contacts:login") in response["Location"]


def test_marking_sold_and_closing_pause_the_handle(seller_client: Any, bike: Listing) -> None:
    seller_client.post(reverse("marketplace:listing_action", args=[bike.code, "sold"]))
    bike.refresh_from_db()
    handle = live_handle(bike)
    assert bike.status == "sold" and handle is not None and handle.status == "paused"
    seller_client.post(reverse("marketplace:listing_action", args=[bike.code, "publish"]))
    handle.refresh_from_db()
    assert handle.status == "active"
    seller_client.post(reverse("marketplace:listing_action", args=[bike.code, "close"]))
    handle.refresh_from_db()
    assert handle.status == "paused"


def test_the_public_page_shows_the_handle_and_links_but_never_the_sellers_number_or_name(
    client: Any, seller: User, bike: Listing
) -> None:
    endpoint, code = contacts.start_phone_verification(
        user=seller, channel="whatsapp", raw_number="0812-3456-7890"
    )
    contacts.confirm_phone_verification(user=seller, endpoint=endpoint, code=code)
    relay.add_relay_identity(
        channel="whatsapp", provider_id="100000000000001", address="+15550001111"
    )
    relay.add_relay_identity(
        channel="messenger", provider_id="200000000000001", address="perantara.demo"
    )
    page = client.get(reverse("marketplace:listing_public", args=[bike.code])).content.decode()
    handle = live_handle(bike)
    assert handle is not None and handle.display in page
    assert f"https://wa.me/15550001111?text={handle.display}" in page
    assert f"https://m.me/perantara.demo?ref={handle.display}" in page
    for secret in ("81234567890", "0812-3456-7890", "Sari", "sari@example.com"):
        assert secret not in page


def test_a_draft_listing_has_no_public_page(client: Any, seller: User) -> None:
    draft = services.create_listing(
        seller=seller, title="Draft thing", price=Decimal(1), publish=False
    )
    assert client.get(reverse("marketplace:listing_public", args=[draft.code])).status_code == 404
