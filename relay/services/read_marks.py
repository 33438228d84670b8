"""The seller's read mark per conversation: what the inbox counts as unread, and what the
e-mail sweep (relay/services/notifications.py) treats as already seen."""

from __future__ import annotations

from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce

from relay.models import Conversation, Message


def mark_seller_read(*, conversation: Conversation, up_to: int) -> bool:
    """Move the seller's read mark up to message id `up_to` (never down, never past the
    conversation's newest message, so a page cannot mark unseen future messages read).

    `up_to` comes from the page (the newest message it showed while visible). One UPDATE,
    which an idle page whose mark is current does not even send. Return whether it ran.
    """
    if up_to <= conversation.seller_read_message_id:
        return False
    # The newest real message at or below `up_to`: never above the mark's own message, since
    # the mark is a real message id (or 0) below `up_to`.
    newest = Subquery(
        Message.objects.filter(conversation=OuterRef("pk"), id__lte=up_to)
        .order_by("-id")
        .values("id")[:1]
    )
    moved = Conversation.objects.filter(
        pk=conversation.pk, seller_read_message_id__lt=up_to
    ).update(seller_read_message_id=Coalesce(newest, F("seller_read_message_id")))
    return bool(moved)
