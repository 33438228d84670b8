"""/metrics: Prometheus text for the operator, behind a token or an address allow-list.

Counts move when their event happens on the real path (the pipeline, the worker's service,
a status webhook, a report); a scrape's statements do not grow with the rows stored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from functools import partial
from typing import Any

import pytest
import redis.connection
import time_machine
from django.conf import settings as settings_module
from django.core.cache import caches
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from relay import crypto, metrics
from relay.adapters.base import StatusUpdate
from relay.models import Conversation, Delivery, Message
from relay.services import counters, moderation
from relay.services.delivery import deliver_delivery
from relay.services.statuses import accept_status
from tests.ops.conftest import Shop

pytestmark = pytest.mark.django_db
BUYER = "+6281234567001"


def sample(page: str, name: str, **labels: str) -> float:
    """The value of one sample on a metrics page (0 if absent)."""
    wanted = ",".join(f'{key}="{value}"' for key, value in labels.items())
    pattern = "^" + re.escape(f"{name}{{{wanted}}}" if labels else name) + r" (\S+)$"
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


Committed = Callable[[], AbstractContextManager[Any]]
LATENCY = "perantara_delivery_latency_seconds"


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Committed:
    """Run what waits for the commit as production does: the counts, and the publish (to
    the embedded broker, which no worker reads here)."""
    return partial(django_capture_on_commit_callbacks, execute=True)


def deliver(delivery: Delivery, committed: Committed) -> str:
    with committed():
        return deliver_delivery(delivery_id=delivery.pk).outcome


def test_a_relayed_message_is_counted_when_accepted_and_its_latency_when_delivered(
    client: Client, shop: Shop, committed: Committed
) -> None:
    accepted_at = timezone.now() + dt.timedelta(minutes=1)
    before = scrape(client)
    with time_machine.travel(accepted_at, tick=False), committed():
        shop.write(BUYER, "is the bike still available?")
    queued = scrape(client)

    assert sample(queued, "perantara_messages_accepted_total", channel="whatsapp") == (
        sample(before, "perantara_messages_accepted_total", channel="whatsapp") + 1
    )
    assert sample(queued, "perantara_messages_accepted_total", channel="sms") == 0
    assert sample(queued, "perantara_queue_depth", state="pending") == 1
    assert sample(queued, f"{LATENCY}_count", channel="web") == 0
    assert BUYER not in queued and "6281234567001" not in queued

    to_seller = Delivery.objects.get(kind=Delivery.Kind.RELAY)
    with time_machine.travel(accepted_at + dt.timedelta(seconds=1.5), tick=False):
        assert deliver(to_seller, committed) == "sent"
    sent = scrape(client)

    finished = "perantara_deliveries_finished_total"
    assert sample(sent, finished, channel="web", kind="relay", state="delivered") == 1
    assert sample(sent, f"{LATENCY}_bucket", channel="web", le="1") == 0
    assert sample(sent, f"{LATENCY}_bucket", channel="web", le="2.5") == 1
    assert sample(sent, f"{LATENCY}_bucket", channel="web", le="86400") == 1
    assert sample(sent, f"{LATENCY}_bucket", channel="web", le="+Inf") == 1
    assert sample(sent, f"{LATENCY}_count", channel="web") == 1
    assert sample(sent, f"{LATENCY}_sum", channel="web") == pytest.approx(1.5)
    # The seller got it on the first attempt; the buyer's "it reached them" notice now waits.
    assert sample(sent, "perantara_deliveries_retried_total", channel="web") == 0
    assert sample(sent, "perantara_queue_depth", state="pending") == 1


def test_a_delivery_that_took_retries_and_failed_is_counted_by_channel_and_reason(
    client: Client, shop: Shop, committed: Committed, settings: Any
) -> None:
    # The buyer's notice goes to WhatsApp, whose API (tests: 127.0.0.1:9) refuses connections.
    settings.RELAY_DELIVERY_MAX_ATTEMPTS = 2
    with committed():
        shop.write(BUYER, "hello")
    assert deliver(Delivery.objects.get(kind=Delivery.Kind.RELAY), committed) == "sent"
    notice = Delivery.objects.get(kind=Delivery.Kind.NOTICE, channel="whatsapp")

    assert deliver(notice, committed) == "retry"
    retrying = scrape(client)
    Delivery.objects.filter(pk=notice.pk).update(next_attempt_at=None)  # its backoff is over
    assert deliver(notice, committed) == "failed"
    failed = scrape(client)

    notice.refresh_from_db()
    assert notice.error_code  # the connection error's code, the label of the failure
    finished = "perantara_deliveries_finished_total"
    assert sample(retrying, finished, channel="whatsapp", kind="notice", state="failed") == 0
    assert sample(retrying, "perantara_delivery_retries_total", channel="whatsapp") == 0
    assert sample(failed, finished, channel="whatsapp", kind="notice", state="failed") == 1
    assert sample(failed, finished, channel="whatsapp", kind="notice", state="sent") == 0
    reason = notice.error_code
    assert (
        sample(failed, "perantara_delivery_failures_total", channel="whatsapp", reason=reason) == 1
    )
    assert sample(failed, "perantara_deliveries_retried_total", channel="whatsapp") == 1
    assert sample(failed, "perantara_delivery_retries_total", channel="whatsapp") == 1
    # A failed notice is no message the platform took: the histogram only has the web one.
    assert sample(failed, f"{LATENCY}_count", channel="whatsapp") == 0


def test_a_failure_the_platform_reports_after_the_send_counts_as_a_failure_not_a_finish(
    client: Client, shop: Shop, committed: Committed
) -> None:
    with committed():
        shop.write(BUYER, "hello")
    assert deliver(Delivery.objects.get(kind=Delivery.Kind.RELAY), committed) == "sent"
    notice = Delivery.objects.get(kind=Delivery.Kind.NOTICE, channel="whatsapp")
    # What the worker leaves after WhatsApp took the notice: sent, with the keyed message id.
    Delivery.objects.filter(pk=notice.pk).update(
        state=Delivery.State.SENT,
        sent_at=timezone.now(),
        provider_message_id=crypto.provider_key("wamid.NOTICE1"),
    )
    before = scrape(client)

    with committed():
        changed = accept_status(
            update=StatusUpdate(
                channel="whatsapp",
                status="failed",
                timestamp=timezone.now(),
                provider_message_id="wamid.NOTICE1",
                error_code="131026",
            )
        )
    after = scrape(client)

    assert changed == 1
    failures = "perantara_delivery_failures_total"
    assert sample(before, failures, channel="whatsapp", reason="131026") == 0
    assert sample(after, failures, channel="whatsapp", reason="131026") == 1
    finished = "perantara_deliveries_finished_total"
    assert sample(after, finished, channel="whatsapp", kind="notice", state="failed") == 0


def test_a_report_is_counted_when_it_is_filed(
    client: Client, shop: Shop, committed: Committed
) -> None:
    with committed():
        conversation = shop.write(BUYER, "hello")
    before = sample(scrape(client), "perantara_reports_opened_total")

    with committed():
        moderation.file_report(conversation=conversation, reporter_side="seller", reason="spam")

    assert sample(scrape(client), "perantara_reports_opened_total") == before + 1


def test_a_message_rolled_back_before_its_commit_is_not_counted(
    client: Client, shop: Shop, django_capture_on_commit_callbacks: Any
) -> None:
    # The webhook's transaction never committed (the platform will retry it): no count yet.
    with django_capture_on_commit_callbacks(execute=False):
        shop.write(BUYER, "hello")

    assert sample(scrape(client), "perantara_messages_accepted_total", channel="whatsapp") == 0


def _grow(conversation: Conversation, *, to: int) -> None:
    """Bulk history: `to` messages in all, each with a delivery in a final state."""
    template = Delivery.objects.filter(kind=Delivery.Kind.RELAY).first()
    assert template is not None
    missing = to - Message.objects.count()
    now = timezone.now()
    messages = Message.objects.bulk_create(
        Message(
            conversation=conversation,
            sender_side="buyer",
            channel="whatsapp",
            body_sealed=b"sealed",
        )
        for _ in range(missing)
    )
    states = ("sent", "delivered", "read", "failed")
    Delivery.objects.bulk_create(
        Delivery(
            message=message,
            conversation=conversation,
            recipient_side="seller",
            recipient_endpoint_id=template.recipient_endpoint_id,
            channel="web",
            state=states[index % len(states)],
            attempts=1 + index % 3,
            error_code="131047" if index % 4 == 3 else "",
            sent_at=now,
            seq=1000 + index,
        )
        for index, message in enumerate(messages)
    )


def _scrape_statements(client: Client) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        scrape(client)
    return [query["sql"] for query in captured.captured_queries]


def test_a_scrape_runs_the_same_statements_with_ten_rows_stored_and_with_a_thousand(
    client: Client, shop: Shop
) -> None:
    conversation = shop.write(BUYER, "hello")
    _grow(conversation, to=10)
    small = _scrape_statements(client)
    _grow(conversation, to=1000)
    large = _scrape_statements(client)

    assert Message.objects.count() == 1000
    assert len(large) == len(small)
    # None of them reads history: no message table, and deliveries only through the queue
    # (the catalog's size estimates name the tables without reading them).
    tables = [sql for sql in large if "FROM pg_class" not in sql]
    assert not [sql for sql in tables if "relay_message" in sql or "relay_report" in sql]
    on_deliveries = [sql for sql in tables if "relay_delivery" in sql]
    assert on_deliveries and all('"relay_delivery"."state" IN' in sql for sql in on_deliveries)


def _plan(sql: str, params: tuple[Any, ...]) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # A table this small is read whole by choice; the question is whether an index
            # exists for it to use once the table is large.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
        return "\n".join(str(row) for row in cursor.fetchall())


def test_the_queue_gauges_read_the_state_index_not_the_whole_table(shop: Shop) -> None:
    shop.write(BUYER, "hello")
    (index,) = [i.name for i in Delivery._meta.indexes if list(i.fields) == ["state", "updated_at"]]
    sql, params = metrics.queued_deliveries().query.sql_with_params()

    plan = _plan(sql, params)

    assert index in plan, plan


@pytest.fixture
def unreachable_cache(settings: Any) -> Iterator[None]:
    """The cache is a Redis nobody listens on (a closed loopback port)."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",
            "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2},
        }
    }
    yield
    caches["default"].close()


def test_metrics_answer_while_the_cache_is_unreachable(
    client: Client, shop: Shop, unreachable_cache: None
) -> None:
    """A Redis outage must not turn the scrape into a 500: the queue gauges still come from the
    database, and the counters are simply absent until the cache is back."""
    text = scrape(client)
    assert "perantara_queue_depth" in text
    counters.resume()


def test_a_message_is_relayed_and_delivered_while_the_cache_cannot_count_it(
    shop: Shop, committed: Committed, unreachable_cache: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with committed():
        shop.write(BUYER, "hello")

    assert deliver(Delivery.objects.get(kind=Delivery.Kind.RELAY), committed) == "sent"
    assert Delivery.objects.get(kind=Delivery.Kind.RELAY).state == Delivery.State.DELIVERED

    # After a failed count the process stops trying for a while: a Redis that hangs costs
    # one socket timeout, not one per message.
    tries: list[object] = []
    connect = redis.connection.Connection.connect

    def counted(self: redis.connection.Connection) -> None:
        tries.append(self)
        connect(self)

    monkeypatch.setattr(redis.connection.Connection, "connect", counted)
    counters.add({"deliveries_finished|web|relay|delivered": 1})
    assert tries == []
    counters.resume()
    counters.add({"deliveries_finished|web|relay|delivered": 1})
    assert len(tries) == 1


def test_counters_start_again_from_zero_when_the_cache_is_flushed(
    client: Client, shop: Shop, committed: Committed
) -> None:
    with committed():
        shop.write(BUYER, "hello")
    assert sample(scrape(client), "perantara_messages_accepted_total", channel="whatsapp") == 1

    caches["default"].clear()
    page = scrape(client)

    assert sample(page, "perantara_messages_accepted_total", channel="whatsapp") == 0
    assert "starts again from zero when the cache is flushed" in page


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


@pytest.mark.skipif(
    not settings_module.CACHE_URL.startswith("redis"), reason="needs CACHE_URL on Redis (CI)"
)
def test_a_delivery_costs_one_round_trip_to_redis_whatever_it_counts(
    client: Client, shop: Shop, committed: Committed, monkeypatch: pytest.MonkeyPatch
) -> None:
    with committed():
        shop.write(BUYER, "hello")
    to_seller = Delivery.objects.get(kind=Delivery.Kind.RELAY)
    Delivery.objects.filter(pk=to_seller.pk).update(attempts=1)  # one attempt failed before
    sent: list[bytes] = []
    send = redis.connection.Connection.send_packed_command

    def counted(self: redis.connection.Connection, command: Any, check_health: bool = True) -> None:
        sent.append(command)
        send(self, command, check_health)

    monkeypatch.setattr(redis.connection.Connection, "send_packed_command", counted)
    assert deliver(to_seller, committed) == "sent"
    counted_sends = [command for command in sent if b"HINCRBY" in _flat(command)]
    monkeypatch.undo()

    # Finished, retried, retries, latency bucket and sum: five counts, one round trip.
    assert len(counted_sends) == 1
    assert _flat(counted_sends[0]).count(b"HINCRBY") == 5
    page = scrape(client)
    assert sample(page, "perantara_delivery_retries_total", channel="web") == 1
    assert sample(page, f"{LATENCY}_count", channel="web") == 1


def _flat(command: Any) -> bytes:
    parts = command if isinstance(command, list | tuple) else [command]
    return b"".join(part if isinstance(part, bytes) else bytes(part) for part in parts)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite keeps no row estimates")
def test_table_sizes_come_from_postgresql_s_estimates(client: Client, shop: Shop) -> None:
    conversation = shop.write(BUYER, "hello")
    _grow(conversation, to=50)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE relay_message")

    page = scrape(client)

    assert sample(page, "perantara_table_rows_estimate", table="relay_message") == 50
