"""Round trips a relayed message no longer pays for (issue #17): the health check's `SELECT 1`
on a connection just used, and the opt-out lookup before every send (loaded with the claim).
What stays: a connection idle for longer, or one that errored, is checked again; an opted-out
recipient is still never sent to."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import close_old_connections, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config import db_reuse
from contacts import services as contacts
from relay import services as relay
from relay.adapters.base import StatusUpdate
from relay.models import Delivery, SmsOptOut
from relay.services.delivery import deliver_delivery
from relay.services.statuses import accept_status
from tests.relay.conftest import BUYER

FIXTURE = Path(__file__).resolve().parents[2] / "sandbox" / "demo.json"
DEWI = "+14155550100"  # the sandbox's SMS person "dewi" (BUYER["sms"])


@pytest.fixture
def checks(transactional_db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Each health check the connection runs (outside a test transaction, as in production)."""
    seen: list[float] = []
    connection.ensure_connection()
    monkeypatch.setattr(connection, "health_check_enabled", True)
    real = connection.is_usable

    def is_usable() -> bool:
        seen.append(time.monotonic())
        return real()

    monkeypatch.setattr(connection, "is_usable", is_usable)
    yield seen


def _task(query: bool = True) -> None:
    """What relay/tasks.py does around every task (and Django + db_reuse around a request)."""
    close_old_connections()
    db_reuse.starting()
    if query:
        Delivery.objects.exists()
    close_old_connections()
    db_reuse.finished()


def test_a_task_right_after_another_sends_no_health_check(checks: list[float]) -> None:
    _task()
    before = len(checks)
    for _ in range(5):
        _task()
    assert len(checks) == before


def test_a_connection_idle_longer_than_the_window_is_checked_again(
    checks: list[float], settings: Any
) -> None:
    settings.DB_HEALTH_CHECK_SKIP_SECONDS = 0.05
    _task()
    time.sleep(0.1)
    before = len(checks)
    _task()
    assert len(checks) == before + 1


def test_a_connection_that_errored_is_checked_before_the_next_task(checks: list[float]) -> None:
    _task()
    close_old_connections()
    db_reuse.starting()
    Delivery.objects.exists()
    connection.errors_occurred = True  # a query failed in this task
    close_old_connections()  # Django checks it here, as before
    db_reuse.finished()
    before = len(checks)
    connection.errors_occurred = True  # and it failed again: no stamp survives an error
    db_reuse.finished()
    close_old_connections()
    db_reuse.starting()
    Delivery.objects.exists()
    assert len(checks) > before


def test_setting_the_window_to_zero_checks_before_every_task(
    checks: list[float], settings: Any
) -> None:
    settings.DB_HEALTH_CHECK_SKIP_SECONDS = 0
    _task()
    before = len(checks)
    _task()
    _task()
    assert len(checks) == before + 2


@pytest.fixture
def sms_notice(db: None, sandbox_client: Any) -> Delivery:
    """A notice for Dewi's phone over the sandbox's Twilio, driven by the test (unpublished)."""
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


def _optout_lookups(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries if "relay_smsoptout" in q["sql"]]


def test_a_delivery_asks_about_opt_outs_in_its_claim_not_in_a_statement_of_its_own(
    sms_notice: Delivery, sandbox_client: Any
) -> None:
    with CaptureQueriesContext(connection) as queries:
        assert deliver_delivery(delivery_id=sms_notice.pk).outcome == "sent"
    assert len(sandbox_client.wait_for_outbox(BUYER["sms"], 1)) == 1
    lookups = _optout_lookups(queries)
    # One statement asks, and it is the one that loads the claimed delivery for sending.
    assert len(lookups) == 1 and "JOIN contacts_endpoint AS r" in lookups[0]


def test_an_opted_out_recipient_is_still_never_sent_to(
    sms_notice: Delivery, sandbox_client: Any
) -> None:
    assert sms_notice.identity is not None
    SmsOptOut.objects.create(endpoint=sms_notice.recipient_endpoint, identity=sms_notice.identity)
    with CaptureQueriesContext(connection) as queries:
        assert deliver_delivery(delivery_id=sms_notice.pk).outcome == "failed"
    sms_notice.refresh_from_db()
    assert (sms_notice.state, sms_notice.error_code) == ("failed", "opted-out")
    assert sandbox_client.outbox(BUYER["sms"]) == []
    lookups = _optout_lookups(queries)
    assert len(lookups) == 1 and "JOIN contacts_endpoint AS r" in lookups[0]


def _messenger_delivery(endpoint: Any, *, sent_minutes_ago: int, state: str = "sent") -> Delivery:
    return Delivery.objects.create(
        recipient_side="buyer",
        recipient_endpoint=endpoint,
        channel="messenger",
        kind=Delivery.Kind.NOTICE,
        notice_code="help",
        state=state,
        sent_at=timezone.now() - dt.timedelta(minutes=sent_minutes_ago),
    )


def test_a_read_watermark_marks_what_was_sent_before_it_read_in_one_statement(db: None) -> None:
    reader, _ = contacts.get_or_create_endpoint(channel="messenger", address="7100000000000001")
    other, _ = contacts.get_or_create_endpoint(channel="messenger", address="7100000000000002")
    older = _messenger_delivery(reader, sent_minutes_ago=10)
    delivered = _messenger_delivery(reader, sent_minutes_ago=9, state="delivered")
    newer = _messenger_delivery(reader, sent_minutes_ago=0)
    elsewhere = _messenger_delivery(other, sent_minutes_ago=10)
    update = StatusUpdate(
        channel="messenger",
        status="read",
        timestamp=timezone.now(),
        recipient_address="7100000000000001",
        watermark=timezone.now() - dt.timedelta(minutes=5),
    )
    with CaptureQueriesContext(connection) as queries:
        assert accept_status(update=update) == 2
    assert len(queries.captured_queries) == 1
    states = {d.pk: d.state for d in Delivery.objects.all()}
    assert states == {
        older.pk: "read",
        delivered.pk: "read",
        newer.pk: "sent",
        elsewhere.pk: "sent",
    }
    # An address that is no account id changes nothing and raises nothing.
    bad = dataclasses.replace(update, recipient_address="not an id!")
    assert accept_status(update=bad) == 0
