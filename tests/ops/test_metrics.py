"""/metrics: Prometheus text for the operator, behind a token or an address allow-list."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client

from relay.models import Delivery, Message
from tests.ops.conftest import Shop

pytestmark = pytest.mark.django_db
BUYER = "+6281234567001"


def sample(page: str, name: str, **labels: str) -> float:
    """The value of one sample on a metrics page (0 if absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = re.escape(f"{name}{{{wanted}}}" if labels else name) + r" (\S+)$"
    found = re.search(pattern, page, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


def scrape(client: Client) -> str:
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return response.content.decode()


def test_metrics_refuse_a_scraper_without_the_token_from_outside_the_allowed_addresses(
    client: Client, settings: Any
) -> None:
    settings.METRICS_TOKEN = "scrape-token-123"
    settings.METRICS_ALLOWED_IPS = ["127.0.0.1"]

    outside = client.get("/metrics", REMOTE_ADDR="203.0.113.9")
    wrong = client.get("/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer guessed")
    right = client.get(
        "/metrics", REMOTE_ADDR="203.0.113.9", HTTP_AUTHORIZATION="Bearer scrape-token-123"
    )

    assert outside.status_code == 403
    assert "METRICS_TOKEN" in outside.content.decode()
    assert wrong.status_code == 403
    assert right.status_code == 200
    assert "# TYPE perantara_messages_accepted_total counter" in right.content.decode()


def test_metrics_refuse_everyone_without_a_token_when_no_address_is_allowed(
    client: Client, settings: Any
) -> None:
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []

    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 403
    assert (
        client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_AUTHORIZATION="Bearer ").status_code
        == 403
    )


def test_metrics_answer_a_scraper_inside_an_allowed_network(client: Client, settings: Any) -> None:
    settings.METRICS_ALLOWED_IPS = ["10.0.0.0/8"]

    assert client.get("/metrics", REMOTE_ADDR="10.20.30.40").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="11.0.0.1").status_code == 403


def test_metrics_count_a_relayed_message_its_delivery_and_its_latency(
    client: Client, shop: Shop
) -> None:
    before = scrape(client)

    shop.write(BUYER, "is the bike still available?")
    queued = scrape(client)

    assert sample(queued, "perantara_messages_accepted_total", channel="whatsapp") == (
        sample(before, "perantara_messages_accepted_total", channel="whatsapp") + 1
    )
    assert sample(queued, "perantara_deliveries", channel="web", kind="relay", state="pending") == 1
    assert sample(queued, "perantara_queue_depth", state="pending") == 1
    assert BUYER not in queued and "6281234567001" not in queued

    message = Message.objects.get()
    Delivery.objects.filter(message=message).update(
        state=Delivery.State.SENT,
        attempts=2,
        sent_at=message.created_at + dt.timedelta(seconds=1.5),
    )
    sent = scrape(client)

    assert sample(sent, "perantara_queue_depth", state="pending") == 0
    assert sample(sent, "perantara_deliveries", channel="web", kind="relay", state="sent") == 1
    latency = "perantara_delivery_latency_seconds"
    assert sample(sent, f"{latency}_bucket", channel="web", le="1") == 0
    assert sample(sent, f"{latency}_bucket", channel="web", le="2.5") == 1
    assert sample(sent, f"{latency}_bucket", channel="web", le="+Inf") == 1
    assert sample(sent, f"{latency}_count", channel="web") == 1
    assert sample(sent, f"{latency}_sum", channel="web") == pytest.approx(1.5)
    assert sample(sent, "perantara_deliveries_retried_total", channel="web") == 1
    assert sample(sent, "perantara_delivery_retries_total", channel="web") == 1


def test_metrics_count_failures_by_reason(client: Client, shop: Shop) -> None:
    shop.write(BUYER, "hello")
    Delivery.objects.update(state=Delivery.State.FAILED, error_code="131047")

    page = scrape(client)

    assert sample(page, "perantara_delivery_failures_total", channel="web", reason="131047") == 1


def test_a_webhook_with_a_forged_signature_is_counted(client: Client, shop: Shop) -> None:
    counter = "perantara_webhook_signature_failures_total"
    before = sample(scrape(client), counter, platform="whatsapp")

    response = client.post(
        "/webhooks/whatsapp/",
        data=b'{"object": "whatsapp_business_account", "entry": []}',
        content_type="application/json",
        HTTP_X_HUB_SIGNATURE_256="sha256=" + "0" * 64,
    )

    assert response.status_code == 403
    after = sample(scrape(client), counter, platform="whatsapp")
    assert after == before + 1
