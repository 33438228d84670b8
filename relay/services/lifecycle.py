"""The conversation lifecycle: the one module that changes a conversation's status.

    open ──STOP──▶ ended ──START / the handle again (by the side that stopped)──▶ open
    open | ended ──BLOCK──▶ blocked ──UNBLOCK (by the blocker)──▶ open
    any but closed ──idle (listing over + RELAY_CLOSE_AFTER_DAYS; RELAY_IDLE_CLOSE_DAYS)──▶ closed
    closed: final; `purge` shreds it after RELAY_RETENTION_DAYS; the handle opens a new one.

Ending, blocking and closing move the conversation to a new generation of web-chat links
(`chat_epoch`): the buyer's old links then open a "this chat has ended" page with no history.

A moderator's block (by_side=relay) can be undone by no participant. Each transition that
changes what the other side can do is told to them, in their language, in the conversation's
stream; the side that acted hears it from its own road (a notice on its app, a message on the
page, the API's answer). Closing is told when a side next writes: a message out of the blue
weeks after the last one would cost a WhatsApp template and read like spam.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from marketplace.models import Listing
from relay.models import Conversation, Side
from relay.services import outbound
from relay.services.errors import RelayError

Status = Conversation.Status
LIVE = (Status.OPEN, Status.ENDED, Status.BLOCKED)


class Transition(StrEnum):
    END = "end"
    RESUME = "resume"
    BLOCK = "block"
    UNBLOCK = "unblock"
    CLOSE = "close"


class LifecycleError(RelayError):
    """A transition the conversation's state does not allow; the message says why."""


def _other(side: str) -> str:
    return Side.SELLER if side == Side.BUYER else Side.BUYER


def _tell_other(conversation: Conversation, *, actor: str, code: str) -> None:
    """Tell the side the actor's transition affects, in the conversation's stream."""
    recipients = [Side.BUYER, Side.SELLER] if actor == Side.RELAY else [_other(actor)]
    for side in recipients:
        endpoint, identity = outbound.recipient_for(conversation, side)
        outbound.queue_notice(
            recipient=endpoint,
            identity=identity,
            code=code,
            params={"title": conversation.listing.public_title},
            conversation=conversation,
            side=side,
        )


# Leaving `open` for one of these retires the buyer's web-chat links (relay/selectors.py): a
# link copied before a STOP, a block or a close opens no history afterwards. Coming back
# (resume, unblock) keeps the generation: the buyer who acted was handed the new link.
RETIRES_CHAT_LINKS = (Status.ENDED, Status.BLOCKED, Status.CLOSED)


def _save(conversation: Conversation, status: str, **fields: object) -> None:
    conversation.status = status
    for name, value in fields.items():
        setattr(conversation, name, value)
    update_fields = ["status", *fields]
    if status in RETIRES_CHAT_LINKS:
        # F(): two transitions at once must both move the generation past every issued link.
        conversation.chat_epoch = F("chat_epoch") + 1
        update_fields.append("chat_epoch")
    conversation.save(update_fields=update_fields)
    if status in RETIRES_CHAT_LINKS:
        conversation.refresh_from_db(fields=["chat_epoch"])


def end(conversation: Conversation, *, by_side: str) -> None:
    """STOP: open → ended. The side that stopped may resume; the other side is told."""
    if conversation.status != Status.OPEN:
        raise LifecycleError(_("This conversation is not open."))
    _save(conversation, Status.ENDED, ended_by=by_side, closed_at=timezone.now())
    _tell_other(conversation, actor=by_side, code=f"{by_side}_left")


def can_resume(conversation: Conversation, side: str) -> bool:
    return conversation.status == Status.ENDED and conversation.ended_by == side


def resume(conversation: Conversation, *, by_side: str) -> None:
    """START (or the handle written again): ended → open, only by the side that stopped."""
    if not can_resume(conversation, by_side):
        raise LifecycleError(_("Only the side that ended this conversation can resume it."))
    _save(conversation, Status.OPEN, ended_by="", closed_at=None)
    _tell_other(conversation, actor=by_side, code=f"{by_side}_back")


def block(conversation: Conversation, *, by_side: str) -> None:
    """BLOCK: open or ended → blocked. The blocker may undo it; a moderator's block is final
    for the participants."""
    if conversation.status not in (Status.OPEN, Status.ENDED) and by_side != Side.RELAY:
        raise LifecycleError(_("This conversation is already blocked or closed."))
    if conversation.status == Status.CLOSED:
        return
    was_open = conversation.status == Status.OPEN
    _save(conversation, Status.BLOCKED, blocked_by=by_side, closed_at=timezone.now())
    if by_side == Side.RELAY:
        _tell_other(conversation, actor=by_side, code="relay_blocked")
    elif was_open:  # after a STOP the other side was told already
        _tell_other(conversation, actor=by_side, code=f"{by_side}_left")


def can_unblock(conversation: Conversation, side: str) -> bool:
    return conversation.status == Status.BLOCKED and conversation.blocked_by == side


def unblock(conversation: Conversation, *, by_side: str) -> None:
    """UNBLOCK: blocked → open, only by the side that blocked."""
    if not can_unblock(conversation, by_side):
        raise LifecycleError(_("Only the side that blocked this conversation can unblock it."))
    _save(conversation, Status.OPEN, blocked_by="", ended_by="", closed_at=None)
    _tell_other(conversation, actor=by_side, code=f"{by_side}_back")


def close(conversation: Conversation) -> None:
    """Idle: any live state → closed, final. Told when a side next writes (module docstring)."""
    if conversation.status != Status.CLOSED:
        _save(conversation, Status.CLOSED, closed_at=timezone.now())


def idle_conversations(*, now: dt.datetime | None = None) -> Q:
    """Which live conversations are due to close: the listing sold or closed and no message for
    RELAY_CLOSE_AFTER_DAYS, or no message at all for RELAY_IDLE_CLOSE_DAYS."""
    now = now or timezone.now()
    listing_ended = (~Q(listing__status=Listing.Status.ACTIVE) | Q(listing__taken_down=True)) & Q(
        last_activity_at__lt=now - dt.timedelta(days=settings.RELAY_CLOSE_AFTER_DAYS)
    )
    idle = Q(last_activity_at__lt=now - dt.timedelta(days=settings.RELAY_IDLE_CLOSE_DAYS))
    return Q(status__in=LIVE) & (listing_ended | idle)


def close_idle(*, now: dt.datetime | None = None) -> int:
    """Close every conversation due (celery beat runs this hourly; `purge` runs it first)."""
    moment = now or timezone.now()
    return Conversation.objects.filter(idle_conversations(now=moment)).update(
        status=Status.CLOSED, closed_at=moment, chat_epoch=F("chat_epoch") + 1
    )


__all__ = [
    "LifecycleError",
    "Transition",
    "block",
    "can_resume",
    "can_unblock",
    "close",
    "close_idle",
    "end",
    "resume",
    "unblock",
]
