"""Carrying one delivery to its platform: claim, keep order, decrypt, send, record.

Order per conversation and direction comes from the database, not the queue: a delivery is
claimed only while no earlier one of its stream is still pending, sending or waiting, and each
finished delivery publishes the next one of its stream. Several workers can therefore run
side by side without reordering a conversation.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import Error as DatabaseError  # InterfaceError too: a closed connection
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from config import hotsql
from contacts import services as contacts
from contacts.models import Channel, Endpoint
from marketplace.models import Listing
from relay import crypto, pseudonyms
from relay.adapters import PlatformDisabled, adapter_for, http
from relay.adapters.base import (
    OutboundText,
    PermanentSendError,
    SendError,
    TransientSendError,
    WindowClosedError,
)
from relay.adapters.meta import MESSENGER_UNAVAILABLE
from relay.adapters.sms import OPTED_OUT as OPTED_OUT_CODE
from relay.adapters.whatsapp import UNDELIVERABLE as WHATSAPP_UNDELIVERABLE
from relay.models import Conversation, Delivery, MediaFetch, MediaFile, Message, Side
from relay.notices import render_notice
from relay.services import (
    early_statuses,
    event_counts,
    media_fetch,
    optout,
    outbound,
    snapshot,
    workers,
)
from relay.services.counters import Counter, count
from relay.services.photos import StoredPhoto, for_delivery, photos_for_platform
from relay.services.photos import send as send_with_photos

logger = logging.getLogger(__name__)
WINDOW = dt.timedelta(hours=24)


@dataclass(frozen=True)
class DeliveryResult:
    outcome: str  # "sent", "retry", "failed", "waiting", "skipped", "blocked"
    retry_in: float | None = None


# The hot statements of a delivery, in plain SQL (config/hotsql.py says why).
# Compare-and-set pending → sending, only if nothing earlier in its stream is unfinished
# (params: now, delivery id, now). The caller adds the RETURNING clause.
_CLAIM = (
    "UPDATE relay_delivery SET state = 'sending', claimed_until = %s, "  # noqa: S608 (constants)
    "claimed_by = %s, updated_at = %s "
    "WHERE id = %s AND state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= %s) "
    "AND NOT EXISTS (SELECT 1 FROM relay_delivery AS earlier "
    "WHERE earlier.conversation_id = relay_delivery.conversation_id "
    "AND earlier.recipient_side = relay_delivery.recipient_side "
    "AND earlier.seq < relay_delivery.seq "
    f"AND earlier.state IN ({', '.join(repr(s) for s in Delivery.BLOCKING_STATES)}))"
)
_NEXT_IN_STREAM = (
    "SELECT id FROM relay_delivery WHERE conversation_id = %s AND recipient_side = %s "
    "AND seq > %s AND state = 'pending' ORDER BY seq LIMIT 1"
)


_FINISH = (
    "UPDATE relay_delivery SET state = %s, sent_at = %s, provider_message_id = %s, "
    "attempts = %s, force_template = %s, error_code = '', error_reason = '', "
    "claimed_until = NULL, updated_at = %s WHERE id = %s"
)
# PostgreSQL: the finishing UPDATE and the look for the next delivery of the stream in one
# round trip (a data-modifying CTE; SQLite has none, so it runs the two statements).
_FINISH_AND_NEXT = (
    f"WITH done AS ({_FINISH} RETURNING conversation_id, recipient_side, seq) "  # noqa: S608
    "SELECT n.id FROM relay_delivery AS n JOIN done ON n.conversation_id = done.conversation_id "
    "AND n.recipient_side = done.recipient_side WHERE n.seq > done.seq AND n.state = 'pending' "
    "ORDER BY n.seq LIMIT 1"
)


@cache
def _loaded_columns() -> str:
    # Only what sending needs is joined (each join costs PostgreSQL planning time on every
    # delivery): identities come from the snapshot, and nothing here needs the buyer's row.
    return (
        f"SELECT {hotsql.columns(Delivery, 'd')}, {hotsql.columns(Endpoint, 'r')}, "  # noqa: S608
        f"{hotsql.columns(Message, 'm')}, {hotsql.columns(Conversation, 'c')}, "
        f"{hotsql.columns(Listing, 'l')}, {_OPTED_OUT} FROM "
    )


# Loaded with the delivery rather than asked in a statement of its own before every send
# (relay/services/optout.py keeps the rows): whether its recipient opted out of (SMS STOP) or
# refused its relay identity.
_OPTED_OUT = (
    "EXISTS (SELECT 1 FROM relay_smsoptout AS o WHERE o.endpoint_id = d.recipient_endpoint_id "
    "AND o.identity_id = d.identity_id)"
)
_OPTED_OUT_ATTR = "_recipient_opted_out"


_JOINS = (
    " JOIN contacts_endpoint AS r ON r.id = d.recipient_endpoint_id "
    "LEFT JOIN relay_message AS m ON m.id = d.message_id "
    "LEFT JOIN relay_conversation AS c ON c.id = d.conversation_id "
    "LEFT JOIN marketplace_listing AS l ON l.id = c.listing_id"
)


def lease_seconds() -> float:
    """How long a claimed delivery is its worker's: the longest a send can take (the connect
    and read timeouts of relay/adapters/http.py) and a margin for the work around it. Neither
    Meta nor Twilio documents a bound on their send APIs' answer time, so the bound is ours:
    RELAY_HTTP_TIMEOUT_SECONDS. A lease shorter than a send would hand a live send to a second
    worker; one much longer holds a dead worker's conversation for nothing."""
    read = settings.RELAY_HTTP_TIMEOUT_SECONDS
    return http.timeouts(read)[0] + read + LEASE_MARGIN_SECONDS


LEASE_MARGIN_SECONDS = 2.0


def _claim_and_load(delivery_id: int) -> Delivery | None:
    """Compare-and-set pending → sending, only if nothing earlier in its stream is unfinished;
    return the claimed delivery with what sending it needs, or None if not claimed."""
    moment = timezone.now()
    now = hotsql.when(moment)
    lease = hotsql.when(moment + dt.timedelta(seconds=lease_seconds()))
    claim = [lease, workers.worker_id(), now, delivery_id, now]
    if connection.vendor == "postgresql":
        # One round trip: the claim, then the joined rows of the claimed delivery.
        sql = f"WITH d AS ({_CLAIM} RETURNING *) {_loaded_columns()}d{_JOINS}"
        row = hotsql.fetch_one(sql, claim)
        return None if row is None else _build(row)
    if hotsql.fetch_one(f"{_CLAIM} RETURNING id", claim) is None:
        return None
    row = hotsql.fetch_one(
        _loaded_columns() + "relay_delivery AS d" + _JOINS + " WHERE d.id = %s", [delivery_id]
    )
    if row is None:
        raise Delivery.DoesNotExist(delivery_id)
    return _build(row)


def _build(row: tuple[object, ...]) -> Delivery:
    delivery, recipient, message, conversation, listing = hotsql.split(
        row[:-1], Delivery, Endpoint, Message, Conversation, Listing
    )
    setattr(delivery, _OPTED_OUT_ATTR, bool(row[-1]))
    delivery.recipient_endpoint = recipient
    if message is not None:
        delivery.message = message
    if conversation is not None:
        conversation.listing = listing
        delivery.conversation = conversation
    return delivery


def deliver_delivery(*, delivery_id: int) -> DeliveryResult:
    """Send one delivery. Safe to call twice: only one caller wins the claim.

    A database error is handed back as a retry of the task (the row stays pending, or
    `sending` under its lease for the sweeper): nothing is dropped while PostgreSQL is away."""
    try:
        delivery = _claim_and_load(delivery_id)
    except DatabaseError:
        return _database_unavailable(delivery_id, attempt=1)
    if delivery is None:
        return DeliveryResult("skipped")
    try:
        return _deliver_claimed(delivery)
    except DatabaseError:
        return _database_unavailable(delivery_id, attempt=delivery.attempts)


def _database_unavailable(delivery_id: int, *, attempt: int) -> DeliveryResult:
    logger.warning("delivery %s: the database is unavailable; the task will retry", delivery_id)
    close_old_connections()
    count(Counter.DATABASE_RETRIES)
    return DeliveryResult("retry", retry_in=min(DATABASE_RETRY_MAX_SECONDS, _backoff(attempt)))


# While the database is away, tasks come back at least this often, so delivery resumes within
# seconds of its return.
DATABASE_RETRY_MAX_SECONDS = 5.0


def _deliver_claimed(delivery: Delivery) -> DeliveryResult:
    if delivery.identity_id is not None:
        identity = snapshot.current().identities_by_pk.get(delivery.identity_id)
        if identity is not None:
            delivery.identity = identity
    with_photos = bool(delivery.notice_params.get("photos"))
    if with_photos and media_fetch.give_up_stale(message_id=delivery.message_id or 0):
        return _wait_for_photos(delivery)
    delivery.attempts += 1
    try:
        if with_photos and _nothing_left(delivery):
            return _drop(delivery)
        if delivery.channel == Channel.WEB:
            # The web inbox reads messages from the database: arriving there is delivery.
            return _acknowledged(delivery, _finish(delivery, Delivery.State.DELIVERED))
        if _carrier_opted_out(delivery):
            return _fail(delivery, OPTED_OUT_REASON, "opted-out")
        text = render(delivery)
        return _acknowledged(delivery, _send(delivery, text, for_delivery(delivery)))
    except crypto.BodyUnreadable:
        return _fail(delivery, "the message expired before it could be delivered", "shredded")
    except DatabaseError:
        raise  # deliver_delivery hands the task back; the lease keeps the row for the sweeper
    except Exception:
        # A bug or a database hiccup after the claim: hand the row back so it is retried
        # instead of holding its whole conversation behind a `sending` row.
        logger.exception("delivery %s raised; it will be retried", delivery.pk)
        wait = _backoff(delivery.attempts)
        Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.SENDING).update(
            state=Delivery.State.PENDING,
            claimed_until=None,
            attempts=delivery.attempts,
            next_attempt_at=timezone.now() + dt.timedelta(seconds=wait),
            updated_at=timezone.now(),
        )
        return DeliveryResult("retry", retry_in=wait)


def _wait_for_photos(delivery: Delivery) -> DeliveryResult:
    """Its photos are still downloading: hand the row back; the fetch releases it when done
    (relay/services/media_fetch.py), and this later attempt is the backstop."""
    wait = settings.RELAY_MEDIA_FETCH_SECONDS
    Delivery.objects.filter(pk=delivery.pk, state=Delivery.State.SENDING).update(
        state=Delivery.State.PENDING,
        claimed_until=None,
        next_attempt_at=timezone.now() + dt.timedelta(seconds=wait),
        updated_at=timezone.now(),
    )
    return DeliveryResult("retry", retry_in=wait)


def _nothing_left(delivery: Delivery) -> bool:
    """A photo sent without a caption that could not be forwarded: nothing is left to relay
    (its sender was told why when the download failed)."""
    if delivery.kind != Delivery.Kind.RELAY or delivery.message_id is None:
        return False
    if not MediaFetch.objects.filter(message_id=delivery.message_id).exists():
        return False
    if MediaFile.objects.filter(message_id=delivery.message_id).exists():
        return False
    conversation, message = delivery.conversation, delivery.message
    assert conversation is not None and message is not None
    key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    return not crypto.decrypt_body(key, message.uid, message.body_sealed).strip()


def _drop(delivery: Delivery) -> DeliveryResult:
    """Nothing to relay: the delivery ends failed without a second notice to its sender."""
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            state=Delivery.State.FAILED,
            claimed_until=None,
            error_code="photo-not-forwarded",
            error_reason="its photo could not be forwarded and it had no text",
            attempts=delivery.attempts,
            updated_at=timezone.now(),
        )
        event_counts.delivery_finished(delivery, state=Delivery.State.FAILED, now=timezone.now())
        _publish_next(delivery)
    return DeliveryResult("failed")


OPTED_OUT_REASON = "the recipient has opted out of messages from this number or account"
# The platforms' "this person will not receive from you": Twilio 21610 (replied STOP), Messenger
# and Instagram 551 ("this person isn't available": they blocked the page or account), WhatsApp
# 131026 (undeliverable: blocked the business, or no longer on WhatsApp).
REFUSED_BY_RECIPIENT: dict[str, str] = {
    Channel.SMS: str(OPTED_OUT_CODE),
    Channel.MESSENGER: str(MESSENGER_UNAVAILABLE),
    Channel.INSTAGRAM: str(MESSENGER_UNAVAILABLE),
    Channel.WHATSAPP: str(WHATSAPP_UNDELIVERABLE),
}


def _carrier_opted_out(delivery: Delivery) -> bool:
    """A recipient who opted out of (SMS STOP) or refused (a block) this relay identity: the
    platform would refuse the send, so the relay does not try. Loaded with the claim
    (_OPTED_OUT); asked separately only for a delivery built some other way."""
    if delivery.identity_id is None:
        return False
    loaded: bool | None = getattr(delivery, _OPTED_OUT_ATTR, None)
    if loaded is not None:
        return loaded
    return optout.opted_out(endpoint=delivery.recipient_endpoint_id, identity=delivery.identity_id)


def _acknowledged(delivery: Delivery, result: DeliveryResult) -> DeliveryResult:
    """A buyer's first message reached the seller: tell the buyer once, in their language,
    that it worked and how the relay goes on (silence would be the only sign otherwise)."""
    conversation = delivery.conversation
    if (
        result.outcome not in ("sent", "waiting")
        or not delivery.notice_params.get("introduce")
        or delivery.notice_params.get("acknowledged")  # a template first, then the text
        or conversation is None
    ):
        return result
    delivery.notice_params = {**delivery.notice_params, "acknowledged": True}
    Delivery.objects.filter(pk=delivery.pk).update(notice_params=delivery.notice_params)
    buyer, identity = outbound.recipient_for(conversation, Side.BUYER)
    if buyer.channel != Channel.WEB:  # the web chat shows the message's state itself
        outbound.queue_notice(
            recipient=buyer,
            identity=identity,
            code="first_delivered",
            params={"title": conversation.listing.public_title},
            conversation=conversation,
            side=Side.BUYER,
        )
    return result


# Messenger and Instagram accept a human agent's reply (the HUMAN_AGENT tag) for 7 days after
# the person's last message, and nothing after that (Messenger Platform, "Message tags").
HUMAN_AGENT_WINDOW = dt.timedelta(days=7)
HUMAN_AGENT_REASON = (
    "they have not written for over 7 days, and Messenger and Instagram let the relay answer "
    "only within 7 days of their last message: they must write first"
)


def _within_human_agent(delivery: Delivery) -> bool:
    last = delivery.recipient_endpoint.last_inbound_at
    return last is not None and timezone.now() - last < HUMAN_AGENT_WINDOW


def _within_window(delivery: Delivery) -> bool:
    last = delivery.recipient_endpoint.last_inbound_at
    return last is not None and timezone.now() - last < WINDOW


def _send(delivery: Delivery, text: str, photos: list[StoredPhoto]) -> DeliveryResult:
    try:
        adapter = adapter_for(delivery.channel)
    except PlatformDisabled:
        return _fail(delivery, "the recipient's messaging app is not connected to the relay", "off")
    text, media = photos_for_platform(delivery, adapter, text, photos)
    if delivery.identity is None:
        return _fail(delivery, "the relay has no number or account on that app", "no-identity")
    within = _within_window(delivery)
    if delivery.channel in (Channel.MESSENGER, Channel.INSTAGRAM) and not _within_human_agent(
        delivery
    ):
        return _fail(delivery, HUMAN_AGENT_REASON, "outside-7-days")
    use_template = (
        delivery.channel == Channel.WHATSAPP
        and (delivery.force_template or not within)
        and delivery.kind == Delivery.Kind.RELAY
    )
    message = OutboundText(
        identity_provider_id=delivery.identity.provider_id,
        to_address=contacts.endpoint_address(delivery.recipient_endpoint),
        text=text,
        callback_data=str(delivery.message.uid) if delivery.message else "",
        reply_to_provider_id=delivery.reply_to_provider_id,
        use_template=use_template,
        template_parameters=(delivery.conversation.listing.public_title,)
        if use_template and delivery.conversation
        else (),
        outside_window=not within,
        via_page_id=delivery.identity.page_id if delivery.channel == Channel.INSTAGRAM else "",
        media=media,
    )
    try:
        result = send_with_photos(adapter, message, delivery, photos)
    except WindowClosedError as error:
        if delivery.channel == Channel.WHATSAPP and not use_template and delivery.conversation:
            # 131047: free text refused outside the window. Send the template next time.
            delivery.force_template = True
            return _retry(delivery, error, delay=0.0)
        return _fail(delivery, error.reason, error.code)
    except TransientSendError as error:
        return _retry(delivery, error, delay=error.retry_after)
    except PermanentSendError as error:
        if REFUSED_BY_RECIPIENT.get(delivery.channel) == error.code:
            # They opted out or blocked us: try them no more (until START on SMS, or until they
            # write again on the other apps); the sender is told below in plain words.
            optout.record_carrier_refusal(
                endpoint_id=delivery.recipient_endpoint_id, identity_id=delivery.identity.pk
            )
        return _fail(delivery, error.reason, error.code)
    delivery.provider_message_id = crypto.provider_key(result.provider_message_id)
    if use_template:
        # The template says "reply to read it": the text itself waits for their answer.
        return _finish(delivery, Delivery.State.WAITING)
    finished = _finish(delivery, Delivery.State.SENT)
    _apply_early_statuses(delivery)
    return finished


def _apply_early_statuses(delivery: Delivery) -> None:
    """A delivered/read/failed webhook can beat the stored id (the platform answers the send
    and posts the status at once): the status side kept it; apply it now the id is committed."""
    assert delivery.provider_message_id is not None
    kept = early_statuses.take(channel=delivery.channel, provider_key=delivery.provider_message_id)
    if kept:
        from relay.services import statuses  # statuses builds on this module

        statuses.apply_taken(channel=delivery.channel, key=delivery.provider_message_id, kept=kept)


def render(delivery: Delivery) -> str:
    """The text the recipient sees: pseudonyms and the listing, never an address, all in the
    recipient's language (their endpoint's)."""
    language = delivery.recipient_endpoint.language or settings.RELAY_DEFAULT_LANGUAGE
    if delivery.kind == Delivery.Kind.NOTICE:
        params = {**delivery.notice_params, **outbound.open_secret_params(delivery)}
        return render_notice(delivery.notice_code, language, params)
    conversation = delivery.conversation
    message = delivery.message
    assert conversation is not None and message is not None
    with translation.override(language):
        if message.e2ee:
            # Web ↔ web only, and the web reads from the database; should an app ever be
            # handed one, it gets word of it, never the envelope.
            return _relayed_text(delivery, conversation, _(E2EE_IN_AN_APP))
        key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
        body = crypto.decrypt_body(key, message.uid, message.body_sealed)
        return _relayed_text(delivery, conversation, body)


E2EE_IN_AN_APP = gettext_noop("Encrypted message: open the web chat or the web inbox to read it.")


def _relayed_text(delivery: Delivery, conversation: Conversation, body: str) -> str:
    """A relayed body with its header, in the active language."""
    title = conversation.listing.public_title
    if delivery.recipient_side == Side.BUYER:
        return f"{pseudonyms.seller_name(title)} (#{conversation.tag}):\n{body}"
    buyer = pseudonyms.buyer_name(conversation.tag)
    if delivery.notice_params.get("introduce"):
        line = _("New buyer for “{title}”. Reply to this message or start with #{tag}.").format(
            title=title, tag=conversation.tag
        )
        return f"{line}\n{buyer}: {body}"
    return f"{buyer} · {title} (#{conversation.tag}):\n{body}"


def _finish(delivery: Delivery, state: str) -> DeliveryResult:
    now = timezone.now()
    delivery.state = state
    delivery.sent_at = now
    delivery.updated_at = now
    delivery.error_code = ""
    delivery.error_reason = ""
    params = [
        state,
        hotsql.when(now),
        delivery.provider_message_id,
        delivery.attempts,
        delivery.force_template,
        hotsql.when(now),
        delivery.pk,
    ]
    if state == Delivery.State.WAITING:  # its stream waits for the recipient's answer
        hotsql.execute(_FINISH, params)
    elif connection.vendor == "postgresql":
        following = hotsql.fetch_one(_FINISH_AND_NEXT, params)
        if following is not None:
            outbound.publish([following[0]])
    else:
        hotsql.execute(_FINISH, params)
        _publish_next(delivery)
    event_counts.delivery_finished(delivery, state=state, now=now)
    return DeliveryResult(state if state == "waiting" else "sent")


def _backoff(attempt: int) -> float:
    base = settings.RELAY_RETRY_BASE_SECONDS * (2 ** (attempt - 1))
    capped = min(settings.RELAY_RETRY_MAX_SECONDS, base)
    return capped / 2 + random.uniform(0, capped / 2)


def _retry(delivery: Delivery, error: SendError, *, delay: float | None) -> DeliveryResult:
    if delivery.attempts >= settings.RELAY_DELIVERY_MAX_ATTEMPTS:
        return _fail(delivery, error.reason, error.code or "retries-exhausted")
    wait = (
        _backoff(delivery.attempts)
        if delay is None
        else min(delay, settings.RELAY_RETRY_MAX_SECONDS)
    )
    delivery.state = Delivery.State.PENDING
    delivery.claimed_until = None
    delivery.next_attempt_at = timezone.now() + dt.timedelta(seconds=wait)
    delivery.error_code = error.code
    delivery.error_reason = error.reason[:300]
    if isinstance(error, TransientSendError) and error.may_have_sent:
        # The next attempt may duplicate this one: say so, and count it.
        delivery.uncertain_sends += 1
        count(Counter.UNCERTAIN_RESENDS)
        logger.warning("delivery %s may have reached the platform; re-sending", delivery.pk)
    delivery.save(
        update_fields=[
            "state",
            "claimed_until",
            "next_attempt_at",
            "attempts",
            "force_template",
            "error_code",
            "error_reason",
            "uncertain_sends",
            "updated_at",
        ]
    )
    logger.info(
        "delivery %s retry %s in %.1fs (%s)", delivery.pk, delivery.attempts, wait, error.code
    )
    return DeliveryResult("retry", retry_in=wait)


def _fail(delivery: Delivery, reason: str, code: str) -> DeliveryResult:
    with transaction.atomic():
        _record_failure(delivery, reason, code)
        event_counts.delivery_finished(delivery, state=Delivery.State.FAILED, now=timezone.now())
        _publish_next(delivery)
    return DeliveryResult("failed")


def mark_failed(delivery: Delivery, reason: str, code: str) -> None:
    """Record why a delivery the platform had taken failed after all (a status webhook can
    report failure after the send was accepted) and tell its sender."""
    _record_failure(delivery, reason, code)
    event_counts.delivery_failed_later(delivery)


def _record_failure(delivery: Delivery, reason: str, code: str) -> None:
    """Record why a delivery failed and tell its sender."""
    delivery.state = Delivery.State.FAILED
    delivery.claimed_until = None
    delivery.error_code = code[:32]
    delivery.error_reason = reason[:300]
    delivery.save(
        update_fields=[
            "state",
            "claimed_until",
            "error_code",
            "error_reason",
            "attempts",
            "updated_at",
        ]
    )
    logger.warning("delivery %s failed (%s)", delivery.pk, code)
    _tell_sender(delivery, reason)


def _tell_sender(delivery: Delivery, reason: str) -> None:
    """A relayed message that cannot be delivered: its sender hears why, in plain words."""
    message = delivery.message
    if delivery.kind != Delivery.Kind.RELAY or message is None or message.sender_endpoint is None:
        return
    conversation = delivery.conversation
    assert conversation is not None
    outbound.queue_notice(
        recipient=message.sender_endpoint,
        identity=message.identity,
        code="delivery_failed",
        params={"title": conversation.listing.public_title, "reason": reason},
    )


def _publish_next(delivery: Delivery) -> None:
    if delivery.conversation_id is None:
        return
    following = hotsql.fetch_one(
        _NEXT_IN_STREAM, [delivery.conversation_id, delivery.recipient_side, delivery.seq]
    )
    if following is not None:
        outbound.publish([following[0]])


def sweep_stuck_deliveries() -> int:
    """Hand back what a dead worker left `sending` past its lease, and re-publish deliveries
    left pending (a lost publish, a broker that restarted empty): the outbox pattern, the
    rows being the outbox. Survives a database outage (beat runs it again)."""
    try:
        reclaimed = _reclaim_expired_leases()
        stuck = _pending_heads()
    except DatabaseError:
        logger.warning("sweep: the database is unavailable; the next sweep will retry")
        close_old_connections()
        return 0
    from relay.tasks import deliver

    for delivery_id in [*reclaimed, *stuck]:
        deliver.delay(delivery_id)
    return len(reclaimed) + len(stuck)


def _reclaim_expired_leases() -> list[int]:
    """`sending` rows whose lease ran out go back to pending, counted as uncertain: the dead
    worker may have handed the message to the platform before it died."""
    now = timezone.now()
    expired = Q(claimed_until__lt=now) | Q(  # rows claimed before leases existed
        claimed_until__isnull=True, updated_at__lt=now - dt.timedelta(seconds=lease_seconds())
    )
    dead = workers.dead(
        set(
            Delivery.objects.filter(state=Delivery.State.SENDING)
            .exclude(claimed_by="")
            .values_list("claimed_by", flat=True)
            .distinct()
        )
    )
    if dead:  # their heartbeat stopped: no need to wait out the lease
        expired |= Q(claimed_by__in=dead)
    ids = list(
        Delivery.objects.filter(expired, state=Delivery.State.SENDING).values_list("pk", flat=True)[
            :1000
        ]
    )
    if not ids:
        return []
    reclaimed = Delivery.objects.filter(expired, pk__in=ids, state=Delivery.State.SENDING).update(
        state=Delivery.State.PENDING,
        claimed_until=None,
        next_attempt_at=None,
        uncertain_sends=F("uncertain_sends") + 1,
        updated_at=now,
    )
    logger.warning("sweep: %s deliveries reclaimed from expired leases", reclaimed)
    count(Counter.RECLAIMED_LEASES, reclaimed)
    count(Counter.UNCERTAIN_RESENDS, reclaimed)
    return ids


def _pending_heads() -> list[int]:
    """Deliveries pending longer than RELAY_SWEEP_PENDING_SECONDS, the first of each stream
    only: it publishes the rest of its stream as it finishes."""
    now = timezone.now()
    grace = dt.timedelta(seconds=settings.RELAY_SWEEP_PENDING_SECONDS)
    rows = (
        Delivery.objects.filter(state=Delivery.State.PENDING, updated_at__lt=now - grace)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("conversation_id", "recipient_side", "seq")
        .values_list("pk", "conversation_id", "recipient_side")[:1000]
    )
    heads, seen = [], set()
    for delivery_id, conversation_id, side in rows:
        if conversation_id is not None and (conversation_id, side) in seen:
            continue
        seen.add((conversation_id, side))
        heads.append(delivery_id)
    return heads
