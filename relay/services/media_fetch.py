"""Photos people send on a platform: queued with their message, downloaded by a task, stored.

The webhook answers at once: `queue` keeps each photo's platform reference sealed in a
MediaFetch row and publishes `fetch_media(id)` after commit (the broker sees only the id). The
task downloads it by the platform's documented flow (the adapter's `download_media`, through
the URL guard, bounded in bytes and time), cleans and stores it as a MediaFile of the message
(relay/services/media.py), and erases the reference. A photo that is refused or unavailable is
not stored; its sender hears why and whether the text beside it went. When the message has no
photo left to wait for, its deliveries go (they waited, relay/services/delivery.py).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from marketplace.images import MAX_BYTES, ImageRefused
from relay import crypto
from relay.adapters import PlatformDisabled, adapter_for, http
from relay.adapters.base import MediaRef, MediaUnavailable, TransientSendError
from relay.adapters.url_guard import HostNotFound, RefusedUrl
from relay.models import Delivery, MediaFetch, Message
from relay.services import media, outbound

logger = logging.getLogger(__name__)
WAITING = (MediaFetch.State.PENDING, MediaFetch.State.FETCHING)


@dataclass(frozen=True)
class FetchResult:
    outcome: str  # "done", "failed", "retry", "skipped"
    retry_in: float | None = None


class _Problem(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def queue(*, message: Message, refs: Sequence[MediaRef], channel: str) -> list[int]:
    """Keep each photo's reference sealed and fetch it after commit. Inside the transaction
    that stores `message`."""
    conversation = message.conversation
    key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    ids = []
    for position, ref in enumerate(refs):
        fetch = MediaFetch(
            message=message, conversation=conversation, channel=channel, position=position
        )
        fetch.reference_sealed = crypto.encrypt_bytes(key, fetch.uid, ref.reference.encode())
        fetch.save()
        ids.append(fetch.pk)

    def publish() -> None:
        from relay.tasks import fetch_media

        for fetch_id in ids:
            fetch_media.delay(fetch_id)

    transaction.on_commit(publish, robust=True)
    return ids


def fetch_photo(*, fetch_id: int) -> FetchResult:
    """Download, clean and store one photo. Safe to call twice: one caller wins the claim."""
    claimed = MediaFetch.objects.filter(pk=fetch_id, state=MediaFetch.State.PENDING).update(
        state=MediaFetch.State.FETCHING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    if not claimed:
        return FetchResult("skipped")
    fetch = MediaFetch.objects.select_related("message", "conversation").get(pk=fetch_id)
    try:
        data = _download(fetch)
        media.store(
            conversation=fetch.conversation,
            data=data,
            sender_side=fetch.message.sender_side,
            message=fetch.message,
        )
    except _Retry as retry:
        MediaFetch.objects.filter(pk=fetch.pk).update(state=MediaFetch.State.PENDING)
        return FetchResult("retry", retry_in=retry.seconds)
    except _Problem as problem:
        _failed(fetch, problem.code)
        outcome = "failed"
    except ImageRefused as refused:
        _failed(fetch, refused.reason)
        outcome = "failed"
    else:
        MediaFetch.objects.filter(pk=fetch.pk).update(
            state=MediaFetch.State.DONE, reference_sealed=None, updated_at=timezone.now()
        )
        outcome = "done"
    release_if_ready(fetch.message)
    return FetchResult(outcome)


class _Retry(Exception):
    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = seconds


def _download(fetch: MediaFetch) -> bytes:
    key = crypto.unwrap_key(fetch.conversation.wrapped_key, fetch.conversation.code)
    assert fetch.reference_sealed is not None
    reference = crypto.decrypt_bytes(key, fetch.uid, fetch.reference_sealed).decode()
    try:
        adapter = adapter_for(fetch.channel)
        return adapter.download_media(
            MediaRef("image", reference),
            max_bytes=MAX_BYTES,
            total_seconds=settings.RELAY_MEDIA_FETCH_SECONDS,
        )
    except (PlatformDisabled, MediaUnavailable) as error:
        raise _Problem("unavailable") from error
    except http.DownloadTooLarge as error:
        raise _Problem("too_large") from error
    except http.DownloadTooSlow as error:
        raise _Problem("too_slow") from error
    except (TransientSendError, HostNotFound) as error:
        if fetch.attempts >= settings.RELAY_MEDIA_FETCH_ATTEMPTS:
            raise _Problem("unavailable") from error
        raise _Retry(float(2**fetch.attempts)) from error
    except RefusedUrl as error:
        raise _Problem("refused_address") from error


def _failed(fetch: MediaFetch, problem: str) -> None:
    """Nothing stored; the sender hears why, and whether the text beside it went."""
    MediaFetch.objects.filter(pk=fetch.pk).update(
        state=MediaFetch.State.FAILED,
        problem=problem,
        reference_sealed=None,
        updated_at=timezone.now(),
    )
    logger.info("a photo was not forwarded (%s)", problem)
    _tell_sender(fetch.message, problem)


def _tell_sender(message: Message, problem: str) -> None:
    if message.sender_endpoint is None:
        return
    code = "photo_not_forwarded_text_sent" if _has_text(message) else "photo_not_forwarded"
    outbound.queue_notice(
        recipient=message.sender_endpoint,
        identity=message.identity,
        code=code,
        params={"problem": problem},
    )


def _has_text(message: Message) -> bool:
    conversation = message.conversation
    key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    return bool(crypto.decrypt_body(key, message.uid, message.body_sealed).strip())


def release_if_ready(message: Message) -> None:
    """No photo of `message` is still coming: its deliveries go now."""
    if MediaFetch.objects.filter(message=message, state__in=WAITING).exists():
        return
    waiting = list(
        Delivery.objects.filter(message=message, state=Delivery.State.PENDING).values_list(
            "pk", flat=True
        )
    )
    Delivery.objects.filter(pk__in=waiting).update(next_attempt_at=None, updated_at=timezone.now())
    with transaction.atomic():
        outbound.publish(waiting)


def give_up_stale(*, message_id: int) -> bool:
    """Fetches of the message left behind by a dead worker are given up (the delivery's
    backstop calls this), and the sender hears it as for a download too slow; return whether
    any photo is still really on its way."""
    limit = settings.RELAY_MEDIA_FETCH_SECONDS * (settings.RELAY_MEDIA_FETCH_ATTEMPTS + 1) + 60
    waiting = MediaFetch.objects.filter(message_id=message_id, state__in=WAITING)
    stale = waiting.filter(created_at__lt=timezone.now() - dt.timedelta(seconds=limit))
    for fetch in stale.select_related("message__conversation", "message__sender_endpoint"):
        with transaction.atomic():
            # One row at a time, only from a waiting state: two deliveries of the message (or a
            # worker come back to life) cannot both give it up, so the sender is told once.
            given_up = MediaFetch.objects.filter(pk=fetch.pk, state__in=WAITING).update(
                state=MediaFetch.State.FAILED,
                problem="too_slow",
                reference_sealed=None,
                updated_at=timezone.now(),
            )
            if given_up:
                logger.info("a photo was not forwarded (%s)", "too_slow")
                _tell_sender(fetch.message, "too_slow")
    return waiting.exists()
