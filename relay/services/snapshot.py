"""A short-lived, per-process snapshot of rarely changing rows read on every message.

Relay identities, active suspensions and bans are read for every inbound message but change a
few times a day. Each process keeps them for RELAY_SNAPSHOT_SECONDS (default 5) and reloads in
three queries, which keeps them off the hot path; a change made in this process is seen at once
(writers call `invalidate()`), one made elsewhere within the snapshot period.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from relay.models import Ban, IntegratorWebhook, RelayIdentity, Sanction

NO_END = None  # a suspension pending review has no end date


@dataclass
class Snapshot:
    loaded_at: float
    identities: dict[tuple[str, str], RelayIdentity] = field(default_factory=dict)
    identities_by_pk: dict[int, RelayIdentity] = field(default_factory=dict)
    suspended_endpoints: dict[int, dt.datetime | None] = field(default_factory=dict)
    suspended_users: dict[int, dt.datetime | None] = field(default_factory=dict)
    banned: set[str] = field(default_factory=set)
    integrator_users: set[int] = field(default_factory=set)  # sellers with outbound webhooks

    def identity(self, channel: str, provider_id: str) -> RelayIdentity | None:
        return self.identities.get((channel, provider_id))

    def suspension(
        self, *, endpoint_id: int | None = None, user_id: int | None = None
    ) -> tuple[bool, dt.datetime | None]:
        """(suspended, until) for an endpoint and/or a user account."""
        if endpoint_id is not None and endpoint_id in self.suspended_endpoints:
            return True, self.suspended_endpoints[endpoint_id]
        if user_id is not None and user_id in self.suspended_users:
            return True, self.suspended_users[user_id]
        return False, None


_lock = threading.Lock()
_current: Snapshot | None = None


def _load() -> Snapshot:
    now = timezone.now()
    snapshot = Snapshot(loaded_at=time.monotonic())
    for identity in RelayIdentity.objects.filter(active=True):
        snapshot.identities[(identity.channel, identity.provider_id)] = identity
        snapshot.identities_by_pk[identity.pk] = identity
    active = Sanction.objects.filter(kind=Sanction.Kind.SUSPEND, lifted_at=None).filter(
        Q(until__isnull=True) | Q(until__gt=now)
    )
    for endpoint_id, user_id, until in active.values_list("endpoint_id", "user_id", "until"):
        if endpoint_id is not None:
            snapshot.suspended_endpoints[endpoint_id] = until
        if user_id is not None:
            snapshot.suspended_users[user_id] = until
    snapshot.banned = set(Ban.objects.filter(lifted_at=None).values_list("blind_index", flat=True))
    snapshot.integrator_users = set(
        IntegratorWebhook.objects.filter(active=True).values_list("user_id", flat=True)
    )
    return snapshot


def current() -> Snapshot:
    global _current
    snapshot = _current
    max_age = settings.RELAY_SNAPSHOT_SECONDS
    if snapshot is None or time.monotonic() - snapshot.loaded_at >= max_age:
        with _lock:
            snapshot = _current
            if snapshot is None or time.monotonic() - snapshot.loaded_at >= max_age:
                snapshot = _current = _load()
    return snapshot


def invalidate() -> None:
    global _current
    _current = None
