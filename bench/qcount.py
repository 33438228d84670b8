"""Count every SQL statement a bench process sends through Django, and publish the count.

Installed by the bench's gunicorn config (`post_fork`) and Celery app module, never by the
application. Each database connection gets an execute wrapper (counts every statement Django
executes on it, SAVEPOINTs included; `executemany` counts once); a daemon thread adds the count
to the Redis key `bench:queries:<role>` every 0.25 s, so the harness can read deltas per phase.
BEGIN/COMMIT that psycopg issues implicitly are not statements Django executes: the harness
reports them separately from PostgreSQL's own `pg_stat_database.xact_commit`.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

_lock = threading.Lock()
_count = [0]
_state: dict[str, Any] = {"pid": None, "role": "unknown"}


_QLOG = os.environ.get("BENCH_QLOG")  # a file to append every statement's SQL to (no params)


def _wrapper(execute: Any, sql: Any, params: Any, many: bool, context: Any) -> Any:
    with _lock:
        _count[0] += 1
        if _QLOG:
            with open(_QLOG, "a") as log:
                log.write(f"{_state['role']}\t{' '.join(str(sql).split())[:300]}\n")
    return execute(sql, params, many, context)


def _on_connection(sender: Any, connection: Any, **kwargs: Any) -> None:
    if _wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.append(_wrapper)
    _ensure_flusher()


def _ensure_flusher() -> None:
    if _state["pid"] == os.getpid():
        return
    _state["pid"] = os.getpid()
    with _lock:
        _count[0] = 0  # a forked child starts its own count
    thread = threading.Thread(target=_flush_forever, name="bench-qcount", daemon=True)
    thread.start()


def _flush_forever() -> None:
    import redis

    client = redis.Redis.from_url(os.environ.get("BENCH_COUNTER_URL", "redis://127.0.0.1:6379/7"))
    key = f"bench:queries:{_state['role']}"
    sent = 0
    while True:
        time.sleep(0.25)
        with _lock:
            now = _count[0]
        if now != sent:
            try:
                client.incrby(key, now - sent)
                sent = now
            except Exception:  # the bench must not take the app down; retry next tick
                pass


def install(role: str) -> None:
    from django.db.backends.signals import connection_created

    _state["role"] = role
    connection_created.connect(_on_connection, weak=False, dispatch_uid="bench-qcount")
