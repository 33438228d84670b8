"""Prometheus metrics, computed from the database on each scrape.

Counting rows instead of keeping counters in memory makes every gunicorn worker and every web
node answer the same numbers, and survives restarts. The price is a few aggregate queries per
scrape (measured in the ops report: see tests/ops and the issue note); scrape every 15-60 s.

The text exposition format (version 0.0.4) is written here rather than through
prometheus-client: these are a handful of families with no in-process state to manage.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.utils import timezone

from relay.models import Delivery, Message
from relay.services import counters
from relay.signature_failures import signature_failures
from relay.webhook_rejections import rejected_events

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 86400.0)
QUEUED_STATES = (Delivery.State.PENDING, Delivery.State.SENDING)


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


def _messages() -> Family:
    family = Family(
        "perantara_messages_accepted_total",
        "counter",
        "Messages accepted by the relay (stored encrypted), by the channel they came from.",
    )
    rows = Message.objects.values("channel").annotate(n=Count("id")).order_by("channel")
    for row in rows:
        family.add(row["n"], channel=row["channel"])
    return family


def _deliveries() -> list[Family]:
    states = Family(
        "perantara_deliveries",
        "gauge",
        "Deliveries by recipient channel, kind (relay or notice) and current state.",
    )
    rows = (
        Delivery.objects.values("channel", "kind", "state")
        .annotate(n=Count("id"))
        .order_by("channel", "kind", "state")
    )
    for row in rows:
        states.add(row["n"], channel=row["channel"], kind=row["kind"], state=row["state"])

    retried = Family(
        "perantara_deliveries_retried_total",
        "counter",
        "Deliveries that needed more than one attempt, by channel.",
    )
    retries = Family(
        "perantara_delivery_retries_total",
        "counter",
        "Attempts beyond the first, summed over deliveries, by channel.",
    )
    for retried_row in (
        Delivery.objects.filter(attempts__gt=1)
        .values("channel")
        .annotate(n=Count("id"), extra=Sum(F("attempts") - 1))
        .order_by("channel")
    ):
        retried.add(retried_row["n"], channel=retried_row["channel"])
        retries.add(retried_row["extra"] or 0, channel=retried_row["channel"])

    failures = Family(
        "perantara_delivery_failures_total",
        "counter",
        "Deliveries that ended failed, by channel and reason (the platform or relay error code).",
    )
    for failed_row in (
        Delivery.objects.filter(state=Delivery.State.FAILED)
        .values("channel", "error_code")
        .annotate(n=Count("id"))
        .order_by("channel", "error_code")
    ):
        reason = failed_row["error_code"] or "unknown"
        failures.add(failed_row["n"], channel=failed_row["channel"], reason=reason)
    return [states, retried, retries, failures]


def _queue() -> list[Family]:
    depth = Family(
        "perantara_queue_depth",
        "gauge",
        "Deliveries waiting for a worker (pending) or being sent (sending).",
    )
    counts = dict(
        Delivery.objects.filter(state__in=QUEUED_STATES)
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    for state in QUEUED_STATES:
        depth.add(counts.get(state, 0), state=str(state))
    oldest = Family(
        "perantara_queue_oldest_pending_seconds",
        "gauge",
        "Age of the oldest pending delivery (0 when none): a stuck queue grows this.",
    )
    first = Delivery.objects.filter(state=Delivery.State.PENDING).aggregate(at=Min("created_at"))
    age = (timezone.now() - first["at"]).total_seconds() if first["at"] else 0.0
    oldest.add(max(age, 0.0))
    return [depth, oldest]


def _latency(buckets: Sequence[float] = LATENCY_BUCKETS) -> Family:
    """Accepted-to-sent time of relayed messages (Delivery.sent_at - Message.created_at)."""
    family = Family(
        "perantara_delivery_latency_seconds",
        "histogram",
        "Seconds from accepting a message to the platform (or web inbox) taking it, by channel.",
    )
    latency = ExpressionWrapper(
        F("sent_at") - F("message__created_at"), output_field=DurationField()
    )
    aggregates: dict[str, Any] = {
        f"le_{index}": Count("id", filter=Q(latency__lte=dt.timedelta(seconds=bound)))
        for index, bound in enumerate(buckets)
    }
    rows = (
        Delivery.objects.filter(
            kind=Delivery.Kind.RELAY, sent_at__isnull=False, message__isnull=False
        )
        .annotate(latency=latency)
        .values("channel")
        .annotate(count=Count("id"), total=Sum("latency"), **aggregates)
        .order_by("channel")
    )
    for row in rows:
        values: dict[str, Any] = dict(row)
        for index, bound in enumerate(buckets):
            family.add(values[f"le_{index}"], "_bucket", channel=row["channel"], le=_number(bound))
        family.add(row["count"], "_bucket", channel=row["channel"], le="+Inf")
        total = row["total"]
        seconds = total.total_seconds() if isinstance(total, dt.timedelta) else 0.0
        family.add(max(seconds, 0.0), "_sum", channel=row["channel"])
        family.add(row["count"], "_count", channel=row["channel"])
    return family


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


def _reliability() -> Family:
    family = Family(
        "perantara_reliability_events_total",
        "counter",
        "Self-healing events, counted when they happen (kept in the cache): uncertain_resends "
        "(a re-send that may duplicate), reclaimed_leases, database_retries, publish_failures, "
        "limits_failed_open.",
    )
    for event, value in counters.read().items():
        family.add(value, event=event)
    return family


def _reports() -> list[Family]:
    # Reports arrive with the moderation work; until relay.Report exists there is nothing to count.
    try:
        report = apps.get_model("relay", "Report")
    except LookupError:
        return []
    family = Family("perantara_reports_opened_total", "counter", "Abuse reports filed.")
    family.add(report._default_manager.count())
    return [family]


def collect() -> list[Family]:
    started = time.perf_counter()
    families = [_messages(), *_deliveries(), *_queue(), _latency(), _signature_failures()]
    families.append(_rejected_events())
    families.append(_reliability())
    families += _reports()
    took = Family("perantara_metrics_scrape_seconds", "gauge", "Time spent computing this page.")
    took.add(round(time.perf_counter() - started, 6))
    families.append(took)
    return families
