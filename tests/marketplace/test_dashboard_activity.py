"""The seller's dashboard draws each listing's last 30 days and its median first-reply time."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.models import Endpoint, User
from marketplace import services as marketplace
from marketplace.activity import ListingActivity, format_duration
from marketplace.models import Listing
from relay.models import Conversation
from relay.pipeline import roads
from relay.services import web

pytestmark = pytest.mark.django_db

# Noon UTC is the same calendar day from UTC-11 to UTC+11: the test holds in any TIME_ZONE.
NOW = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


def listing(seller: User, title: str) -> Listing:
    return marketplace.create_listing(seller=seller, title=title, price=Decimal(100000))


class Buyer:
    """A web-chat buyer of their own network, so abuse limits per network stay out of it."""

    count = 0

    def __init__(self) -> None:
        Buyer.count += 1
        self.endpoint: Endpoint = web.browser_endpoint(signed=None, language="en")
        self.network = f"test-network-{Buyer.count}"
        self.conversation: Conversation | None = None

    def write(self, item: Listing, at: dt.datetime, text: str = "") -> None:
        # One text to many listings within an hour is held as spam: each buyer asks their own.
        text = text or f"Is it available? Asking from {self.network}"
        with time_machine.travel(at, tick=False):
            if self.conversation is None:
                result = roads.start_chat(
                    listing=item, text=text, buyer=self.endpoint, network_key=self.network
                )
                self.conversation = result.conversation
            else:
                roads.buyer_message(buyer=self.endpoint, conversation=self.conversation, text=text)


def seller_replies(seller: User, buyer: Buyer, at: dt.datetime) -> None:
    assert buyer.conversation is not None
    with time_machine.travel(at, tick=False):
        roads.seller_reply(seller=seller, conversation=buyer.conversation, text="Yes, still here")


def dashboard(client: Any, language: str = "en") -> str:
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("marketplace:dashboard"), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def day_bar(page: str, day: dt.date) -> tuple[int, int]:
    """(messages, conversations) that the chart's bar for `day` carries."""
    found = re.search(
        rf'data-day="{day.isoformat()}" data-messages="(\d+)" data-conversations="(\d+)"', page
    )
    assert found, f"no bar for {day}"
    return int(found.group(1)), int(found.group(2))


def card(page: str, title: str) -> str:
    """The dashboard card of the listing called `title`."""
    cards = page.split('data-testid="listing-card"')[1:]
    return next(text for text in cards if f">{title}</a>" in text)


def test_the_chart_carries_each_days_conversations_and_messages(
    seller: User, seller_client: Any
) -> None:
    bike = listing(seller, "Mountain bike")
    three_days_ago = NOW - dt.timedelta(days=3)
    ana, budi, citra, old = Buyer(), Buyer(), Buyer(), Buyer()
    ana.write(bike, three_days_ago)
    ana.write(bike, three_days_ago + dt.timedelta(minutes=2), "And the price?")
    seller_replies(seller, ana, three_days_ago + dt.timedelta(minutes=20))
    budi.write(bike, NOW - dt.timedelta(hours=1))
    citra.write(bike, NOW - dt.timedelta(minutes=30))
    old.write(bike, NOW - dt.timedelta(days=40))  # outside the window

    page = card(dashboard(seller_client), "Mountain bike")

    local_today = timezone.localdate(NOW)
    assert day_bar(page, local_today - dt.timedelta(days=3)) == (3, 1)
    assert day_bar(page, local_today) == (2, 2)
    assert day_bar(page, local_today - dt.timedelta(days=1)) == (0, 0)
    assert page.count('class="chart-day"') == 30
    assert "3 conversations" in page and "5 messages" in page
    # What a pointer or a screen reader is told about the busiest day.
    assert "3 messages, 1 new conversation" in page
    assert "Last 30 days: 5 messages in 3 conversations." in page
    # The busiest day's bar is the full height of the chart; a quiet day has none.
    full_bar = r'class="bar-messages" x="[\d.]+" y="0.0" width="[\d.]+" height="72.0"'
    assert re.search(full_bar, page)

    # In Indonesian the words change and the coordinates do not ("8.5", never "8,5").
    page_id = card(dashboard(seller_client, "id"), "Mountain bike")
    assert re.search(full_bar, page_id)
    assert not re.search(r'(x|y|width|height)="\d+,\d', page_id)
    assert "30 hari terakhir: 5 pesan dalam 3 percakapan." in page_id


def test_the_median_first_reply_time_is_shown_and_none_says_so(
    seller: User, seller_client: Any
) -> None:
    bike, lamp = listing(seller, "Mountain bike"), listing(seller, "Desk lamp")
    started = NOW - dt.timedelta(days=2)
    for minutes in (10, 30, 125):
        buyer = Buyer()
        buyer.write(bike, started)
        seller_replies(seller, buyer, started + dt.timedelta(minutes=minutes))
    Buyer().write(bike, started)  # never answered: not part of the median
    Buyer().write(lamp, started)

    page = dashboard(seller_client)
    assert "median first reply: <strong>30 minutes</strong>" in card(page, "Mountain bike")
    assert "median first reply: <strong>no replies yet</strong>" in card(page, "Desk lamp")

    page_id = dashboard(seller_client, "id")
    assert "<strong>30 menit</strong>" in card(page_id, "Mountain bike")
    assert "<strong>belum ada balasan</strong>" in card(page_id, "Desk lamp")


def test_the_dashboards_statement_count_does_not_grow_with_listings_or_days(
    seller: User, seller_client: Any
) -> None:
    def statements() -> int:
        with CaptureQueriesContext(connection) as captured:
            dashboard(seller_client)
        return len(captured)

    first = listing(seller, "Item 0")
    buyer = Buyer()
    buyer.write(first, NOW - dt.timedelta(days=1))
    seller_replies(seller, buyer, NOW - dt.timedelta(hours=20))
    one_listing = statements()

    for number in range(1, 6):
        item = listing(seller, f"Item {number}")
        for days_ago in (0, 4, 9, 17):
            later = Buyer()
            later.write(item, NOW - dt.timedelta(days=days_ago, hours=2))
            seller_replies(seller, later, NOW - dt.timedelta(days=days_ago, hours=1))
    six_listings = statements()

    assert six_listings == one_listing
    page = dashboard(seller_client)
    assert page.count('data-testid="chart"') == 6


def test_another_sellers_conversations_never_count(
    seller: User, other_seller: User, seller_client: Any
) -> None:
    listing(seller, "Mountain bike")
    Buyer().write(listing(other_seller, "Joko's bike"), NOW - dt.timedelta(days=1))

    page = dashboard(seller_client)
    assert "Joko" not in page
    assert "0 conversations" in page and "No messages in the last 30 days." in page


def test_a_draft_has_no_chart(seller: User, seller_client: Any) -> None:
    marketplace.create_listing(seller=seller, title="Draft", price=Decimal(1), publish=False)
    page = dashboard(seller_client)
    assert ">Draft</a>" in page and 'data-testid="chart"' not in page


@pytest.mark.parametrize(
    ("duration", "english"),
    [
        (None, "no replies yet"),
        (dt.timedelta(seconds=40), "under a minute"),
        (dt.timedelta(minutes=1), "1 minute"),
        (dt.timedelta(minutes=59), "59 minutes"),
        (dt.timedelta(hours=2), "2 hours"),
        (dt.timedelta(hours=1, minutes=5), "1 hour 5 minutes"),
        (dt.timedelta(hours=50), "2 days"),
    ],
)
def test_reply_times_read_as_people_say_them(duration: dt.timedelta | None, english: str) -> None:
    assert format_duration(duration) == english


def test_an_even_number_of_reply_times_has_the_midpoint_as_median() -> None:
    minutes = [dt.timedelta(minutes=value) for value in (10, 30, 50, 400)]
    activity = ListingActivity(days=[], reply_times=minutes)
    assert activity.median_first_reply == dt.timedelta(minutes=40)
    assert activity.median_first_reply_text == "40 minutes"
