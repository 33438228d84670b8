"""Delivery that heals itself: leases, uncertain re-sends counted, limits that fail open, and
503 while the database is away. (The long fault runs live in tests/faults and bench/faults.)"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError
from django.test import RequestFactory
from django.utils import timezone

from config.errors import server_error
from contacts import services as contacts
from relay import services as relay
from relay.models import Delivery, Message
from relay.services import counters
from relay.services.delivery import deliver_delivery, lease_seconds, sweep_stuck_deliveries
from tests.relay.conftest import BUYER, World

FIXTURE = Path(__file__).resolve().parents[2] / "sandbox" / "demo.json"
DEWI = "+14155550100"  # the sandbox's SMS person "dewi"


@pytest.fixture
def sms_notice(db: None, sandbox_client: Any) -> Delivery:
    """A relay notice for Dewi's phone over the sandbox's Twilio, not published: the test
    drives it (the sandbox makes this a transactional test, so a running worker would see
    a published row and race the test for it)."""
    identities = [
        relay.add_relay_identity(
            channel=identity["channel"],
            provider_id=identity["provider_id"],
            address=identity["address"],
        )
        for identity in json.loads(FIXTURE.read_text())["identities"]
    ]
    endpoint, _ = contacts.get_or_create_endpoint(channel="sms", address=DEWI)
    sms = next(identity for identity in identities if identity.channel == "sms")
    return Delivery.objects.create(
        recipient_side="buyer",
        recipient_endpoint=endpoint,
        identity=sms,
        channel="sms",
        kind=Delivery.Kind.NOTICE,
        notice_code="help",
    )


@pytest.fixture
def short_timeout(settings: Any) -> Iterator[None]:
    sms = settings.PLATFORMS["sms"]
    before = sms.get("timeout_seconds")
    sms["timeout_seconds"] = 0.5
    yield
    if before is None:
        sms.pop("timeout_seconds")
    else:
        sms["timeout_seconds"] = before


def test_a_send_whose_answer_is_lost_is_resent_and_the_duplicate_counted(
    sms_notice: Delivery, sandbox_client: Any, short_timeout: None
) -> None:
    sandbox_client.configure(latency_ms=1500)  # the platform takes it, answers too late
    assert deliver_delivery(delivery_id=sms_notice.pk).outcome == "retry"
    sms_notice.refresh_from_db()
    assert (sms_notice.state, sms_notice.uncertain_sends) == ("pending", 1)
    assert counters.read()["uncertain_resends"] == 1

    sandbox_client.configure(latency_ms=0)
    Delivery.objects.filter(pk=sms_notice.pk).update(next_attempt_at=None)
    assert deliver_delivery(delivery_id=sms_notice.pk).outcome == "sent"
    # The platform got it twice: exactly the one re-send the relay counted.
    sandbox_client.wait_for_outbox(BUYER["sms"], 2)
    assert len(sandbox_client.outbox(BUYER["sms"])) == 1 + 1


def test_a_dead_worker_s_claim_is_handed_back_when_its_lease_runs_out(
    sms_notice: Delivery, sandbox_client: Any, celery_worker: Any
) -> None:
    now = timezone.now()
    # A worker claimed it and died: `sending`, lease ran out a second ago.
    Delivery.objects.filter(pk=sms_notice.pk).update(
        state="sending", claimed_until=now - dt.timedelta(seconds=1)
    )
    assert sweep_stuck_deliveries() == 1
    assert counters.read()["reclaimed_leases"] == 1
    # The sweep handed it back and published it: a real worker sends it, once.
    assert len(sandbox_client.wait_for_outbox(BUYER["sms"], 1)) == 1
    sms_notice.refresh_from_db()
    assert (sms_notice.state, sms_notice.uncertain_sends) == ("sent", 1)


def test_a_live_claim_is_left_to_its_worker(sms_notice: Delivery) -> None:
    Delivery.objects.filter(pk=sms_notice.pk).update(
        state="sending", claimed_until=timezone.now() + dt.timedelta(seconds=lease_seconds())
    )
    assert sweep_stuck_deliveries() == 0
    sms_notice.refresh_from_db()
    assert sms_notice.state == "sending"


def test_the_lease_outlasts_a_send_and_hands_a_dead_worker_on_within_half_a_minute() -> None:
    assert lease_seconds() == 15 + 3 + 2  # read + connect timeouts + margin: under 30 s


def test_a_webhook_is_acknowledged_and_committed_while_the_cache_is_down(
    world: World, settings: Any
) -> None:
    world.connect_seller("web")
    # Nothing listens on port 9 of loopback: every cache call fails at once.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_timeout": 1, "socket_connect_timeout": 1},
        }
    }
    answer = world.sandbox.send_inbound(BUYER["whatsapp"], "wa-main", f"{world.handle} halo")
    assert answer["relay_status"] == 200
    assert Message.objects.count() == 1


def test_a_request_while_the_database_is_away_gets_503_with_retry_after() -> None:
    request = RequestFactory().post("/webhooks/whatsapp/")
    try:
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed")
    except OperationalError:
        response = server_error(request)
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "retry" in response.content.decode()


def test_a_bug_still_gets_the_500_page() -> None:
    request = RequestFactory().get("/")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)
    assert response.status_code == 500
