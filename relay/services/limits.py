"""Automatic abuse limits (the number guard is contacts/contact_guard.py).

Counters live in the cache (Redis in production: set CACHE_URL so every web process shares
them) under keys built from blind indexes and conversation codes, never from a number.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache

from contacts import vault
from contacts.models import Endpoint
from marketplace import handles
from relay.services.counters import Counter, count

HOUR = 3600
logger = logging.getLogger(__name__)
MINUTE = 60


def _hit(key: str, window: int, *, events: int = 1) -> int:
    """Count `events` events in a fixed window; return the count including these.

    A cache outage fails open (0: under every limit), logged and counted: a limit skipped for
    a minute costs less than a message refused, or a webhook answered 500 after its message
    committed (the platform would retry, and the sender be told twice)."""
    try:
        cache.add(key, 0, timeout=window)
        try:
            return int(cache.incr(key, events))
        except ValueError:  # expired between add and incr
            cache.set(key, events, timeout=window)
            return events
    except Exception:
        _failed_open()
        return 0


def _failed_open() -> None:
    logger.warning("the cache is unavailable: abuse limits are not counted for now")
    count(Counter.LIMITS_FAILED_OPEN)


def allow_new_conversation(sender: Endpoint) -> bool:
    count = _hit(f"limit:newconv:{sender.blind_index}", HOUR)
    return count <= settings.RELAY_LIMIT_NEW_CONVERSATIONS_PER_HOUR


def allow_first_contact(listing_id: int) -> bool:
    """New buyers one listing accepts per hour: a listing flooded by a script stays usable."""
    count = _hit(f"limit:firstcontact:{listing_id}", HOUR)
    return count <= settings.RELAY_LIMIT_FIRST_CONTACTS_PER_LISTING_PER_HOUR


def allow_web_chat(*, browser_key: str, network_key: str) -> bool:
    """Web chats started per browser and per network address in an hour (both keyed hashes).
    Both counters count every attempt, so neither a cleared cookie nor a new network resets
    both."""
    by_browser = _hit(f"limit:webchat:b:{browser_key}", HOUR)
    by_network = _hit(f"limit:webchat:n:{network_key}", HOUR)
    return (
        by_browser <= settings.RELAY_LIMIT_WEB_CHATS_PER_BROWSER_PER_HOUR
        and by_network <= settings.RELAY_LIMIT_WEB_CHATS_PER_NETWORK_PER_HOUR
    )


def allow_message(conversation_code: str, side: str) -> bool:
    count = _hit(f"limit:msg:{conversation_code}:{side}", MINUTE)
    return count <= settings.RELAY_LIMIT_MESSAGES_PER_MINUTE


def allow_media(sender_endpoint_id: int, *, photos: int = 1) -> bool:
    """Photos one sender sends in an hour, across all their conversations and roads: a photo
    costs the relay a download, a decode and storage, and a flood of them is abuse whatever
    the captions say. Each photo of a message counts; the message that would pass
    RELAY_LIMIT_MEDIA_PER_HOUR is refused (its photos still counted, so retrying at once does
    not help)."""
    sent = _hit(f"limit:media:{sender_endpoint_id}", HOUR, events=photos)
    return sent <= settings.RELAY_LIMIT_MEDIA_PER_HOUR


def allow_unknown_handle(sender: Endpoint) -> bool:
    """Handle enumeration: too many misses in an hour and the sender is told to slow down."""
    count = _hit(f"limit:handlemiss:{sender.blind_index}", HOUR)
    return count <= settings.RELAY_LIMIT_UNKNOWN_HANDLES_PER_HOUR


def repeated_across_listings(text: str, listing_id: int) -> bool:
    """The same body sent to many listings within an hour (compared by keyed hash)."""
    # Handles differ per listing; the spam around them does not.
    normalized = " ".join(handles.CANDIDATE.sub(" ", text).lower().split())
    if len(normalized) < 12:
        return False  # "hi", "is it available?" are common, not spam
    digest = vault.keyed_hash(normalized.encode(), purpose="duplicate-body")
    key = f"limit:dup:{digest}"
    try:
        listings: list[int] = cache.get(key) or []
        if listing_id not in listings:
            listings = [*listings, listing_id][-100:]
            cache.set(key, listings, timeout=HOUR)
    except Exception:
        _failed_open()
        return False
    return len(listings) >= settings.RELAY_DUPLICATE_LISTINGS_PER_HOUR


def allow_data_request(*, address_key: str, network_key: str = "") -> bool:
    """Data-request codes sent per address (its blind index, known or not) and per network in
    an hour: the page cannot be used to flood someone with codes, nor to probe many numbers.
    The operator's command has no network (empty key): only the address counts."""
    by_address = _hit(f"limit:datareq:a:{address_key}", HOUR)
    if by_address > settings.RELAY_LIMIT_DATA_REQUESTS_PER_ADDRESS_PER_HOUR:
        return False
    if not network_key:
        return True
    by_network = _hit(f"limit:datareq:n:{network_key}", HOUR)
    return by_network <= settings.RELAY_LIMIT_DATA_REQUESTS_PER_NETWORK_PER_HOUR


def allow_data_code_try(network_key: str) -> bool:
    """Codes typed on the "Your data" page per network in an hour (each code also allows only
    VERIFICATION_MAX_ATTEMPTS wrong tries)."""
    tries = _hit(f"limit:datareq:try:{network_key}", HOUR)
    return tries <= settings.RELAY_LIMIT_DATA_CODE_TRIES_PER_NETWORK_PER_HOUR
