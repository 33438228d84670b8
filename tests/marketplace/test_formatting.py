"""Prices and relative times as people write them, in English and Indonesian."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from contacts.models import User
from contacts.time_zones import relative_time
from marketplace import services as marketplace
from marketplace.models import Listing
from marketplace.prices import format_price
from relay.models import Conversation

NOW = dt.datetime(2026, 12, 1, 18, 25, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("amount", "currency", "indonesian", "english"),
    [
        (Decimal("2750000"), "IDR", "Rp 2.750.000", "Rp 2,750,000"),
        (Decimal("2750000.00"), "IDR", "Rp 2.750.000", "Rp 2,750,000"),
        (Decimal("0"), "IDR", "Rp 0", "Rp 0"),
        (Decimal("900000"), "IDR", "Rp 900.000", "Rp 900,000"),
        (Decimal("1250000000"), "IDR", "Rp 1.250.000.000", "Rp 1,250,000,000"),
        (Decimal("999.5"), "IDR", "Rp 999,50", "Rp 999.50"),
        (Decimal("1234.56"), "USD", "US$ 1.234,56", "US$ 1,234.56"),
        (Decimal("45"), "MYR", "RM 45", "RM 45"),
    ],
)
def test_a_price_reads_as_people_write_it_in_each_language(
    amount: Decimal, currency: str, indonesian: str, english: str
) -> None:
    with translation.override("id"):
        assert format_price(amount, currency) == indonesian
    with translation.override("en"):
        assert format_price(amount, currency) == english


@pytest.mark.parametrize(
    ("ago", "indonesian", "english"),
    [
        (dt.timedelta(seconds=0), "baru saja", "just now"),
        (dt.timedelta(seconds=59), "baru saja", "just now"),
        (dt.timedelta(seconds=-20), "baru saja", "just now"),  # a clock slightly ahead
        (dt.timedelta(minutes=1, seconds=5), "1 menit lalu", "a minute ago"),
        (dt.timedelta(minutes=5), "5 menit lalu", "5 minutes ago"),
        (dt.timedelta(minutes=59, seconds=59), "59 menit lalu", "59 minutes ago"),
        (dt.timedelta(hours=1), "1 jam lalu", "an hour ago"),
        (dt.timedelta(hours=23), "23 jam lalu", "23 hours ago"),
    ],
)
def test_a_recent_time_reads_as_how_long_ago(
    ago: dt.timedelta, indonesian: str, english: str
) -> None:
    with translation.override("id"):
        assert relative_time(NOW - ago, now=NOW) == indonesian
    with translation.override("en"):
        assert relative_time(NOW - ago, now=NOW) == english


def test_past_a_day_the_date_is_shown_in_the_readers_zone() -> None:
    # 3 August 18:25 UTC is already 4 August in Jakarta.
    moment = dt.datetime(2026, 8, 3, 18, 25, tzinfo=dt.UTC)
    timezone.activate(zoneinfo.ZoneInfo("Asia/Jakarta"))
    with translation.override("id"):
        assert relative_time(moment, now=NOW) == "4 Agu 2026, 01:25"
    with translation.override("en"):
        assert relative_time(moment, now=NOW) == "4 Aug 2026, 01:25"


@pytest.fixture
def bike(seller: User) -> Listing:
    return marketplace.create_listing(
        seller=seller, title="Mountain bike", price=Decimal("2750000"), city="Bandung"
    )


def test_the_edit_form_shows_the_price_as_it_was_typed(seller_client: Any, bike: Listing) -> None:
    html = seller_client.get(reverse("marketplace:listing_edit", args=[bike.code])).content.decode()
    assert 'name="price" value="2750000"' in html
    assert "2750000.00" not in html


def test_the_edit_form_keeps_cents_when_there_are_some(seller_client: Any, seller: User) -> None:
    listing = marketplace.create_listing(
        seller=seller, title="Cable", price=Decimal("12.5"), currency="USD"
    )
    html = seller_client.get(
        reverse("marketplace:listing_edit", args=[listing.code])
    ).content.decode()
    assert 'name="price" value="12.50"' in html


@pytest.mark.parametrize(("language", "shown"), [("id", "Rp 2.750.000"), ("en", "Rp 2,750,000")])
def test_the_dashboard_and_public_page_show_the_price_in_the_readers_language(
    seller_client: Any, bike: Listing, language: str, shown: str
) -> None:
    headers = {"accept-language": language}
    dashboard = seller_client.get(reverse("marketplace:dashboard"), headers=headers)
    public = Client().get(reverse("marketplace:listing_public", args=[bike.code]), headers=headers)
    for page in (dashboard, public):
        html = page.content.decode()
        assert shown in html
        assert "IDR" not in html


@pytest.mark.parametrize(("language", "shown"), [("id", "Rp 2.750.000"), ("en", "Rp 2,750,000")])
def test_the_inbox_header_and_the_buyers_chat_name_the_price(
    seller_client: Any, bike: Listing, language: str, shown: str
) -> None:
    buyer = Client()
    start = buyer.post(reverse("relay:buyer_chat_start", args=[bike.code]), {"text": "Masih ada?"})
    conversation = Conversation.objects.get(listing=bike)
    headers = {"accept-language": language}
    inbox = seller_client.get(
        reverse("relay:conversation", args=[conversation.code]), headers=headers
    ).content.decode()
    chat = buyer.get(start["Location"], headers=headers).content.decode()
    assert f'<span class="amount">{shown}</span>' in inbox
    assert f'<span class="amount">{shown}</span>' in chat


@pytest.mark.parametrize(
    ("language", "fresh", "older"),
    [("id", "baru saja", "5 menit lalu"), ("en", "just now", "5 minutes ago")],
)
def test_the_thread_list_says_just_now_then_minutes_ago(
    seller_client: Any, bike: Listing, language: str, fresh: str, older: str
) -> None:
    with time_machine.travel(NOW, tick=False):
        Client().post(reverse("relay:buyer_chat_start", args=[bike.code]), {"text": "Halo"})
    url = reverse("relay:conversation", args=[Conversation.objects.get().code])
    headers = {"accept-language": language}

    def thread_time() -> str:
        html = seller_client.get(url, headers=headers).content.decode()
        threads = r"<ul class=\"thread-list\"[^>]*>.*?<time [^>]*>([^<]+)</time>"
        found = re.search(threads, html, re.S)
        assert found, "the thread list shows no time"
        return found.group(1)

    with time_machine.travel(NOW + dt.timedelta(seconds=10), tick=False):
        assert thread_time() == fresh
    with time_machine.travel(NOW + dt.timedelta(minutes=5, seconds=3), tick=False):
        assert thread_time() == older
