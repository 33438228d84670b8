"""Every endpoint is scoped to the caller: another seller's code answers 404, never 403."""

from __future__ import annotations

import pytest

from relay.models import Conversation, Message
from tests.api.conftest import Shop, assert_error


def _foreign_requests(other: Shop) -> list[tuple[str, str, dict[str, str] | None]]:
    listing = other.listing.code
    conversation = other.conversation.code
    endpoint = other.seller.endpoints.get(channel="web").code
    return [
        ("get", f"/api/listings/{listing}/", None),
        ("patch", f"/api/listings/{listing}/", {"title": "Mine now"}),
        ("post", f"/api/listings/{listing}/publish/", None),
        ("post", f"/api/listings/{listing}/sold/", None),
        ("post", f"/api/listings/{listing}/close/", None),
        ("post", f"/api/listings/{listing}/rotate-handle/", None),
        ("get", f"/api/conversations/{conversation}/", None),
        ("post", f"/api/conversations/{conversation}/block/", None),
        ("post", f"/api/conversations/{conversation}/report/", {"reason": "spam"}),
        ("get", f"/api/conversations/{conversation}/messages/", None),
        ("get", f"/api/conversations/{conversation}/devices/", None),
        ("post", f"/api/conversations/{conversation}/messages/", {"text": "hello"}),
        ("get", f"/api/endpoints/{endpoint}/", None),
        ("post", f"/api/endpoints/{endpoint}/preferred/", None),
        ("post", f"/api/endpoints/{endpoint}/verify/", {"code": "123456"}),
        ("delete", f"/api/endpoints/{endpoint}/", None),
    ]


def test_another_sellers_codes_are_not_found_on_every_endpoint(
    shop: Shop, other_shop: Shop
) -> None:
    for method, path, body in _foreign_requests(other_shop):
        api_call = getattr(shop.api, method)
        response = api_call(path, body) if body is not None or method == "patch" else api_call(path)
        assert_error(response, 404, "not_found")
    other_shop.listing.refresh_from_db()
    assert other_shop.listing.title == "Rice cooker" and other_shop.listing.status == "active"
    assert Conversation.objects.get(pk=other_shop.conversation.pk).status == "open"
    assert Message.objects.filter(conversation=other_shop.conversation).count() == 1


@pytest.mark.parametrize("code", ["does-not-exist", "1", "%2e%2e"])
def test_forged_codes_are_not_found(shop: Shop, code: str) -> None:
    for path in (
        f"/api/listings/{code}/",
        f"/api/conversations/{code}/",
        f"/api/conversations/{code}/messages/",
        f"/api/endpoints/{code}/",
    ):
        assert_error(shop.api.get(path), 404)


def test_lists_show_only_the_callers_own_objects(shop: Shop, other_shop: Shop) -> None:
    listings = shop.api.get("/api/listings/").json()["results"]
    assert [item["code"] for item in listings] == [shop.listing.code]
    conversations = shop.api.get("/api/conversations/").json()["results"]
    assert [item["code"] for item in conversations] == [shop.conversation.code]
    endpoints = shop.api.get("/api/endpoints/").json()["results"]
    assert {item["code"] for item in endpoints} == set(
        shop.seller.endpoints.values_list("code", flat=True)
    )
    filtered = shop.api.get("/api/conversations/", listing=other_shop.listing.code).json()
    assert filtered["results"] == []
