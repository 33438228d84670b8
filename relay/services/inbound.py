"""Accepting what platforms send: one transaction per inbound message, dedupe first."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from config import hotsql
from contacts import services as contacts
from contacts.models import Endpoint
from relay import crypto
from relay.adapters.base import InboundMessage
from relay.models import Conversation, Message, RelayIdentity, Report, Side
from relay.services import limits, moderation, outbound, snapshot
from relay.services.conversations import block_conversation
from relay.services.routing import route_inbound

logger = logging.getLogger(__name__)

# "2", "2 asked for a transfer", "2. scam": a digit standing alone. A handle that starts with
# a digit ("3K7Q-W2XP") is not an answer, and it no longer costs a report lookup.
REASON_REPLY = re.compile(r"^\s*([1-5])(?![0-9A-Za-z])[\s.,:;-]*(.*)$", re.DOTALL)
KEYWORDS = {
    "STOP": "stop",
    "BERHENTI": "stop",
    "BLOCK": "block",
    "BLOKIR": "block",
    "HELP": "help",
    "BANTUAN": "help",
    "REPORT": "report",
    "LAPOR": "report",
}


@dataclass(frozen=True)
class Accepted:
    outcome: str  # "relayed", "duplicate", "notice", "ignored", "keyword"
    message_id: int | None = None


def keyword_of(text: str) -> str | None:
    """A message that is only a keyword (any case, optional #TAG or punctuation around it)."""
    words = text.strip().strip(".!").split()
    if len(words) == 1:
        return KEYWORDS.get(words[0].upper())
    if len(words) == 2 and words[0].startswith("#"):
        return KEYWORDS.get(words[1].upper())
    return None


def accept_inbound(*, event: InboundMessage) -> Accepted:
    """Dedupe, route, encrypt, store and queue one inbound message; answer fast.

    Opens its own transaction; tasks are published only after it commits.
    """
    try:
        with transaction.atomic():
            return _accept(event)
    except IntegrityError:
        # The platform retried while the first copy was being stored: the unique constraint
        # on (channel, provider id) kept one.
        if Message.objects.filter(
            channel=event.channel,
            provider_message_id=crypto.provider_key(event.provider_message_id),
        ).exists():
            return Accepted("duplicate")
        raise


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
    in one round trip: the two lookups every inbound message starts with. Senders known by a
    platform-scoped key (WhatsApp's BSUID) are matched on that key first, so they keep the
    separate lookups."""
    provider_key = crypto.provider_key(event.provider_message_id)
    if not event.sender_key:
        try:
            normalized = contacts.normalize_address(
                channel=event.channel, address=event.sender_address
            )
        except (contacts.ContactsError, contacts.InvalidPhoneNumber):
            normalized = None  # get_or_create_endpoint says why, as it always has
        if normalized is not None:
            row = hotsql.fetch_one(
                _seen_and_sender_sql(),
                [
                    event.channel,
                    provider_key,
                    event.channel,
                    contacts.index_for(channel=event.channel, normalized=normalized),
                ],
            )
            assert row is not None  # one row whatever matched
            [sender] = hotsql.split(row[1:], Endpoint)
            return bool(row[0]), sender, normalized
    seen = hotsql.fetch_one(
        "SELECT 1 FROM relay_message WHERE channel = %s AND provider_message_id = %s LIMIT 1",
        [event.channel, provider_key],
    )
    return seen is not None, None, None


def _accept(event: InboundMessage) -> Accepted:
    # The unique constraint alone would dedupe, but only after routing ran again and a retry
    # had counted against the sender's rate limits; one indexed lookup spares both.
    seen, sender, normalized = _seen_and_sender(event)
    if seen:
        return Accepted("duplicate")
    hot = snapshot.current()
    identity = hot.identity(event.channel, event.identity_provider_id)
    if identity is None:
        logger.warning("inbound on an unknown %s identity ignored", event.channel)
        return Accepted("ignored")
    new_sender = False
    if sender is None and normalized is not None:  # looked up just now: not there
        sender, new_sender = contacts.create_endpoint(
            channel=event.channel, normalized=normalized, inbound_at=timezone.now()
        )
    elif sender is None:
        sender, new_sender = contacts.get_or_create_endpoint(
            channel=event.channel,
            address=event.sender_address,
            sender_key=event.sender_key,
            inbound_at=timezone.now(),
        )
    if sender.blind_index in hot.banned:
        outbound.queue_notice(recipient=sender, identity=identity, code="banned")
        return Accepted("refused")
    _open_window(sender)
    text = event.text.strip()

    if contacts.redeem_link_code(endpoint=sender, text=text) is not None:
        outbound.queue_notice(recipient=sender, identity=identity, code="link_connected")
        return Accepted("notice")
    if event.has_media and not text:
        outbound.queue_notice(recipient=sender, identity=identity, code="media_unsupported")
        return Accepted("notice")
    if len(text) > settings.RELAY_MAX_TEXT_CHARS:
        outbound.queue_notice(
            recipient=sender,
            identity=identity,
            code="too_long",
            params={"limit": str(settings.RELAY_MAX_TEXT_CHARS)},
        )
        return Accepted("notice")

    keyword = keyword_of(text)
    if keyword == "help":
        outbound.queue_notice(recipient=sender, identity=identity, code="help")
        return Accepted("keyword")
    if _completes_report(sender, identity, text):
        return Accepted("report")
    suspended, suspended_until = hot.suspension(endpoint_id=sender.pk, user_id=sender.user_id)
    if suspended:
        until = f"{suspended_until:%Y-%m-%d %H:%M} UTC" if suspended_until else "a review"
        outbound.queue_notice(
            recipient=sender, identity=identity, code="suspended_until", params={"until": until}
        )
        return Accepted("refused")
    route = route_inbound(
        sender=sender,
        identity=identity,
        text=text,
        reply_to=event.reply_to_provider_id,
        new_sender=new_sender,
    )
    conversation = route.conversation
    if conversation is None or route.side is None:
        outbound.queue_notice(
            recipient=sender,
            identity=identity,
            code=route.notice or "help",
            params=route.notice_params,
        )
        return Accepted("notice")
    listing = conversation.listing
    if keyword == "report":
        moderation.file_report(conversation=conversation, reporter_side=route.side, reporter=sender)
        outbound.queue_notice(recipient=sender, identity=identity, code="report_menu")
        return Accepted("keyword")
    if keyword in ("stop", "block"):
        block_conversation(conversation=conversation, by_side=route.side)
        outbound.queue_notice(
            recipient=sender,
            identity=identity,
            code="blocked_confirm",
            params={"title": conversation.listing.title},
            conversation=conversation,
            side=route.side,
        )
        return Accepted("keyword")
    if conversation.status != Conversation.Status.OPEN:
        outbound.queue_notice(
            recipient=sender,
            identity=identity,
            code="conversation_blocked",
            params={"title": conversation.listing.title},
        )
        return Accepted("notice")
    other_suspended, _until = (
        hot.suspension(endpoint_id=conversation.buyer_endpoint_id)
        if route.side == Side.SELLER
        else hot.suspension(user_id=listing.seller_id)
    )
    if other_suspended:
        outbound.queue_notice(
            recipient=sender,
            identity=identity,
            code="conversation_paused",
            params={"title": listing.title},
        )
        return Accepted("refused")
    if not limits.allow_message(conversation.code, route.side):
        outbound.queue_notice(recipient=sender, identity=identity, code="slow_down")
        return Accepted("refused")
    if event.has_media:
        outbound.queue_notice(recipient=sender, identity=identity, code="media_unsupported")
    body = route.text.strip() or text
    if listing.mask_contact_details:
        body, masked = limits.mask_contact_details(body, region=sender.region)
        if masked:
            outbound.queue_notice(recipient=sender, identity=identity, code="contact_masked")
    held = route.side == Side.BUYER and limits.repeated_across_listings(body, listing.pk)
    message = outbound.relay_message(
        conversation=conversation,
        sender_side=route.side,
        sender=sender,
        identity=identity,
        text=body,
        channel=event.channel,
        provider_message_id=crypto.provider_key(event.provider_message_id),
        hold=held,
        introduce=route.created,
    )
    if held:
        moderation.file_report(
            conversation=conversation,
            reporter_side=Side.RELAY,
            reason="spam",
            automatic=True,
        )
        outbound.queue_notice(recipient=sender, identity=identity, code="held_as_spam")
        return Accepted("held", message.pk)
    return Accepted("relayed", message.pk)


def _completes_report(sender: Endpoint, identity: RelayIdentity, text: str) -> bool:
    """A numbered answer to the report menu files the waiting report."""
    match = REASON_REPLY.match(text)
    if match is None:
        return False
    waiting = (
        Report.objects.select_related("listing")
        .filter(
            reporter_endpoint=sender,
            status=Report.Status.AWAITING_REASON,
            created_at__gte=timezone.now() - dt.timedelta(minutes=30),
        )
        .order_by("-created_at")
        .first()
    )
    if waiting is None:
        return False
    moderation.complete_report(
        report=waiting,
        reason=moderation.REASON_BY_NUMBER[match.group(1)],
        note=match.group(2) or "",
    )
    outbound.queue_notice(
        recipient=sender,
        identity=identity,
        code="report_filed",
        params={"title": waiting.listing.title if waiting.listing else ""},
    )
    return True


def _open_window(sender: Endpoint) -> None:
    """The sender just wrote: their 24-hour window is open; release what waited for it."""
    now = timezone.now()
    previous = sender.last_inbound_at
    # One write a minute is precise enough for a 24-hour window and spares the hot path.
    if previous is None or now - previous > dt.timedelta(minutes=1):
        Endpoint.objects.filter(pk=sender.pk).update(last_inbound_at=now)
        sender.last_inbound_at = now
    if sender.channel == "whatsapp":  # only WhatsApp holds text back behind a template
        outbound.release_waiting(recipient=sender)


__all__ = ["Accepted", "Side", "accept_inbound", "keyword_of"]
