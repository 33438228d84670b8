from __future__ import annotations

from tests.api.conftest import Shop, assert_error


def test_a_seller_creates_a_listing_and_gets_its_handle(shop: Shop) -> None:
    response = shop.api.post(
        "/api/listings/", {"title": "Road bike", "price": "1500000.00", "city": "Jakarta"}
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["title"] == "Road bike"
    assert body["status"] == "active"
    assert body["handle"] and len(body["handle"]) == 9 and body["handle"][4] == "-"
    assert body["handle_status"] == "active"
    assert shop.seller.listings.filter(code=body["code"]).exists()


def test_a_draft_listing_has_no_handle_until_published(shop: Shop) -> None:
    body = shop.api.post(
        "/api/listings/", {"title": "Desk", "price": "10", "publish": False}
    ).json()
    assert body["status"] == "draft" and body["handle"] is None
    published = shop.api.post(f"/api/listings/{body['code']}/publish/").json()
    assert published["status"] == "active" and published["handle"]


def test_listings_are_filtered_by_status_and_paginated_by_cursor(shop: Shop) -> None:
    for number in range(3):
        shop.api.post("/api/listings/", {"title": f"Chair {number}", "price": "5"})
    shop.api.post(f"/api/listings/{shop.listing.code}/close/")
    closed = shop.api.get("/api/listings/", status="closed").json()
    assert [item["code"] for item in closed["results"]] == [shop.listing.code]
    first = shop.api.get("/api/listings/", page_size=2).json()
    assert len(first["results"]) == 2 and first["next"] and first["previous"] is None
    second = shop.api.client.get(
        first["next"], headers={"Authorization": f"Bearer {shop.api.secret}"}
    ).json()
    codes = [item["code"] for item in first["results"] + second["results"]]
    assert len(codes) == len(set(codes)) == 4


def test_editing_closing_selling_and_rotating_a_listing_go_through_the_services(
    shop: Shop,
) -> None:
    code = shop.listing.code
    edited = shop.api.patch(f"/api/listings/{code}/", {"title": "Mountain bike, 29er"}).json()
    assert edited["title"] == "Mountain bike, 29er"
    old_handle = edited["handle"]
    rotated = shop.api.post(f"/api/listings/{code}/rotate-handle/").json()
    assert rotated["handle"] != old_handle and rotated["handle_status"] == "active"
    sold = shop.api.post(f"/api/listings/{code}/sold/").json()
    assert sold["status"] == "sold" and sold["handle_status"] == "paused"
    closed = shop.api.post(f"/api/listings/{code}/close/").json()
    assert closed["status"] == "closed"


def test_invalid_listing_input_is_a_400_naming_the_fields(shop: Shop) -> None:
    error = assert_error(shop.api.post("/api/listings/", {"price": "-1"}), 400, "invalid")
    assert set(error["fields"]) == {"title", "price"}


def test_a_taken_down_listing_cannot_be_republished_and_says_why(shop: Shop) -> None:
    from marketplace.services import take_listing_down

    take_listing_down(listing=shop.listing)
    error = assert_error(
        shop.api.post(f"/api/listings/{shop.listing.code}/publish/"), 422, "unprocessable"
    )
    assert "moderator" in error["message"]


def test_the_api_says_which_details_buyers_will_not_see(shop: Shop) -> None:
    created = shop.api.post(
        "/api/listings/",
        {"title": "Road bike", "price": "1500000.00", "description": "WA 0812-3456-7890"},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["hidden_from_buyers"] == ["phone"]
    assert body["description"] == "WA 0812-3456-7890"  # the seller's own view is as typed
    updated = shop.api.patch(
        f"/api/listings/{body['code']}/", {"description": "sari@example.com, wa.me/628123"}
    ).json()
    assert updated["hidden_from_buyers"] == ["app_link", "email"]
    plain = shop.api.patch(f"/api/listings/{body['code']}/", {"description": "Mulus"}).json()
    assert plain["hidden_from_buyers"] == []
