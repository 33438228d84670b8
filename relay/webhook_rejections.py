"""Counting webhook events skipped because they could not be read, for /metrics.

A webhook POST is read event by event (relay/webhooks.py): a malformed or unknown event is
logged with its position and the reason, counted here and skipped, and the rest of the POST
is accepted. Like the signature failures next door, the count lives in the Django cache (one
shared number with CACHE_URL on Redis), because a rejection writes nothing to the database.

Imported by the webhook view and by relay.metrics; it must not import models.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

PLATFORMS = ("whatsapp", "messenger", "instagram", "sms")
KEY_PREFIX = "perantara:metrics:webhook-events-rejected:"

logger = logging.getLogger(__name__)


def record_rejected_events(platform: str, count: int) -> None:
    """Add `count` to the platform's counter; never raise (the webhook must still answer)."""
    if platform not in PLATFORMS or count <= 0:
        return
    key = KEY_PREFIX + platform
    try:
        cache.add(key, 0, timeout=None)
        cache.incr(key, count)
    except Exception:  # a cache outage loses a count, never a webhook answer
        logger.debug("could not count rejected webhook events", exc_info=True)


def rejected_events() -> dict[str, int]:
    try:
        found = cache.get_many([KEY_PREFIX + platform for platform in PLATFORMS])
    except Exception:
        return {}
    return {platform: int(found.get(KEY_PREFIX + platform, 0)) for platform in PLATFORMS}
