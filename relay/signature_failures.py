"""Counting webhooks rejected for a bad signature, for /metrics.

A rejection writes nothing to the database (on purpose: a flood of forged webhooks must not
become a flood of inserts), so the count lives in the Django cache. With CACHE_URL pointing at
Redis every gunicorn worker adds to one shared number; with the default local-memory cache each
process counts its own and /metrics shows whichever worker answers the scrape.

The webhook view already logs each rejection (`"%s webhook with a bad signature rejected"`), so
the count is taken by a logging filter on the `relay.webhooks` logger (see settings.LOGGING)
instead of a second call in the view. tests/ops/test_metrics.py sends a forged webhook and
checks the counter, so a reworded log line cannot silently stop the count.

This module is imported while logging is configured, before the app registry is ready: it
must not import models.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

PLATFORMS = ("whatsapp", "messenger", "instagram", "sms")
REJECTED_MESSAGE = "%s webhook with a bad signature rejected"
KEY_PREFIX = "perantara:metrics:webhook-signature-failures:"

logger = logging.getLogger(__name__)


def record_signature_failure(platform: str) -> None:
    """Add one to the platform's counter; never raise (the webhook must still answer 403)."""
    if platform not in PLATFORMS:
        return
    key = KEY_PREFIX + platform
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key)
    except Exception:  # a cache outage loses a count, never a webhook answer
        logger.debug("could not count a webhook signature failure", exc_info=True)


def signature_failures() -> dict[str, int]:
    """The counts, or none while the cache is away (a scrape must still answer)."""
    try:
        found = cache.get_many([KEY_PREFIX + platform for platform in PLATFORMS])
    except Exception:
        return {}
    return {platform: int(found.get(KEY_PREFIX + platform, 0)) for platform in PLATFORMS}


class CountSignatureFailures(logging.Filter):
    """A logger filter that counts the webhook view's rejection records and lets them through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == REJECTED_MESSAGE and isinstance(record.args, tuple) and record.args:
            record_signature_failure(str(record.args[0]))
        return True
