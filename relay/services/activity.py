"""The seller dashboard's numbers: conversations and messages per day, first-reply times.

A read, kept here beside the conversations it counts because marketplace (which draws the
dashboard) sits below relay and cannot query relay's tables. Two statements answer for every
listing of a seller at once, whatever the number of listings or days (tests/marketplace/
test_dashboard_activity.py counts them): one groups messages by listing and local day in the
database, one fetches each conversation of the window with its first buyer message and the
seller's first reply after it. The median is taken in Python, since SQLite has no percentile
aggregate. Only timestamps and counts are read: no body, no address.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone

from contacts.models import User
from marketplace.activity import WINDOW_DAYS, DayCount, ListingActivity, window
from relay.models import Conversation, Message, Side

# Relay notices are rows too (sender_side "relay"); the seller asked how often people wrote.
PEOPLE = (Side.BUYER, Side.SELLER)


def _window_start(first_day: dt.date) -> dt.datetime:
    """Midnight of `first_day` in the active time zone: days are the seller's, not UTC's."""
    return timezone.make_aware(dt.datetime.combine(first_day, dt.time.min))


def _messages_per_day(
    seller: User, listing_ids: list[int], start: dt.datetime
) -> dict[tuple[int, dt.date], int]:
    rows = (
        Message.objects.filter(
            conversation__listing__seller=seller,
            conversation__listing_id__in=listing_ids,
            created_at__gte=start,
            sender_side__in=PEOPLE,
        )
        .annotate(day=TruncDate("created_at"))  # in the active time zone
        .values("conversation__listing_id", "day")
        .annotate(count=Count("id"))
        .order_by()
    )
    return {(row["conversation__listing_id"], row["day"]): row["count"] for row in rows}


def _conversations(
    seller: User, listing_ids: list[int], start: dt.datetime
) -> list[tuple[int, dt.datetime, dt.datetime | None, dt.datetime | None]]:
    first_buyer_message = (
        Message.objects.filter(conversation=OuterRef("pk"), sender_side=Side.BUYER)
        .order_by("created_at")
        .values("created_at")[:1]
    )
    first_reply = (
        Message.objects.filter(
            conversation=OuterRef("pk"),
            sender_side=Side.SELLER,
            created_at__gt=OuterRef("first_buyer_at"),
        )
        .order_by("created_at")
        .values("created_at")[:1]
    )
    return list(
        Conversation.objects.filter(
            listing__seller=seller, listing_id__in=listing_ids, created_at__gte=start
        )
        .annotate(first_buyer_at=Subquery(first_buyer_message))
        .annotate(first_reply_at=Subquery(first_reply))
        .values_list("listing_id", "created_at", "first_buyer_at", "first_reply_at")
    )


def activity_for_listings(
    *, seller: User, listing_ids: Iterable[int], today: dt.date | None = None
) -> dict[int, ListingActivity]:
    """Each of `seller`'s listings among `listing_ids`, over the last `WINDOW_DAYS` days.

    Days are local dates of the active time zone; `today` defaults to the local today. Another
    seller's listing id gets an empty record, never their numbers.
    """
    ids = list(listing_ids)
    if not ids:
        return {}
    days = window(today or timezone.localdate(), WINDOW_DAYS)
    start = _window_start(days[0])
    messages = _messages_per_day(seller, ids, start)
    started: dict[tuple[int, dt.date], int] = defaultdict(int)
    reply_times: dict[int, list[dt.timedelta]] = defaultdict(list)
    for listing_id, created_at, first_buyer_at, first_reply_at in _conversations(
        seller, ids, start
    ):
        started[(listing_id, timezone.localdate(created_at))] += 1
        if first_buyer_at is not None and first_reply_at is not None:
            reply_times[listing_id].append(first_reply_at - first_buyer_at)
    return {
        listing_id: ListingActivity(
            days=[
                DayCount(
                    day=day,
                    conversations=started.get((listing_id, day), 0),
                    messages=messages.get((listing_id, day), 0),
                )
                for day in days
            ],
            reply_times=reply_times.get(listing_id, []),
        )
        for listing_id in ids
    }
