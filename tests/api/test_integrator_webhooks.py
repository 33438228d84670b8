"""Outbound webhooks: signed, timestamped, metadata only, retried on 5xx."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import pytest
from django.utils import timezone

from relay import tasks
from relay.models import IntegratorWebhookDelivery, Message
from relay.pipeline import roads
from relay.services import integrations, moderation
from tests.api.conftest import Shop
from tests.relay.conftest import wait_until


class Receiver:
    """A tiny integrator on 127.0.0.1: answers the queued statuses, records what arrived."""

    def __init__(self) -> None:
        self.statuses: list[int] = []
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.statuses.pop(0) if receiver.statuses else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    yield running
    running.server.shutdown()
    running.server.server_close()


def test_a_new_message_is_posted_signed_and_without_its_body(
    shop: Shop, receiver: Receiver
) -> None:
    issued = integrations.add_integrator_webhook(user=shop.seller, url=receiver.url)
    replied = roads.seller_reply(
        seller=shop.seller, conversation=shop.conversation, text="Secret meeting place"
    )
    assert replied.message_id is not None
    message = Message.objects.get(pk=replied.message_id)
    integrations.message_relayed(message.pk)
    [delivery] = IntegratorWebhookDelivery.objects.filter(event="message.created")
    assert tasks.deliver_integrator_webhook(delivery.pk) == "delivered"
    [(headers, body)] = receiver.received
    expected = hmac.new(
        issued.secret.encode(),
        headers["X-Perantara-Timestamp"].encode() + b"." + body,
        hashlib.sha256,
    ).hexdigest()
    assert headers["X-Perantara-Signature"] == f"sha256={expected}"
    sent = json.loads(body)
    assert sent["event"] == "message.created"
    assert sent["data"]["conversation"] == shop.conversation.code
    assert sent["data"]["message"] == str(message.uid)
    assert b"Secret meeting" not in body and b"+62" not in body
    delivery.refresh_from_db()
    assert delivery.state == "delivered" and delivery.status_code == 200


def test_the_first_message_announces_the_conversation(shop: Shop, receiver: Receiver) -> None:
    integrations.add_integrator_webhook(user=shop.seller, url=receiver.url)
    first = Message.objects.filter(conversation=shop.conversation).get()
    integrations.message_relayed(first.pk)
    events = sorted(IntegratorWebhookDelivery.objects.values_list("event", flat=True))
    assert events == ["conversation.created", "message.created"]


def test_a_failing_integrator_is_retried_with_backoff_then_delivered(
    shop: Shop, receiver: Receiver, settings: Any
) -> None:
    settings.RELAY_RETRY_BASE_SECONDS = 2.0
    integrations.add_integrator_webhook(user=shop.seller, url=receiver.url)
    report = moderation.file_report(
        conversation=shop.conversation, reporter_side="seller", reason="spam"
    )
    integrations.report_resolved(report.pk)  # nothing yet: the report is open
    receiver.statuses = [503, 500]
    IntegratorWebhookDelivery.objects.all().delete()
    from contacts.models import User

    moderator = User.objects.create_user(username="m", email="m@example.com", password="x-y-z-123")
    moderation.resolve_report(report=report, moderator=moderator, action="dismiss", reason="ok")
    integrations.report_resolved(report.pk)
    [delivery] = IntegratorWebhookDelivery.objects.filter(event="report.resolved")
    assert tasks.deliver_integrator_webhook(delivery.pk) == "retry"
    delivery.refresh_from_db()
    assert delivery.state == "pending" and delivery.attempts == 1 and delivery.status_code == 503
    assert delivery.next_attempt_at is not None
    assert tasks.deliver_integrator_webhook(delivery.pk) == "retry"
    assert tasks.deliver_integrator_webhook(delivery.pk) == "delivered"
    delivery.refresh_from_db()
    assert delivery.attempts == 3 and delivery.delivered_at is not None
    assert len(receiver.received) == 3
    assert json.loads(receiver.received[-1][1])["data"]["resolution"] == "dismiss"


def test_a_delivery_gives_up_after_the_last_attempt_and_a_4xx_is_final(
    shop: Shop, receiver: Receiver, settings: Any
) -> None:
    settings.API_WEBHOOK_MAX_ATTEMPTS = 2
    integrations.add_integrator_webhook(user=shop.seller, url=receiver.url)
    receiver.statuses = [500, 500, 404]
    first = Message.objects.filter(conversation=shop.conversation).get()
    integrations.message_relayed(first.pk)
    created = IntegratorWebhookDelivery.objects.get(event="conversation.created")
    assert tasks.deliver_integrator_webhook(created.pk) == "retry"
    assert tasks.deliver_integrator_webhook(created.pk) == "failed"
    message = IntegratorWebhookDelivery.objects.get(event="message.created")
    assert tasks.deliver_integrator_webhook(message.pk) == "failed"
    assert tasks.deliver_integrator_webhook(message.pk) == "skipped"


def test_no_webhook_means_nothing_is_queued(shop: Shop) -> None:
    first = Message.objects.filter(conversation=shop.conversation).get()
    integrations.message_relayed(first.pk)
    assert not IntegratorWebhookDelivery.objects.exists()


def test_the_dashboard_adds_a_webhook_and_shows_its_delivery_log(
    seller_client: Any, shop: Shop, receiver: Receiver
) -> None:
    page = seller_client.post("/api/webhooks/", {"url": receiver.url})
    secret = page.context["new_webhook_secret"]
    assert page.status_code == 200 and secret in page.content.decode()
    assert "it will not be shown again" in page.content.decode()
    first = Message.objects.filter(conversation=shop.conversation).get()
    integrations.message_relayed(first.pk)
    log = seller_client.get("/api/tokens/").content.decode()
    assert "conversation.created" in log and "message.created" in log
    assert secret not in log and f"{secret[:8]}…" in log
    bad = seller_client.post("/api/webhooks/", {"url": "ftp://example.com"}, follow=True)
    assert "http://" in bad.content.decode()


def stranded(shop: Shop, receiver: Receiver, **fields: Any) -> IntegratorWebhookDelivery:
    """A delivery as a lost publish or a dead worker leaves it (created without publishing)."""
    webhook = integrations.add_integrator_webhook(user=shop.seller, url=receiver.url).webhook
    return IntegratorWebhookDelivery.objects.create(
        webhook=webhook,
        event="conversation.created",
        payload={"conversation": shop.conversation.code},
        **fields,
    )


def delivered(delivery: IntegratorWebhookDelivery) -> bool:
    delivery.refresh_from_db()
    return delivery.state == "delivered"


@pytest.mark.worker
def test_a_delivery_left_sending_by_a_dead_worker_is_retried_once_its_lease_ran_out(
    shop: Shop, receiver: Receiver, celery_worker: Any, transactional_db: None
) -> None:
    now = timezone.now()
    delivery = stranded(
        shop,
        receiver,
        state="sending",
        attempts=1,
        next_attempt_at=now - dt.timedelta(minutes=5),
        claimed_until=now - dt.timedelta(seconds=1),
    )

    assert integrations.sweep_integrator_webhooks() == 1

    wait_until(lambda: delivered(delivery), what="the worker to deliver the reclaimed webhook")
    assert delivery.attempts == 3  # the earlier one, the one the dead worker lost, this one
    [(_headers, body)] = receiver.received
    assert json.loads(body)["delivery"] == delivery.pk


@pytest.mark.worker
def test_a_pending_delivery_whose_publish_was_lost_is_published_again(
    shop: Shop, receiver: Receiver, celery_worker: Any, transactional_db: None, settings: Any
) -> None:
    overdue = timezone.now() - dt.timedelta(seconds=settings.RELAY_SWEEP_PENDING_SECONDS + 5)
    delivery = stranded(shop, receiver, next_attempt_at=overdue)

    assert integrations.sweep_integrator_webhooks() == 1

    wait_until(lambda: delivered(delivery), what="the worker to deliver the re-published webhook")
    assert len(receiver.received) == 1


def test_a_fresh_claim_and_a_publish_still_in_flight_are_left_alone(
    shop: Shop, receiver: Receiver
) -> None:
    now = timezone.now()
    sending = stranded(
        shop, receiver, state="sending", claimed_until=now + integrations.claim_lease()
    )
    pending = stranded(shop, receiver, next_attempt_at=now)  # its task is on the broker

    assert integrations.sweep_integrator_webhooks(now=now + dt.timedelta(seconds=5)) == 0

    sending.refresh_from_db()
    pending.refresh_from_db()
    assert (sending.state, pending.state) == ("sending", "pending")
    assert receiver.received == []


def test_a_delivery_lost_on_its_last_attempt_fails_and_says_why(
    shop: Shop, receiver: Receiver, settings: Any
) -> None:
    settings.API_WEBHOOK_MAX_ATTEMPTS = 3
    delivery = stranded(shop, receiver, state="sending", attempts=2, claimed_until=None)

    # Reclaimed with no lease (a worker older than the lease column) on its last attempt: the
    # lost attempt was the third, so it fails and says why.
    assert integrations.sweep_integrator_webhooks() == 0
    delivery.refresh_from_db()
    assert (delivery.state, delivery.attempts) == ("failed", 3)
    assert delivery.last_error == "the worker sending it stopped"
    assert tasks.deliver_integrator_webhook(delivery.pk) == "skipped"
    assert receiver.received == []
