"""Integrator webhook signing secrets: sealed at rest, shown to their owner once, rotatable,
re-sealed by key rotation, and unreadable after the account is deleted."""

from __future__ import annotations

import hashlib
import hmac
import io
import os
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from contacts import vault
from relay import tasks
from relay.models import IntegratorWebhook, IntegratorWebhookDelivery, Message
from relay.models.api import new_webhook_code
from relay.services import accounts, integrations
from tests.api.conftest import Shop, assert_error
from tests.api.test_integrator_webhooks import Receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()
    running.server.server_close()


def raw_values(webhook: IntegratorWebhook) -> list[bytes]:
    """Every column of the row as the database returns it, bytes included."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM relay_integratorwebhook WHERE id = %s", [webhook.pk])
        row = cursor.fetchone()
    assert row is not None
    return [
        bytes(value) if isinstance(value, bytes | memoryview) else str(value).encode()
        for value in row
    ]


def verifies(secret: str, headers: dict[str, str], body: bytes) -> bool:
    expected = hmac.new(
        secret.encode(), headers["X-Perantara-Timestamp"].encode() + b"." + body, hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(headers["X-Perantara-Signature"], f"sha256={expected}")


def deliver_first_message(shop: Shop) -> None:
    first = Message.objects.filter(conversation=shop.conversation).get()
    IntegratorWebhookDelivery.objects.all().delete()
    integrations.message_relayed(first.pk)
    for delivery in IntegratorWebhookDelivery.objects.filter(event="message.created"):
        tasks.deliver_integrator_webhook(delivery.pk)


def test_the_api_shows_the_secret_once_and_the_receiver_verifies_with_it(
    shop: Shop, receiver: Receiver
) -> None:
    created = shop.api.post("/api/integrator-webhooks/", {"url": receiver.url})
    assert created.status_code == 201, created.content
    secret = created.json()["secret"]
    assert len(secret) == 64 and created.json()["secret_prefix"] == secret[:8]

    deliver_first_message(shop)

    [(headers, body)] = receiver.received
    assert verifies(secret, headers, body)
    listed = shop.api.get("/api/integrator-webhooks/")
    assert listed.status_code == 200
    assert [item["code"] for item in listed.json()["results"]] == [created.json()["code"]]
    assert secret not in listed.content.decode()
    assert "secret" not in listed.json()["results"][0]


def test_the_stored_row_holds_no_secret_and_opens_only_with_its_own_code(shop: Shop) -> None:
    issued = integrations.add_integrator_webhook(user=shop.seller, url="http://127.0.0.1:9/h")
    webhook = IntegratorWebhook.objects.get(pk=issued.webhook.pk)
    columns = raw_values(webhook)
    assert not any(issued.secret.encode() in column for column in columns)
    assert not any(issued.secret[8:24].encode() in column for column in columns)
    assert integrations.webhook_secret(webhook) == issued.secret  # the test can fail

    webhook.code = new_webhook_code()  # the blob moved onto another row
    with pytest.raises(vault.VaultError):
        integrations.webhook_secret(webhook)


def test_rotating_the_secret_shows_the_new_one_once_and_the_old_one_stops_verifying(
    shop: Shop, receiver: Receiver
) -> None:
    created = shop.api.post("/api/integrator-webhooks/", {"url": receiver.url}).json()
    rotated = shop.api.post(f"/api/integrator-webhooks/{created['code']}/rotate-secret/")
    assert rotated.status_code == 200
    new_secret = rotated.json()["secret"]
    assert new_secret != created["secret"] and rotated.json()["code"] == created["code"]

    deliver_first_message(shop)

    [(headers, body)] = receiver.received
    assert verifies(new_secret, headers, body)
    assert not verifies(created["secret"], headers, body)
    assert new_secret not in shop.api.get("/api/integrator-webhooks/").content.decode()


def test_another_sellers_webhook_cannot_be_rotated(shop: Shop, other_shop: Shop) -> None:
    theirs = integrations.add_integrator_webhook(user=other_shop.seller, url="http://127.0.0.1:9/o")
    answer = shop.api.post(f"/api/integrator-webhooks/{theirs.webhook.code}/rotate-secret/")
    assert_error(answer, 404, "not_found")
    assert integrations.webhook_secret(IntegratorWebhook.objects.get(pk=theirs.webhook.pk)) == (
        theirs.secret
    )


def test_the_dashboard_rotates_a_secret_and_shows_the_new_one_only_on_that_page(
    seller_client: Any, shop: Shop
) -> None:
    issued = integrations.add_integrator_webhook(user=shop.seller, url="http://127.0.0.1:9/h")
    page = seller_client.post(f"/api/webhooks/{issued.webhook.code}/rotate-secret/")
    new_secret = page.context["new_webhook_secret"]
    html = page.content.decode()
    assert new_secret != issued.secret and new_secret in html
    assert "it will not be shown again" in html
    later = seller_client.get("/api/tokens/").content.decode()
    assert new_secret not in later and issued.secret not in later
    assert f"{new_secret[:8]}…" in later


def test_an_indonesian_seller_is_told_to_copy_the_secret_now(
    seller_client: Any, shop: Shop
) -> None:
    page = seller_client.post(
        "/api/webhooks/", {"url": "http://127.0.0.1:9/h"}, headers={"accept-language": "id"}
    )
    assert "Salin sekarang: kunci ini tidak akan ditampilkan lagi." in page.content.decode()


def test_rotate_keys_reseals_the_secret_under_the_new_key(
    shop: Shop, receiver: Receiver, settings: Any
) -> None:
    issued = integrations.add_integrator_webhook(user=shop.seller, url=receiver.url)
    old = settings.RELAY_KEY_CURRENT
    new_key = os.urandom(32)
    settings.RELAY_KEYRING = {**settings.RELAY_KEYRING, "k2": new_key}
    settings.RELAY_KEY_CURRENT = "k2"

    out = io.StringIO()
    call_command("rotate_keys", stdout=out, stderr=io.StringIO())

    webhook = IntegratorWebhook.objects.get(pk=issued.webhook.pk)
    assert webhook.secret_sealed is not None
    assert vault.sealed_key_id(webhook.secret_sealed) == "k2" != old
    settings.RELAY_KEYRING = {"k2": new_key}  # the operator removes the old key
    deliver_first_message(shop)
    [(headers, body)] = receiver.received
    assert verifies(issued.secret, headers, body)


def test_after_delete_user_the_secret_is_unreadable_and_nothing_is_signed_with_it(
    shop: Shop, receiver: Receiver
) -> None:
    issued = integrations.add_integrator_webhook(user=shop.seller, url=receiver.url)
    first = Message.objects.filter(conversation=shop.conversation).get()
    integrations.message_relayed(first.pk)  # queued before the account goes

    accounts.erase_user(user=shop.seller)

    webhook = IntegratorWebhook.objects.get(pk=issued.webhook.pk)
    assert not webhook.active
    assert not any(issued.secret.encode() in column for column in raw_values(webhook))
    with pytest.raises(vault.VaultError):
        integrations.webhook_secret(webhook)
    for delivery in IntegratorWebhookDelivery.objects.filter(webhook=webhook):
        assert tasks.deliver_integrator_webhook(delivery.pk) == "failed"
    assert receiver.received == []


def test_a_secret_that_no_longer_opens_fails_the_delivery_without_sending(
    shop: Shop, receiver: Receiver, settings: Any
) -> None:
    integrations.add_integrator_webhook(user=shop.seller, url=receiver.url)
    settings.RELAY_KEYRING = {"other": os.urandom(32)}  # its key left the ring
    settings.RELAY_KEY_CURRENT = "other"

    deliver_first_message(shop)

    [delivery] = IntegratorWebhookDelivery.objects.filter(event="message.created")
    assert delivery.state == "failed"
    assert delivery.last_error == "the signing secret does not open"
    assert receiver.received == []


def test_a_removed_webhook_keeps_no_secret(shop: Shop) -> None:
    issued = integrations.add_integrator_webhook(user=shop.seller, url="http://127.0.0.1:9/h")
    assert integrations.remove_integrator_webhook(user=shop.seller, webhook_id=issued.webhook.pk)
    removed = IntegratorWebhook.objects.get(pk=issued.webhook.pk)
    assert removed.secret_sealed is None and removed.secret_prefix == ""
    with pytest.raises(vault.VaultError):
        integrations.webhook_secret(removed)
