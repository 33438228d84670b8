"""What /metrics counts, counted where it happens: one cache round trip per event.

Each function names one event of the message path and moves every count it concerns in one
`counters.add` (one pipelined round trip to Redis). Counts are taken once the surrounding
transaction commits, so a rolled-back webhook (which the platform retries) is not counted
twice; outside a transaction (the worker) that is at once.

Label values are enum values (channels, kinds, states) or the platform's error codes: never an
address, a platform id or a body.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Mapping, Sequence
from functools import partial

from django.db import transaction

from relay.models import Delivery
from relay.services import counters
from relay.services.counters import field

MESSAGES_ACCEPTED = "messages_accepted"
DELIVERIES_FINISHED = "deliveries_finished"
DELIVERIES_RETRIED = "deliveries_retried"
DELIVERY_RETRIES = "delivery_retries"
DELIVERY_FAILURES = "delivery_failures"
LATENCY_BUCKET = "latency_bucket"  # labels: channel, index of the first bound it fits under
LATENCY_SUM = "latency_sum_us"  # microseconds, so every count stays an integer (HINCRBY)
REPORTS_FILED = "reports_filed"
# Upper bounds of the accepted-to-sent histogram, in seconds (the +Inf bucket is index len).
LATENCY_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 86400.0)
# The worker's outcomes a delivery can end its attempts with (statuses move it on later).
FINISHED_STATES = (
    Delivery.State.SENT,
    Delivery.State.DELIVERED,
    Delivery.State.WAITING,
    Delivery.State.FAILED,
)
_TAKEN = (Delivery.State.SENT, Delivery.State.DELIVERED)  # the platform or web inbox took it


def _on_commit(increments: Mapping[str, int]) -> None:
    transaction.on_commit(partial(counters.add, dict(increments)))


def message_accepted(*, channel: str) -> None:
    """A message was stored (sealed), whether relayed or held as spam."""
    _on_commit({field(MESSAGES_ACCEPTED, channel): 1})


def report_filed() -> None:
    _on_commit({field(REPORTS_FILED): 1})


def bucket_of(seconds: float, buckets: Sequence[float] = LATENCY_BUCKETS) -> int:
    """The index of the first bucket bound `seconds` fits under (len(buckets) for +Inf)."""
    return bisect.bisect_left(buckets, seconds)


def delivery_finished(delivery: Delivery, *, state: str, now: dt.datetime) -> None:
    """The worker is done with a delivery: it went out (`sent`, `delivered` into the web
    inbox), its template went out and the text waits (`waiting`), or it `failed`.

    Also counts the attempts it took beyond the first and, for a relayed message the platform
    took, the seconds from accepting it to now (the latency histogram)."""
    channel, kind = delivery.channel, delivery.kind
    increments = {field(DELIVERIES_FINISHED, channel, kind, state): 1}
    if state == Delivery.State.FAILED:
        increments[field(DELIVERY_FAILURES, channel, delivery.error_code or "unknown")] = 1
    if delivery.attempts > 1:
        increments[field(DELIVERIES_RETRIED, channel)] = 1
        increments[field(DELIVERY_RETRIES, channel)] = delivery.attempts - 1
    message = delivery.message if delivery.message_id is not None else None
    if state in _TAKEN and kind == Delivery.Kind.RELAY and message is not None:
        seconds = max((now - message.created_at).total_seconds(), 0.0)
        increments[field(LATENCY_BUCKET, channel, str(bucket_of(seconds)))] = 1
        # A zero-second observation still counts: the bucket above carries the count.
        increments[field(LATENCY_SUM, channel)] = round(seconds * 1_000_000)
    _on_commit(increments)


def delivery_failed_later(delivery: Delivery) -> None:
    """A platform reported a failure after taking the delivery (a status webhook): a failure
    by reason, not a second finish (the worker counted the send)."""
    reason = delivery.error_code or "unknown"
    _on_commit({field(DELIVERY_FAILURES, delivery.channel, reason): 1})
