"""A status webhook that beats the worker to its message id is kept, not dropped (issue #11)."""

from __future__ import annotations

import datetime as dt
import io
import secrets
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from contacts.models import User
from marketplace import services as marketplace
from marketplace.handles import live_handle
from relay import services as relay
from relay.adapters.base import InboundMessage, StatusUpdate
from relay.crypto import provider_key
from relay.models import Delivery, EarlyStatus
from relay.pipeline import accept_event
from relay.services import early_statuses
from relay.services.statuses import accept_status, apply_kept_statuses

RAW_ID = "wamid.HBgNNjI4MTIzNDU2NzAwMRUCABEYEjA"


@pytest.fixture
def sending_delivery(seller: User) -> Delivery:
    """A relayed message the worker has sent but whose message id it has not stored yet."""
    relay.add_relay_identity(channel="sms", provider_id="+15550002222", address="+15550002222")
    listing = marketplace.create_listing(seller=seller, title="Bike", price=Decimal(1))
    handle = live_handle(listing)
    assert handle is not None
    accept_event(
        event=InboundMessage(
            channel="sms",
            provider_message_id="SM" + secrets.token_hex(16),
            sender_address="+14155550100",
            identity_provider_id="+15550002222",
            text=f"{handle.display} hello",
            timestamp=timezone.now(),
        )
    )
    delivery = Delivery.objects.get(kind="relay")
    Delivery.objects.filter(pk=delivery.pk).update(state="sending", channel="whatsapp")
    delivery.refresh_from_db()
    return delivery


def status(name: str, code: str | None = None, raw_id: str = RAW_ID) -> StatusUpdate:
    return StatusUpdate(
        channel="whatsapp",
        status=name,
        timestamp=timezone.now(),
        provider_message_id=raw_id,
        error_code=code,
        error_title="Message undeliverable" if code else None,
    )


def id_stored(delivery: Delivery) -> None:
    """What the worker does once the platform answered the send."""
    Delivery.objects.filter(pk=delivery.pk).update(state="sent", provider_message_id=KEY)


KEY = provider_key(RAW_ID)


@pytest.mark.django_db
def test_a_status_for_an_id_no_delivery_has_yet_is_kept_under_its_keyed_hash() -> None:
    assert accept_status(update=status("delivered")) == 0
    [kept] = EarlyStatus.objects.all()
    assert (kept.channel, kept.status, kept.provider_message_id) == ("whatsapp", "delivered", KEY)
    assert RAW_ID not in kept.provider_message_id  # the raw id embeds a phone number


@pytest.mark.django_db
def test_a_retried_status_webhook_keeps_one_row_and_sent_or_watermarks_are_not_kept() -> None:
    accept_status(update=status("read"))
    accept_status(update=status("read"))
    accept_status(update=status("sent"))
    accept_status(
        update=StatusUpdate(
            channel="messenger",
            status="read",
            timestamp=timezone.now(),
            recipient_address="1234567890",
            watermark=timezone.now(),
        )
    )
    assert list(EarlyStatus.objects.values_list("status", flat=True)) == ["read"]


@pytest.mark.django_db
def test_take_returns_the_kept_statuses_oldest_first_and_only_once() -> None:
    accept_status(update=status("read"))
    accept_status(update=status("delivered"))
    accept_status(update=status("read", raw_id="wamid.other"))

    taken = early_statuses.take(channel="whatsapp", provider_key=KEY)

    assert [kept.status for kept in taken] == ["read", "delivered"]
    assert early_statuses.take(channel="whatsapp", provider_key=KEY) == []
    assert early_statuses.take(channel="sms", provider_key=provider_key("wamid.other")) == []
    assert EarlyStatus.objects.count() == 1  # the other id's status stays


def test_a_status_for_a_delivery_that_already_has_it_is_not_kept(
    sending_delivery: Delivery,
) -> None:
    id_stored(sending_delivery)
    assert accept_status(update=status("read")) == 1
    assert accept_status(update=status("delivered")) == 0  # late, read already
    assert not EarlyStatus.objects.exists()


def test_a_worker_storing_the_id_while_the_status_is_kept_still_gets_it_applied(
    sending_delivery: Delivery, django_capture_on_commit_callbacks: Any
) -> None:
    # The status webhook's transaction looks for the id before the worker's commit, and the
    # worker takes kept statuses before the webhook's commit: the look after commit applies it.
    with django_capture_on_commit_callbacks(execute=True):
        assert accept_status(update=status("read")) == 0
        id_stored(sending_delivery)
    sending_delivery.refresh_from_db()
    assert sending_delivery.state == "read"
    assert not EarlyStatus.objects.exists()


def test_a_kept_failure_fails_the_delivery_and_tells_the_sender_once_applied(
    sending_delivery: Delivery,
) -> None:
    accept_status(update=status("failed", "131026"))
    id_stored(sending_delivery)

    assert apply_kept_statuses(channel="whatsapp", key=KEY) == 1

    sending_delivery.refresh_from_db()
    assert (sending_delivery.state, sending_delivery.error_code) == ("failed", "131026")
    assert Delivery.objects.filter(notice_code="delivery_failed").exists()


def kept(name: str, minutes_ago: int = 0) -> EarlyStatus:
    return EarlyStatus(
        channel="whatsapp",
        provider_message_id=KEY,
        status=name,
        received_at=timezone.now() - dt.timedelta(minutes=minutes_ago),
    )


def test_furthest_moves_a_sent_delivery_as_the_webhooks_would_have() -> None:
    delivered, read, failed = kept("delivered"), kept("read"), kept("failed", 0)
    assert early_statuses.furthest([]) == ("sent", None)
    assert early_statuses.furthest([delivered]) == ("delivered", delivered)
    assert early_statuses.furthest([delivered, read]) == ("read", read)
    # Out of order: a late "delivered" never undoes "read".
    assert early_statuses.furthest([read, delivered]) == ("read", read)
    assert early_statuses.furthest([failed]) == ("failed", failed)
    # Failed replaces only sending or sent, and nothing replaces failed.
    assert early_statuses.furthest([delivered, failed]) == ("delivered", delivered)
    assert early_statuses.furthest([failed, delivered]) == ("failed", failed)


def test_furthest_leaves_a_waiting_template_delivery_alone() -> None:
    assert early_statuses.furthest([kept("delivered"), kept("read")], start="waiting") == (
        "waiting",
        None,
    )


def test_purge_forgets_statuses_that_never_found_their_delivery(db: None, settings: Any) -> None:
    settings.RELAY_EARLY_STATUS_SECONDS = 3600
    accept_status(update=status("read", raw_id="wamid.old"))
    accept_status(update=status("read", raw_id="wamid.recent"))
    EarlyStatus.objects.filter(provider_message_id=provider_key("wamid.old")).update(
        received_at=timezone.now() - dt.timedelta(hours=2)
    )

    out = io.StringIO()
    call_command("purge", dry_run=True, stdout=out, stderr=io.StringIO())
    assert "1 status webhooks that never matched a message" in out.getvalue()
    assert EarlyStatus.objects.count() == 2

    out = io.StringIO()
    call_command("purge", stdout=out, stderr=io.StringIO())
    assert "1 status webhooks that never matched a message" in out.getvalue()
    assert list(EarlyStatus.objects.values_list("provider_message_id", flat=True)) == [
        provider_key("wamid.recent")
    ]


@pytest.mark.django_db
def test_the_worker_applies_a_status_that_beat_it_once_the_id_is_stored(
    sending_delivery: Delivery,
) -> None:
    from relay.services.delivery import _apply_early_statuses

    accept_status(update=status("delivered"))
    accept_status(update=status("read"))
    id_stored(sending_delivery)
    sending_delivery.refresh_from_db()
    _apply_early_statuses(sending_delivery)  # what _send does after storing the id
    sending_delivery.refresh_from_db()
    assert sending_delivery.state == "read" and not EarlyStatus.objects.exists()
