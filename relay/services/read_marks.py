"""The seller's read mark per conversation: what the inbox counts as unread."""

from __future__ import annotations

from relay.models import Conversation, Message


def mark_seller_read(*, conversation: Conversation, up_to: int) -> bool:
    """Move the seller's read mark up to message id `up_to` (never down, never past the
    conversation's newest message, so a page cannot mark unseen future messages read).

    `up_to` comes from the page (the newest message it showed while visible). Return whether
    the mark moved; an idle page whose mark is current writes nothing.
    """
    if up_to <= conversation.seller_read_message_id:
        return False
    newest = (
        Message.objects.filter(conversation=conversation, id__lte=up_to)
        .order_by("-id")
        .values_list("id", flat=True)
        .first()
    )
    if newest is None or newest <= conversation.seller_read_message_id:
        return False
    moved = Conversation.objects.filter(
        pk=conversation.pk, seller_read_message_id__lt=newest
    ).update(seller_read_message_id=newest)
    conversation.seller_read_message_id = newest
    return bool(moved)
