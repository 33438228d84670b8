"""E-mail for sellers away from the inbox: a new conversation, and buyer messages still unread
after RELAY_NOTIFY_UNREAD_MINUTES.

An e-mail names only the buyer's pseudonym ("Buyer K7Q2") and the listing's public title, and
links to the conversation in the inbox: never a body, a phone number or a platform id, which an
e-mail provider, a shared mailbox or a forwarded message would otherwise keep for ever.

Unread means a buyer message created after the seller last had the conversation open in the
web inbox (above the inbox's read mark, `Conversation.seller_read_message_id`, which
relay/services/read_marks.py moves) and not answered by the seller since (an answer from
an app shows they read it there). `Conversation.seller_notified_up_to` is the creation time of
the newest buyer message an e-mail has covered: a message is mentioned at most once, whichever
of the two e-mails mentions it. A conversation is claimed by compare-and-set on that mark
before the e-mail goes out, so two beat runs never both send it; a send that fails hands the
claim back for the next run.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from contacts import selectors as contacts_selectors
from contacts.models import User
from relay.models import Conversation, Delivery, Message, Side

logger = logging.getLogger(__name__)

# Messages older than this are not mailed about: a seller who turns e-mail on (or a first
# deploy) must not receive a digest of every conversation they ever left unread.
LOOKBACK = dt.timedelta(days=1)


@dataclass
class Unread:
    """One conversation an e-mail is about: how many unread buyer messages, up to when."""

    conversation: Conversation
    count: int
    newest: dt.datetime


# --- Publishing -------------------------------------------------------------------------------


def publish_new_conversation(conversation_id: int) -> None:
    """Publish the new-conversation e-mail task once the opening message commits (ids only)."""
    from relay.tasks import notify_new_conversation

    def send() -> None:
        try:
            notify_new_conversation.delay(conversation_id)
        except Exception:
            # The unread sweep mails about it after RELAY_NOTIFY_UNREAD_MINUTES instead.
            logger.warning("publishing a new-conversation e-mail failed; the sweep covers it")

    transaction.on_commit(send)


# --- Finding unread messages ---------------------------------------------------------------------


def _unread(conversations: QuerySet[Conversation], *, before: dt.datetime) -> list[Unread]:
    """Unread buyer messages not yet mailed about, created before `before`, per conversation."""
    delivered_to_seller = Delivery.objects.filter(
        message=OuterRef("pk"), recipient_side=Side.SELLER
    )
    answered_later = Message.objects.filter(
        conversation=OuterRef("conversation"),
        sender_side=Side.SELLER,
        created_at__gt=OuterRef("created_at"),
    )
    counts = (
        Message.objects.filter(
            conversation__in=conversations,
            sender_side=Side.BUYER,
            created_at__lte=before,
            created_at__gt=timezone.now() - LOOKBACK,
        )
        .filter(id__gt=F("conversation__seller_read_message_id"))
        .filter(
            Q(conversation__seller_notified_up_to__isnull=True)
            | Q(created_at__gt=F("conversation__seller_notified_up_to"))
        )
        # Held as spam: kept as evidence, never delivered, so never announced either.
        .filter(Exists(delivered_to_seller))
        .exclude(Exists(answered_later))
        .values("conversation_id")
        .annotate(count=Count("id"), newest=Max("created_at"))
    )
    found = {row["conversation_id"]: row for row in counts}
    rows = Conversation.objects.filter(pk__in=found).select_related("listing__seller")
    return [
        Unread(row, found[row.pk]["count"], found[row.pk]["newest"]) for row in rows.order_by("pk")
    ]


def _claim(items: list[Unread]) -> list[Unread]:
    """Move each conversation's mark to its newest unread message; keep those this run won."""
    claimed = []
    for item in items:
        previous = item.conversation.seller_notified_up_to
        unchanged = (
            Q(seller_notified_up_to__isnull=True)
            if previous is None
            else Q(seller_notified_up_to=previous)
        )
        won = Conversation.objects.filter(unchanged, pk=item.conversation.pk)
        if won.update(seller_notified_up_to=item.newest):
            claimed.append(item)
    return claimed


def _release(items: list[Unread]) -> None:
    """The e-mail did not go out: give the marks back so the next run tries again."""
    for item in items:
        Conversation.objects.filter(
            pk=item.conversation.pk, seller_notified_up_to=item.newest
        ).update(seller_notified_up_to=item.conversation.seller_notified_up_to)


# --- The e-mail ----------------------------------------------------------------------------------


def _absolute(path: str) -> str:
    return f"{settings.RELAY_PUBLIC_URL}{path}"


def _line(item: Unread, *, new: bool) -> str:
    params = {
        "tag": item.conversation.tag,
        "title": item.conversation.listing.public_title,
        "count": item.count,
    }
    if new:
        return _("Buyer %(tag)s wrote about %(title)s") % params
    # Two msgids rather than ngettext: Indonesian has one form, and the catalogue's checks
    # (tests/test_i18n.py) read singular entries only.
    if item.count == 1:
        return _("Buyer %(tag)s about %(title)s: 1 unread message") % params
    return _("Buyer %(tag)s about %(title)s: %(count)s unread messages") % params


def _subject(items: list[Unread], *, new: bool) -> str:
    if len(items) > 1:
        subject = _("Unread messages in %(count)s conversations") % {"count": len(items)}
    else:
        conversation = items[0].conversation
        params = {"tag": conversation.tag, "title": conversation.listing.public_title}
        if new:
            subject = _("New conversation: Buyer %(tag)s about %(title)s") % params
        else:
            subject = _("Unread messages from Buyer %(tag)s about %(title)s") % params
    # A header cannot hold a line break (Django refuses it), and a title may.
    return " ".join(subject.split())


def build_email(seller: User, items: list[Unread], *, new: bool) -> EmailMultiAlternatives:
    """The e-mail to `seller` about `items`, in the seller's language, text and HTML."""
    with translation.override(seller.language or settings.LANGUAGE_CODE):
        context = {
            "new": new,
            "items": [
                {
                    "line": _line(item, new=new),
                    "url": _absolute(reverse("relay:conversation", args=[item.conversation.code])),
                }
                for item in items
            ],
            "settings_url": _absolute(reverse("contacts:channels")) + "#notifications",
        }
        mail = EmailMultiAlternatives(
            subject=_subject(items, new=new),
            body=render_to_string("relay/email/notification.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[seller.email],
        )
        mail.attach_alternative(
            render_to_string("relay/email/notification.html", context), "text/html"
        )
    return mail


def _send(seller: User, items: list[Unread], *, new: bool) -> bool:
    claimed = _claim(items)
    if not claimed:
        return False
    try:
        build_email(seller, claimed, new=new).send()
    except Exception:
        _release(claimed)
        # The user id only: the address is the seller's own, but logs travel further.
        logger.warning("notification e-mail to user %s failed; the next run retries", seller.pk)
        return False
    logger.info("notification e-mail sent to user %s (%s conversations)", seller.pk, len(claimed))
    return True


# --- Entry points (the tasks in relay/tasks.py) -----------------------------------------------


def notify_new_conversation(*, conversation_id: int) -> bool:
    """E-mail the seller that a buyer opened a conversation, unless they have read it already
    or do not want e-mail. The messages it mentions are not mentioned again."""
    conversations = Conversation.objects.filter(pk=conversation_id, status=Conversation.Status.OPEN)
    items = _unread(conversations, before=timezone.now())
    if not items:
        return False
    seller = items[0].conversation.listing.seller
    if not contacts_selectors.sellers_wanting_email([seller.pk]):
        return False
    return _send(seller, items, new=True)


def notify_unread() -> int:
    """E-mail each seller, once for all their conversations, about buyer messages still unread
    after RELAY_NOTIFY_UNREAD_MINUTES. Return how many e-mails went out."""
    now = timezone.now()
    before = now - dt.timedelta(minutes=settings.RELAY_NOTIFY_UNREAD_MINUTES)
    live = Conversation.objects.filter(
        status=Conversation.Status.OPEN, last_activity_at__gt=now - LOOKBACK
    )
    by_seller: dict[int, list[Unread]] = defaultdict(list)
    for item in _unread(live, before=before):
        by_seller[item.conversation.listing.seller_id].append(item)
    sent = 0
    for seller_id in sorted(contacts_selectors.sellers_wanting_email(by_seller)):
        items = by_seller[seller_id]
        sent += _send(items[0].conversation.listing.seller, items, new=False)
    return sent
