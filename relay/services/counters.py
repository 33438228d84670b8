"""Event counters for /metrics, kept in the cache (Redis in production: CACHE_URL).

Counted when the event happens, never by scanning rows on a scrape. A cache outage loses a
count, never the work being counted.
"""

from __future__ import annotations

import logging
from enum import StrEnum

from django.core.cache import cache

logger = logging.getLogger(__name__)
PREFIX = "perantara:metrics:"


class Counter(StrEnum):
    UNCERTAIN_RESENDS = "uncertain_resends"  # a re-send after an attempt that may have gone out
    RECLAIMED_LEASES = "reclaimed_leases"  # `sending` rows a dead or stuck worker left
    DATABASE_RETRIES = "database_retries"  # tasks handed back because the database failed
    PUBLISH_FAILURES = "publish_failures"  # publishes after commit the broker refused
    LIMITS_FAILED_OPEN = "limits_failed_open"  # rate limits skipped because the cache failed


def count(counter: Counter, by: int = 1) -> None:
    if by <= 0:
        return
    key = PREFIX + counter
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key, by)
    except Exception:
        logger.debug("could not count %s", counter, exc_info=True)


def read() -> dict[str, int]:
    try:
        found = cache.get_many([PREFIX + counter for counter in Counter])
    except Exception:
        return {}
    return {counter.value: int(found.get(PREFIX + counter, 0)) for counter in Counter}
