"""Which delivery workers are alive: a heartbeat each worker keeps in the shared cache.

A claimed delivery names its worker. When that worker's heartbeat has stopped (SIGKILL, OOM,
a lost machine), the sweeper hands the delivery back at once instead of waiting out its lease,
so a dead worker holds its conversation for seconds. This needs a cache every process shares
(CACHE_URL, Redis): with a per-process cache no worker could see another's heartbeat, and only
the lease applies.
"""

from __future__ import annotations

import logging
import os
import socket
import threading

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)
PREFIX = "perantara:worker:"
BEAT_SECONDS = 2.0
# Missed beats before a worker counts as dead: long enough for a busy process's thread to be
# late a few times, short against the lease.
ALIVE_SECONDS = 8


def worker_id() -> str:
    """This process: its host and pid (read each time: a prefork child has its own pid)."""
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


def shared_cache() -> bool:
    backend = str(settings.CACHES.get("default", {}).get("BACKEND", ""))
    return backend.endswith(("RedisCache", "PyMemcacheCache", "PyLibMCCache"))


def beat() -> None:
    try:
        cache.set(PREFIX + worker_id(), 1, timeout=ALIVE_SECONDS)
    except Exception:
        logger.debug("worker heartbeat failed", exc_info=True)


def start_heartbeat() -> None:
    """Beat every BEAT_SECONDS in a daemon thread, for the life of this worker process."""
    if not shared_cache():
        return

    def loop() -> None:
        stop = threading.Event()
        while not stop.wait(BEAT_SECONDS):
            beat()

    beat()
    threading.Thread(target=loop, name="perantara-heartbeat", daemon=True).start()


def dead(worker_ids: set[str]) -> set[str]:
    """Of these workers, the ones whose heartbeat has stopped. Nothing is dead when the cache
    cannot say (not shared, or down): a live send must never be handed to a second worker."""
    if not worker_ids or not shared_cache():
        return set()
    try:
        alive = cache.get_many([PREFIX + worker for worker in worker_ids])
    except Exception:
        return set()
    return {worker for worker in worker_ids if PREFIX + worker not in alive}
