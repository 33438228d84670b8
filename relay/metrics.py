"""Prometheus metrics: event counters kept in the cache, and a few gauges bounded by the queue.

Nothing here scans history. Counts (messages accepted, deliveries finished, retries, failures,
the latency histogram, reports) are taken when their event happens (relay/services/
event_counts.py) and read with one cache round trip; the queue gauges read only the rows still
queued, through the (state, ...) index; table sizes come from PostgreSQL's own estimates. A
scrape therefore costs the same statements on day 1,000 as on day 1 (tests/ops/test_metrics.py
counts them).

Counters live in the cache (Redis with CACHE_URL: one number for every process; otherwise
each process's memory) and start again from zero when the cache is flushed; Prometheus handles
a counter reset. Scrape every 15-60 s.

The text exposition format (version 0.0.4) is written here rather than through
prometheus-client: these are a handful of families with no in-process state to manage.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from django.apps import apps
from django.db import connection
from django.db.models import Count, Min, QuerySet
from django.utils import timezone

from contacts.models import Channel
from relay.models import Delivery
from relay.services import counters
from relay.services import event_counts as events
from relay.signature_failures import signature_failures
from relay.webhook_rejections import rejected_events

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = events.LATENCY_BUCKETS
QUEUED_STATES = (Delivery.State.PENDING, Delivery.State.SENDING)
RESET_NOTE = "Kept in the cache; starts again from zero when the cache is flushed."
# Apps whose tables are sized on PostgreSQL (perantara_table_rows_estimate).
SIZED_APPS = ("contacts", "marketplace", "relay")


@dataclass
class Family:
    name: str
    kind: str  # "counter", "gauge" or "histogram"
    help: str
    samples: list[tuple[str, dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, suffix: str = "", **labels: str) -> None:
        self.samples.append((self.name + suffix, labels, value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _number(value: float) -> str:
    if value == float("inf"):
        return "+Inf"
    return repr(int(value)) if float(value).is_integer() else repr(float(value))


def render(families: Iterable[Family]) -> str:
    lines: list[str] = []
    for family in families:
        lines.append(f"# HELP {family.name} {family.help}")
        lines.append(f"# TYPE {family.name} {family.kind}")
        for name, labels, value in family.samples:
            text = ",".join(f'{key}="{_escape(val)}"' for key, val in labels.items())
            lines.append(
                f"{name}{{{text}}} {_number(value)}" if text else f"{name} {_number(value)}"
            )
    return "\n".join(lines) + "\n"


Counts = Mapping[str, list[tuple[list[str], int]]]


def _by_family(found: Mapping[str, int]) -> Counts:
    grouped: dict[str, list[tuple[list[str], int]]] = defaultdict(list)
    for name in sorted(found):
        family, labels = counters.labels_of(name)
        grouped[family].append((labels, found[name]))
    return grouped


def _messages(counts: Counts) -> Family:
    family = Family(
        "perantara_messages_accepted_total",
        "counter",
        "Messages accepted by the relay (stored encrypted), by the channel they came from. "
        + RESET_NOTE,
    )
    accepted = {labels[0]: value for labels, value in counts.get(events.MESSAGES_ACCEPTED, [])}
    for channel in sorted({*Channel.values, *accepted}):
        family.add(accepted.get(channel, 0), channel=channel)
    return family


def _deliveries(counts: Counts) -> list[Family]:
    finished = Family(
        "perantara_deliveries_finished_total",
        "counter",
        "Deliveries the worker finished, by recipient channel, kind (relay or notice) and "
        "outcome: sent, delivered (into the web inbox), waiting (a template went out, the text "
        "waits for the answer) or failed. " + RESET_NOTE,
    )
    for (channel, kind, state), value in _labelled(counts, events.DELIVERIES_FINISHED, 3):
        finished.add(value, channel=channel, kind=kind, state=state)
    retried = Family(
        "perantara_deliveries_retried_total",
        "counter",
        "Deliveries that needed more than one attempt, by channel, counted when they finished. "
        + RESET_NOTE,
    )
    for (channel,), value in _labelled(counts, events.DELIVERIES_RETRIED, 1):
        retried.add(value, channel=channel)
    retries = Family(
        "perantara_delivery_retries_total",
        "counter",
        "Attempts beyond the first, summed over finished deliveries, by channel. " + RESET_NOTE,
    )
    for (channel,), value in _labelled(counts, events.DELIVERY_RETRIES, 1):
        retries.add(value, channel=channel)
    failures = Family(
        "perantara_delivery_failures_total",
        "counter",
        "Deliveries that failed, by channel and reason (the platform or relay error code), "
        "whether the worker gave up or the platform reported it later. " + RESET_NOTE,
    )
    for (channel, reason), value in _labelled(counts, events.DELIVERY_FAILURES, 2):
        failures.add(value, channel=channel, reason=reason)
    return [finished, retried, retries, failures]


def _labelled(counts: Counts, family: str, arity: int) -> list[tuple[tuple[str, ...], int]]:
    """A family's counts whose label values have the expected arity (others are skipped)."""
    return [
        (tuple(labels), value) for labels, value in counts.get(family, []) if len(labels) == arity
    ]


def queued_deliveries() -> QuerySet[Delivery, tuple[str, int, dt.datetime | None]]:
    """(state, how many, oldest created_at) of the pending and sending deliveries.

    Bounded by the queue, not by history: the filter on state walks the (state, updated_at)
    index, so finished rows are never read (tests/ops/test_metrics.py checks the plan)."""
    return (
        Delivery.objects.filter(state__in=QUEUED_STATES)
        .values("state")
        .annotate(n=Count("id"), oldest=Min("created_at"))
        .order_by("state")
        .values_list("state", "n", "oldest")
    )


def _queue() -> list[Family]:
    """Pending and sending deliveries and the age of the oldest pending one, in one statement."""
    depth = Family(
        "perantara_queue_depth",
        "gauge",
        "Deliveries waiting for a worker (pending) or being sent (sending).",
    )
    rows: dict[str, tuple[int, dt.datetime | None]] = {
        state: (n, oldest_at) for state, n, oldest_at in queued_deliveries()
    }
    for state in QUEUED_STATES:
        depth.add(rows.get(state, (0, None))[0], state=str(state))
    oldest = Family(
        "perantara_queue_oldest_pending_seconds",
        "gauge",
        "Age of the oldest pending delivery (0 when none): a stuck queue grows this.",
    )
    first = rows.get(Delivery.State.PENDING, (0, None))[1]
    age = (timezone.now() - first).total_seconds() if first else 0.0
    oldest.add(max(age, 0.0))
    return [depth, oldest]


def _latency(counts: Counts, buckets: Sequence[float] = LATENCY_BUCKETS) -> Family:
    """Accepted-to-sent time of relayed messages, observed when the platform took each one."""
    family = Family(
        "perantara_delivery_latency_seconds",
        "histogram",
        "Seconds from accepting a message to the platform (or web inbox) taking it, by channel. "
        + RESET_NOTE,
    )
    per_bucket: dict[str, list[int]] = defaultdict(lambda: [0] * (len(buckets) + 1))
    for (channel, position), value in _labelled(counts, events.LATENCY_BUCKET, 2):
        if position.isdigit() and int(position) <= len(buckets):
            per_bucket[channel][int(position)] += value
    sums = dict(_labelled(counts, events.LATENCY_SUM, 1))
    for channel in sorted(per_bucket):
        running = 0
        for index, bound in enumerate([*buckets, float("inf")]):
            running += per_bucket[channel][index]
            family.add(running, "_bucket", channel=channel, le=_number(bound))
        family.add(sums.get((channel,), 0) / 1_000_000, "_sum", channel=channel)
        family.add(running, "_count", channel=channel)
    return family


def _table_sizes() -> list[Family]:
    """Rows per table from PostgreSQL's planner estimate (`pg_class.reltuples`, kept by
    autovacuum and ANALYZE): one catalog read, whatever the tables hold. SQLite keeps no
    estimate and counting would scan, so there the family is left out."""
    if connection.vendor != "postgresql":
        return []
    tables = sorted(
        model._meta.db_table
        for app in SIZED_APPS
        for model in apps.get_app_config(app).get_models()
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples FROM pg_class "
            "WHERE relkind IN ('r', 'p') AND relname = ANY(%s) AND relnamespace = "
            "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())",
            [tables],
        )
        rows = cursor.fetchall()
    family = Family(
        "perantara_table_rows_estimate",
        "gauge",
        "Rows stored per table, PostgreSQL's estimate (pg_class.reltuples, as of the last "
        "ANALYZE or autovacuum; tables never analysed are left out).",
    )
    for table, estimate in sorted(rows):
        if estimate >= 0:  # -1: never analysed (PostgreSQL 14+)
            family.add(round(estimate), table=table)
    return [family]


def _signature_failures() -> Family:
    family = Family(
        "perantara_webhook_signature_failures_total",
        "counter",
        "Webhooks rejected for a bad signature, by platform (kept in the cache; see CACHE_URL).",
    )
    for platform, count in signature_failures().items():
        family.add(count, platform=platform)
    return family


def _rejected_events() -> Family:
    family = Family(
        "perantara_webhook_events_rejected_total",
        "counter",
        "Webhook events skipped because they could not be read (the rest of each POST was "
        "accepted), by platform (kept in the cache; see CACHE_URL).",
    )
    for platform, count in rejected_events().items():
        family.add(count, platform=platform)
    return family


def _reliability(counts: Mapping[str, int]) -> Family:
    family = Family(
        "perantara_reliability_events_total",
        "counter",
        "Self-healing events, counted when they happen: uncertain_resends "
        "(a re-send that may duplicate), reclaimed_leases, database_retries, publish_failures, "
        "limits_failed_open. " + RESET_NOTE,
    )
    for event, value in counters.read(counts).items():
        family.add(value, event=event)
    return family


def _reports(counts: Counts) -> Family:
    family = Family(
        "perantara_reports_opened_total",
        "counter",
        "Abuse reports filed (by people and by the spam hold). " + RESET_NOTE,
    )
    family.add(sum(value for _, value in counts.get(events.REPORTS_FILED, [])))
    return family


def collect() -> list[Family]:
    started = time.perf_counter()
    found = counters.read_all()
    counts = _by_family(found)
    families = [_messages(counts), *_deliveries(counts), *_queue(), _latency(counts)]
    families += [_signature_failures(), _rejected_events(), _reliability(found), _reports(counts)]
    families += _table_sizes()
    took = Family("perantara_metrics_scrape_seconds", "gauge", "Time spent computing this page.")
    took.add(round(time.perf_counter() - started, 6))
    families.append(took)
    return families
