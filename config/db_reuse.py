"""Skip CONN_HEALTH_CHECKS' `SELECT 1` on a connection its thread finished with moments ago.

With health checks on, Django sends `SELECT 1` before the first query of every request (and of
every Celery task: relay/tasks.py calls close_old_connections around each), so a process
recovers by itself from a PostgreSQL restart. Under load a connection is handed from one
request to the next within milliseconds, and that check is a whole extra round trip and
transaction per request and per task: 2.5 of the ~10.5 transactions per relayed message
(bench/README.md).

`finished` stamps a connection when a request or task ends with it open and error-free;
`starting` marks the health check as done when that stamp is younger than
DB_HEALTH_CHECK_SKIP_SECONDS (default 1 s), so the next request's first query goes straight
out. An older stamp, a connection that errored, or one Django closed (CONN_MAX_AGE, errors) is
checked as before. What is given up: a PostgreSQL restart that completes within that second
is noticed by the first query instead of the check; that request fails once (a webhook is
answered 503 and the platform retries it; a delivery task retries through its row, see
relay/services/delivery.py), and Django replaces the connection for the next one.

Both run after Django's own close_old_connections: `install` connects them to the request
signals after Django's receivers, relay/tasks.py calls them around each task.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core import signals
from django.db import connections

_STAMP = "_perantara_finished_at"


def finished(**_: object) -> None:
    """A request or task ended: remember when, for each connection still open and healthy."""
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        healthy = connection.connection is not None and not connection.errors_occurred
        setattr(connection, _STAMP, now if healthy else None)


def starting(**_: object) -> None:
    """A request or task begins: a connection finished with less than a moment ago needs no
    `SELECT 1` before its first query."""
    window = getattr(settings, "DB_HEALTH_CHECK_SKIP_SECONDS", 1.0)
    if window <= 0:
        return
    now = time.monotonic()
    for connection in connections.all(initialized_only=True):
        stamp = getattr(connection, _STAMP, None)
        if (
            stamp is not None
            and now - stamp < window
            and connection.connection is not None
            and not connection.errors_occurred
        ):
            # Django's own flag (BaseDatabaseWrapper.__init__), missing from its stubs.
            connection.health_check_done = True  # type: ignore[attr-defined]


def install() -> None:
    """Connect to the request signals (after Django's close_old_connections, which
    django.db connected when it was imported)."""
    signals.request_started.connect(starting, dispatch_uid="perantara-db-reuse-start")
    signals.request_finished.connect(finished, dispatch_uid="perantara-db-reuse-finish")
