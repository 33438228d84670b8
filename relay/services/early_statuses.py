"""Statuses that arrive before their delivery knows its platform message id (issue #11).

A platform answers the send and fires the status webhooks in parallel, so `delivered`, `read` or
`failed` can reach the relay before the worker has stored the message id on the Delivery. Such a
status is kept here (`keep`), keyed by the same keyed hash the Delivery column uses, and the
worker takes it once the id is stored (`take`, then `furthest`). A status whose delivery never
shows up is forgotten by `purge` after RELAY_EARLY_STATUS_SECONDS (`forget_older_than`).

This module must not import relay.services.delivery: the delivery service imports it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.conf import settings
from django.db import connection
from django.utils import timezone

from config import hotsql
from relay import crypto
from relay.adapters.base import StatusUpdate
from relay.models import EarlyStatus

# The states each status may replace (the one ordering of statuses, used by statuses.py too).
# Pending and waiting rows never move on a status: a late "sent" for a WhatsApp template must
# not swallow the text released after it.
EARLIER = {
    "sent": ("sending",),
    "delivered": ("sending", "sent"),
    "read": ("sending", "sent", "delivered"),
    "failed": ("sending", "sent"),
}
# "sent" is not kept: storing the id is what makes a delivery sent.
KEPT = ("delivered", "read", "failed")


def keep(update: StatusUpdate) -> None:
    """Store a status whose message id matched no delivery.

    Bounded: a second status of the same kind for the same id is ignored (a platform retrying
    its webhook), so one id holds at most three rows. Watermark statuses (no message id) and
    `sent` are not kept.
    """
    if update.status not in KEPT or update.provider_message_id is None:
        return
    EarlyStatus.objects.bulk_create(
        [
            EarlyStatus(
                channel=update.channel,
                provider_message_id=crypto.provider_key(update.provider_message_id),
                status=update.status,
                error_code=(update.error_code or "")[:32],
                error_title=(update.error_title or "")[:200],
                received_at=timezone.now(),
            )
        ],
        ignore_conflicts=True,
    )


def take(*, channel: str, provider_key: str) -> list[EarlyStatus]:
    """Delete and return the statuses kept for one message id, oldest first.

    `provider_key` is the keyed hash (`relay.crypto.provider_key`), as stored on the Delivery.
    One DELETE … RETURNING, so two callers never both get the same status.
    """
    table = connection.ops.quote_name(EarlyStatus._meta.db_table)
    rows = hotsql.fetch_all(
        f"DELETE FROM {table} WHERE channel = %s AND provider_message_id = %s "  # noqa: S608 (placeholders only)
        f"RETURNING {hotsql.columns(EarlyStatus, table)}",
        [channel, provider_key],
    )
    kept = [hotsql.build(EarlyStatus, row) for row in rows]
    return sorted(kept, key=lambda status: (status.received_at, status.pk))


def furthest(
    statuses: Iterable[EarlyStatus], *, start: str = "sent"
) -> tuple[str, EarlyStatus | None]:
    """The state a delivery in `start` moves to on these statuses, and the status that moved it.

    The statuses are applied in the order given (`take` returns them oldest first) by the same
    rule as a status webhook (EARLIER): `read` after `delivered` is read, `delivered` after
    `read` changes nothing, `failed` replaces only sending or sent. Returns `(start, None)` when
    nothing moves it, e.g. a `waiting` delivery (a WhatsApp template) or no statuses at all.
    The returned status carries `error_code` / `error_title` for a failure.
    """
    state, moved_by = start, None
    for status in statuses:
        if state in EARLIER.get(status.status, ()):
            state, moved_by = status.status, status
    return state, moved_by


def forget_older_than(cutoff: dt.datetime) -> int:
    """Delete kept statuses received before `cutoff`; return how many."""
    deleted, _by_model = EarlyStatus.objects.filter(received_at__lt=cutoff).delete()
    return deleted


def expired_cutoff(*, now: dt.datetime | None = None) -> dt.datetime:
    """Kept statuses received before this never found their delivery (purge forgets them)."""
    return (now or timezone.now()) - dt.timedelta(seconds=settings.RELAY_EARLY_STATUS_SECONDS)


def forget_expired(*, now: dt.datetime | None = None) -> int:
    """`purge`: forget statuses kept longer than RELAY_EARLY_STATUS_SECONDS; return how many."""
    return forget_older_than(expired_cutoff(now=now))
