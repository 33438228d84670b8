"""Status webhooks only move deliveries forward, and a late failure reaches the sender."""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest
from django.utils import timezone

from contacts.models import User
from marketplace import services as marketplace
from marketplace.handles import live_handle
from relay import services as relay
from relay.adapters.base import InboundMessage, StatusUpdate
from relay.crypto import provider_key
from relay.models import Delivery
from relay.pipeline import accept_event
from relay.services.statuses import accept_status


@pytest.fixture
def sent_delivery(seller: User) -> Delivery:
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
    Delivery.objects.filter(pk=delivery.pk).update(
        state="sent", provider_message_id=provider_key("wamid.X"), channel="whatsapp"
    )
    delivery.refresh_from_db()
    return delivery


def status(name: str, code: str | None = None) -> StatusUpdate:
    return StatusUpdate(
        channel="whatsapp",
        status=name,
        timestamp=timezone.now(),
        provider_message_id="wamid.X",
        error_code=code,
    )


def test_read_before_delivered_stays_read(sent_delivery: Delivery) -> None:
    assert accept_status(update=status("read")) == 1
    assert accept_status(update=status("delivered")) == 0
    sent_delivery.refresh_from_db()
    assert sent_delivery.state == "read"


def test_a_status_for_an_unknown_message_changes_nothing(sent_delivery: Delivery) -> None:
    unknown = StatusUpdate(
        channel="whatsapp", status="read", timestamp=timezone.now(), provider_message_id="nope"
    )
    assert accept_status(update=unknown) == 0


def test_a_failure_reported_after_the_send_fails_the_delivery_and_tells_the_sender(
    sent_delivery: Delivery,
) -> None:
    assert accept_status(update=status("failed", "131026")) == 1
    sent_delivery.refresh_from_db()
    assert (sent_delivery.state, sent_delivery.error_code) == ("failed", "131026")
    notice = Delivery.objects.get(notice_code="delivery_failed")
    assert notice.notice_params["reason"] == "the recipient's app could not receive it"
    assert notice.recipient_endpoint == sent_delivery.message.sender_endpoint  # type: ignore[union-attr]


def test_a_late_window_closed_failure_resends_as_the_template(sent_delivery: Delivery) -> None:
    assert accept_status(update=status("failed", "131047")) == 1
    sent_delivery.refresh_from_db()
    assert (sent_delivery.state, sent_delivery.force_template) == ("pending", True)
    assert not Delivery.objects.filter(notice_code="delivery_failed").exists()
