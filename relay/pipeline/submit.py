"""submit(): the one entry point for every message a person sends, whatever its road."""

from __future__ import annotations

import datetime as dt
import logging
from functools import cache

from django.db import IntegrityError, transaction
from django.utils import timezone

from config import hotsql
from contacts import services as contacts
from contacts.models import Channel, Endpoint
from relay import crypto
from relay.adapters.base import InboundMessage, MediaRef
from relay.models import MediaFile, Message, Side
from relay.pipeline import guards, routing
from relay.pipeline.types import Context, Notice, Outcome, Result, Road, Stop, Submission
from relay.services import e2ee, media_fetch, moderation, optout, outbound, snapshot

logger = logging.getLogger(__name__)


def submit(submission: Submission) -> Result:
    """Run one message through identification, the guards and routing, then relay it.

    Opens its own transaction; the delivery task is published only after it commits. The
    sender is told what happened: on a platform road by a queued notice, on a web road by the
    caller, from `Result.notices`.
    """
    try:
        with transaction.atomic():
            return _run(submission)
    except IntegrityError:
        # A platform retried while the first copy was being stored: the unique constraint
        # on (channel, provider id) kept one.
        event = submission.event
        if event is not None and _already_accepted(event):
            return Result(Outcome.DUPLICATE)
        raise


def accept_event(event: InboundMessage) -> Result:
    """A platform webhook's message: the road is its channel."""
    return submit(
        Submission(
            road=Road(event.channel), text=event.text, event=event, has_media=event.has_media
        )
    )


def _run(submission: Submission) -> Result:
    ctx = Context(submission=submission, text=submission.text)
    stop = _identify(ctx)
    if stop is None:
        stop = _first_stop(ctx, guards.BEFORE_ROUTING)
    if stop is None:
        stop = routing.route(ctx)
    if stop is None:
        stop = _first_stop(ctx, guards.AFTER_ROUTING)
    if stop is not None:
        return _finish(ctx, stop)
    return _relay(ctx)


def _first_stop(ctx: Context, steps: tuple[guards.Guard, ...]) -> Stop | None:
    sealed = ctx.submission.e2ee is not None
    for guard in steps:
        if sealed and guard in guards.BODY_GUARDS:
            continue  # it ran in the sender's browser, before encryption
        stop = guard(ctx)
        if stop is not None:
            return stop
    return None


def _finish(ctx: Context, stop: Stop, message_id: int | None = None) -> Result:
    notices = [*ctx.notices, *([stop.notice] if stop.notice else [])]
    for notice in notices:
        _tell_sender(ctx, notice, stop.conversation)
    return Result(stop.outcome, message_id, ctx.conversation, tuple(notices))


def _tell_sender(ctx: Context, notice: Notice, conversation: object | None) -> None:
    """Platform roads: queue the notice to the sender's app. Web roads show it themselves."""
    if ctx.sender is None or ctx.sender.channel == Channel.WEB or not ctx.road.is_platform:
        return
    in_stream = conversation is not None and ctx.side is not None
    outbound.queue_notice(
        recipient=ctx.sender,
        identity=ctx.identity,
        code=notice.code,
        params=notice.params,
        conversation=ctx.conversation if in_stream else None,
        side=ctx.side if in_stream and ctx.side else Side.BUYER,
    )


def _relay(ctx: Context) -> Result:
    conversation, sender = ctx.conversation, ctx.sender
    assert conversation is not None and ctx.side is not None and sender is not None
    event, envelope = ctx.submission.event, ctx.submission.e2ee
    photos = _platform_photos(ctx)
    message = outbound.relay_message(
        conversation=conversation,
        sender_side=ctx.side,
        sender=sender,
        identity=ctx.identity,
        text=ctx.body if envelope is None else envelope.text,
        channel=sender.channel if ctx.road.is_platform else Channel.WEB,
        provider_message_id=crypto.provider_key(event.provider_message_id) if event else None,
        hold=ctx.hold,
        introduce=ctx.created,
        commitment=envelope.commitment if envelope is not None else None,
        await_photos=bool(photos) and not ctx.hold,
        with_photos=bool(photos or ctx.submission.media),
    )
    if envelope is not None:
        e2ee.frank(message, conversation)
    _attach_photos(ctx, message, photos)
    if ctx.hold:
        moderation.file_report(
            conversation=conversation, reporter_side=Side.RELAY, reason="spam", automatic=True
        )
        return _finish(ctx, Stop(Outcome.HELD, Notice("held_as_spam")), message.pk)
    return _finish(ctx, Stop(Outcome.RELAYED), message.pk)


def _platform_photos(ctx: Context) -> list[MediaRef]:
    """The photos a platform message carries, to download; a file that is not a photo is not
    forwarded, and the sender is told (the text, or the photos, beside it still go)."""
    event = ctx.submission.event
    if event is None:
        return []
    photos = [ref for ref in event.media if ref.is_image and ref.reference]
    if event.has_media and len(photos) < max(1, len(event.media)):
        ctx.notices.append(
            Notice("media_unsupported_text_sent" if ctx.body.strip() else "media_unsupported")
        )
    return photos


def _attach_photos(ctx: Context, message: Message, photos: list[MediaRef]) -> None:
    """A web road's photos (stored already) become the message's; a platform's are queued for
    download, and the message's delivery waits for them."""
    uploaded = [photo.pk for photo in ctx.submission.media]
    if uploaded:
        MediaFile.objects.filter(
            pk__in=uploaded, conversation=message.conversation, message__isnull=True
        ).update(message=message)
    if photos:
        media_fetch.queue(message=message, refs=photos, channel=message.channel)


# --- Identification: who wrote, to which of our identities; a platform retry stops here --------


def _identify(ctx: Context) -> Stop | None:
    event = ctx.submission.event
    if event is None:
        ctx.sender = ctx.submission.sender
        assert ctx.sender is not None, "a web road names its sender"
        return None
    seen, sender, normalized = _seen_and_sender(event)
    if seen:
        return Stop(Outcome.DUPLICATE)
    ctx.identity = snapshot.current().identity(event.channel, event.identity_provider_id)
    if ctx.identity is None:
        logger.warning("inbound on an unknown %s identity ignored", event.channel)
        return Stop(Outcome.IGNORED)
    if sender is None:
        sender, ctx.new_sender = _new_sender(event, normalized)
    ctx.sender = sender
    if sender.blind_index not in snapshot.current().banned:
        _open_window(ctx, sender)
        if not ctx.new_sender:  # they wrote, so they can be written to (a block lifted)
            optout.wrote_again(endpoint=sender, identity=ctx.identity)
    return None


def _new_sender(event: InboundMessage, normalized: str | None) -> tuple[Endpoint, bool]:
    if normalized is not None:  # looked up just now: not there
        return contacts.create_endpoint(
            channel=event.channel, normalized=normalized, inbound_at=timezone.now()
        )
    return contacts.get_or_create_endpoint(
        channel=event.channel,
        address=event.sender_address,
        sender_key=event.sender_key,
        inbound_at=timezone.now(),
    )


def _already_accepted(event: InboundMessage) -> bool:
    return Message.objects.filter(
        channel=event.channel, provider_message_id=crypto.provider_key(event.provider_message_id)
    ).exists()


@cache
def _seen_and_sender_sql() -> str:
    return (
        "SELECT EXISTS (SELECT 1 FROM relay_message WHERE channel = %s "  # noqa: S608
        f"AND provider_message_id = %s), {hotsql.columns(Endpoint, 'e')} "
        "FROM (SELECT 1) AS one LEFT JOIN contacts_endpoint AS e "
        "ON e.channel = %s AND e.blind_index = %s"
    )


def _seen_and_sender(event: InboundMessage) -> tuple[bool, Endpoint | None, str | None]:
    """(already accepted, sender's endpoint, sender's normalised address if it was looked up)
    in one round trip: the dedupe check (an indexed lookup spares routing a retry and its
    counting against rate limits) and the sender lookup. Senders known by a platform-scoped
    key (WhatsApp's BSUID) are matched on that key first, so they keep separate lookups."""
    provider_key = crypto.provider_key(event.provider_message_id)
    if not event.sender_key:
        try:
            normalized = contacts.normalize_address(
                channel=event.channel, address=event.sender_address
            )
        except (contacts.ContactsError, contacts.InvalidPhoneNumber):
            normalized = None  # get_or_create_endpoint says why, as it always has
        if normalized is not None:
            index = contacts.index_for(channel=event.channel, normalized=normalized)
            row = hotsql.fetch_one(
                _seen_and_sender_sql(), [event.channel, provider_key, event.channel, index]
            )
            assert row is not None  # one row whatever matched
            [sender] = hotsql.split(row[1:], Endpoint)
            return bool(row[0]), sender, normalized
    seen = hotsql.fetch_one(
        "SELECT 1 FROM relay_message WHERE channel = %s AND provider_message_id = %s LIMIT 1",
        [event.channel, provider_key],
    )
    return seen is not None, None, None


def _open_window(ctx: Context, sender: Endpoint) -> None:
    """The sender just wrote: their 24-hour window is open; release what waited for it."""
    now = timezone.now()
    previous = sender.last_inbound_at
    # One write a minute is precise enough for a 24-hour window and spares the hot path.
    if previous is None or now - previous > dt.timedelta(minutes=1):
        Endpoint.objects.filter(pk=sender.pk).update(last_inbound_at=now)
        sender.last_inbound_at = now
    if sender.channel == Channel.WHATSAPP:  # only WhatsApp holds text back behind a template
        ctx.released_templates = outbound.release_waiting(recipient=sender)
