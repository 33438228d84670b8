from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from marketplace.models import Listing
from relay.api import idempotency
from relay.models import IdempotencyRecord, Message
from relay.services import accounts, retention
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


# --- Nothing readable at rest ---------------------------------------------------------------

NUMBER_FORMS = ("0812 3456 7890", "081234567890", "6281234567890", "81234567890")
REPLY = "Call me on 0812 3456 7890, we meet at Gedung Sate"


def raw_values(record: IdempotencyRecord) -> list[bytes]:
    """Every column of the row as the database returns it, bytes included."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM relay_idempotencyrecord WHERE id = %s", [record.pk])
        row = cursor.fetchone()
    assert row is not None
    return [
        bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        for value in row
    ]


def test_a_stored_reply_holds_neither_its_text_nor_the_number_nor_the_key(shop: Shop) -> None:
    path = f"/api/conversations/{shop.conversation.code}/messages/"
    headers = {"Idempotency-Key": "reply-with-number-7f3a"}
    first = shop.api.post(path, {"text": REPLY}, headers)
    assert first.status_code == 201 and "Gedung Sate" in first.json()["text"]

    [record] = IdempotencyRecord.objects.filter(user=shop.seller)
    columns = raw_values(record)
    for needle in ("Gedung Sate", "reply-with-number-7f3a", *NUMBER_FORMS):
        assert not any(needle.encode() in column for column in columns), needle

    again = shop.api.post(path, {"text": REPLY}, headers)
    assert again.status_code == 201 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()


def test_an_added_number_is_not_in_the_stored_record(shop: Shop, codes: Any) -> None:
    headers = {"Idempotency-Key": "add-phone-1"}
    body = {"channel": "whatsapp", "number": "+62 812 3456 7890"}
    first = shop.api.post("/api/endpoints/", body, headers)
    assert first.status_code == 201
    [record] = IdempotencyRecord.objects.filter(user=shop.seller)
    columns = raw_values(record)
    for needle in ("add-phone-1", *NUMBER_FORMS):
        assert not any(needle.encode() in column for column in columns), needle
    again = shop.api.post("/api/endpoints/", body, headers)
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()


def test_two_sellers_sending_the_same_request_leave_unrelated_rows(
    shop: Shop, other_shop: Shop, codes: Any
) -> None:
    body = {"channel": "whatsapp", "number": "+62 812 3456 7890"}
    headers = {"Idempotency-Key": "same-key"}
    shop.api.post("/api/endpoints/", body, headers)
    other_shop.api.post("/api/endpoints/", body, headers)
    mine, theirs = (
        IdempotencyRecord.objects.get(user=shop.seller),
        IdempotencyRecord.objects.get(user=other_shop.seller),
    )
    assert mine.request_fingerprint != theirs.request_fingerprint
    assert mine.key_hash != theirs.key_hash


def test_without_the_clients_key_the_stored_response_does_not_open(shop: Shop) -> None:
    path = f"/api/conversations/{shop.conversation.code}/messages/"
    shop.api.post(path, {"text": REPLY}, {"Idempotency-Key": "the-real-key"})
    [record] = IdempotencyRecord.objects.filter(user=shop.seller)
    assert record.response_sealed is not None
    where = {"record_id": record.pk, "user_id": shop.seller.pk}

    opened = idempotency.open_response(record.response_sealed, key="the-real-key", **where)
    assert "Gedung Sate" in opened["text"]
    for guess in ("", "the-real-key ", "The-real-key", record.key_hash):
        with pytest.raises(idempotency.ResponseUnreadable):
            idempotency.open_response(record.response_sealed, key=guess, **where)
    with pytest.raises(idempotency.ResponseUnreadable):  # moved onto another row
        idempotency.open_response(
            record.response_sealed,
            key="the-real-key",
            record_id=record.pk + 1,
            user_id=where["user_id"],
        )


def test_after_purge_the_record_is_gone_and_a_retry_acts_again(shop: Shop, settings: Any) -> None:
    headers = {"Idempotency-Key": "create-lamp"}
    shop.api.post("/api/listings/", {"title": "Lamp", "price": "1"}, headers)
    later = timezone.now() + dt.timedelta(hours=settings.API_IDEMPOTENCY_HOURS + 1)

    summary = retention.purge_expired(days=30, now=later)

    assert summary.idempotency_records == 1
    assert not IdempotencyRecord.objects.filter(user=shop.seller).exists()
    again = shop.api.post("/api/listings/", {"title": "Lamp", "price": "1"}, headers)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again
    assert Listing.objects.filter(seller=shop.seller, title="Lamp").count() == 2


def test_deleting_the_account_deletes_its_records(shop: Shop, other_shop: Shop) -> None:
    headers = {"Idempotency-Key": "k"}
    shop.api.post("/api/listings/", {"title": "Lamp", "price": "1"}, headers)
    other_shop.api.post("/api/listings/", {"title": "Lamp", "price": "1"}, headers)

    accounts.erase_user(user=shop.seller)

    assert not IdempotencyRecord.objects.filter(user=shop.seller).exists()
    assert IdempotencyRecord.objects.filter(user=other_shop.seller).count() == 1
