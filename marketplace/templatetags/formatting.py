"""Prices and times as a reader expects them, one filter each for every page.

`{{ listing.price|price:listing.currency }}`, `{{ when|relative_time }}`,
`{% current_time_zone_label %}`.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django import template
from django.utils import timezone

from contacts.time_zones import message_time as _message_time
from contacts.time_zones import relative_time as _relative_time
from contacts.time_zones import zone_label
from marketplace.prices import format_price

register = template.Library()


@register.filter(name="price")
def price(amount: Decimal | None, currency: str = "IDR") -> str:
    """`Rp 2.750.000` in Indonesian, `Rp 2,750,000` in English."""
    return format_price(amount, currency or "IDR")


@register.filter(name="relative_time")
def relative_time(moment: dt.datetime | None) -> str:
    """Say "just now", "5 minutes ago", "3 hours ago", then the date in the reader's zone."""
    return _relative_time(moment) if moment else ""


@register.filter(name="message_time")
def message_time(moment: dt.datetime | None) -> str:
    """Show "01:25" today, "28 Nov, 01:25" before, in the reader's zone."""
    return _message_time(moment) if moment else ""


@register.simple_tag
def current_time_zone_label() -> str:
    """The zone this page's times are in, named so nobody guesses: "WIB (Asia/Jakarta, UTC+7)"."""
    return zone_label(timezone.get_current_timezone_name())
