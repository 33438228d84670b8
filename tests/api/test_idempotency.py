from __future__ import annotations

from marketplace.models import Listing
from relay.models import Message
from tests.api.conftest import Shop, assert_error


def test_the_same_key_and_body_replay_the_first_response_and_create_one_listing(
    shop: Shop,
) -> None:
    body = {"title": "Tent", "price": "250000"}
    headers = {"Idempotency-Key": "create-tent-1"}
    first = shop.api.post("/api/listings/", body, headers)
    again = shop.api.post("/api/listings/", body, headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Listing.objects.filter(seller=shop.seller, title="Tent").count() == 1


def test_the_same_key_with_another_body_is_a_422(shop: Shop) -> None:
    headers = {"Idempotency-Key": "k-2"}
    shop.api.post("/api/listings/", {"title": "Tent", "price": "1"}, headers)
    other = shop.api.post("/api/listings/", {"title": "Tent", "price": "2"}, headers)
    assert_error(other, 422, "idempotency_key_reused")
    assert Listing.objects.filter(seller=shop.seller, title="Tent").count() == 1


def test_a_retried_reply_is_relayed_once(shop: Shop) -> None:
    path = f"/api/conversations/{shop.conversation.code}/messages/"
    headers = {"Idempotency-Key": "reply-1"}
    first = shop.api.post(path, {"text": "See you"}, headers).json()
    second = shop.api.post(path, {"text": "See you"}, headers).json()
    assert first == second
    assert Message.objects.filter(conversation=shop.conversation).count() == 2


def test_keys_belong_to_one_user(shop: Shop, other_shop: Shop) -> None:
    headers = {"Idempotency-Key": "shared-key"}
    mine = shop.api.post("/api/listings/", {"title": "Lamp", "price": "1"}, headers)
    theirs = other_shop.api.post("/api/listings/", {"title": "Lamp", "price": "1"}, headers)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["code"] != theirs.json()["code"]


def test_a_domain_error_is_stored_and_replayed_like_a_success(shop: Shop) -> None:
    shop.api.post(f"/api/conversations/{shop.conversation.code}/block/")
    path = f"/api/conversations/{shop.conversation.code}/messages/"
    headers = {"Idempotency-Key": "late-reply"}
    first = shop.api.post(path, {"text": "hi"}, headers)
    second = shop.api.post(path, {"text": "hi"}, headers)
    assert first.status_code == second.status_code == 422
    assert first.json() == second.json()
