from __future__ import annotations

from typing import Any

from django.test import Client

from relay.api import tokens
from tests.api.conftest import Api, Shop, assert_error


def test_no_token_is_a_401_with_a_bearer_challenge(db: None) -> None:
    response = Api(None).get("/api/listings/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_wrong_token_is_a_401(shop: Shop) -> None:
    assert_error(Api("prt_0000_nope").get("/api/listings/"), 401, "authentication_failed")


def test_a_revoked_token_stops_working(shop: Shop) -> None:
    assert shop.api.get("/api/listings/").status_code == 200
    token = shop.seller.api_tokens.get()
    assert tokens.revoke_api_token(user=shop.seller, prefix=token.prefix)
    assert_error(shop.api.get("/api/listings/"), 401)


def test_the_token_is_stored_only_as_a_hash_and_records_its_last_use(shop: Shop) -> None:
    token = shop.seller.api_tokens.get()
    assert shop.api.secret is not None
    assert shop.api.secret not in {token.key_hash, token.prefix, token.name}
    assert token.key_hash == tokens.hash_token(shop.api.secret)
    shop.api.get("/api/listings/")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_the_web_session_works_too(seller_client: Any, shop: Shop) -> None:
    response = seller_client.get("/api/listings/")
    assert response.status_code == 200
    assert response.json()["results"][0]["code"] == shop.listing.code


def test_a_non_moderator_gets_403_on_the_moderation_api(shop: Shop) -> None:
    assert_error(shop.api.get("/api/moderation/reports/"), 403, "permission_denied")
    assert_error(Client().get("/api/moderation/reports/"), 403)


def test_malformed_json_is_a_400_in_the_error_shape(shop: Shop) -> None:
    response = shop.api.client.post(
        "/api/listings/",
        "{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {shop.api.secret}"},
    )
    assert_error(response, 400, "parse_error")


def test_too_many_requests_are_a_429_with_retry_after(shop: Shop, settings: Any) -> None:
    settings.API_THROTTLE_RATE = "3/min"
    answers = [shop.api.get("/api/listings/").status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    response = shop.api.get("/api/listings/")
    assert_error(response, 429, "throttled")
    assert 0 < int(response["Retry-After"]) <= 60


def test_each_token_has_its_own_rate_budget(shop: Shop, settings: Any) -> None:
    settings.API_THROTTLE_RATE = "2/min"
    second = Api(tokens.create_api_token(user=shop.seller, name="second").secret)
    assert [shop.api.get("/api/listings/").status_code for _ in range(3)] == [200, 200, 429]
    assert second.get("/api/listings/").status_code == 200


def test_the_dashboard_shows_a_new_token_once_and_revokes_it(seller_client: Any) -> None:
    page = seller_client.post("/api/tokens/", {"name": "shop backend"})
    assert page.status_code == 200
    secret = page.context["new_secret"]
    assert secret.startswith("prt_") and secret in page.content.decode()
    assert Api(secret).get("/api/listings/").status_code == 200
    listing_page = seller_client.get("/api/tokens/").content.decode()
    assert "shop backend" in listing_page and secret not in listing_page
    prefix = page.context["new_token"].prefix
    assert seller_client.post(f"/api/tokens/{prefix}/revoke/").status_code == 302
    assert Api(secret).get("/api/listings/").status_code == 401


def test_the_channels_page_links_to_the_api_tokens(seller_client: Any) -> None:
    from django.urls import reverse

    page = seller_client.get(reverse("contacts:channels")).content.decode()
    assert reverse("api:tokens") in page
