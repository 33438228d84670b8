"""How a listing is doing, as the seller's dashboard draws it: counts per day and reply time.

The numbers are computed in relay (relay/services/activity.py), which owns conversations and
messages; this module only holds their shape and turns them into a small SVG chart, so the
picture is drawn on the server (no CDN, no third-party JavaScript) and reads the same to a
screen reader as to the eye.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

WINDOW_DAYS = 30

# The SVG's own coordinate system; CSS scales it to the card's width.
CHART_WIDTH = 300
CHART_HEIGHT = 72
SLOT = CHART_WIDTH / WINDOW_DAYS
BAR = SLOT - 2


@dataclass(frozen=True)
class DayCount:
    day: date
    conversations: int = 0
    messages: int = 0


@dataclass
class ListingActivity:
    """One listing's last `WINDOW_DAYS` days, oldest day first, every day present."""

    days: list[DayCount]
    # Per conversation started in the window: first buyer message → the seller's first reply.
    reply_times: list[timedelta] = field(default_factory=list)

    @property
    def conversations(self) -> int:
        return sum(day.conversations for day in self.days)

    @property
    def messages(self) -> int:
        return sum(day.messages for day in self.days)

    @property
    def median_first_reply(self) -> timedelta | None:
        """None while no conversation of the window has had an answer yet."""
        if not self.reply_times:
            return None
        return timedelta(seconds=statistics.median(t.total_seconds() for t in self.reply_times))

    @property
    def median_first_reply_text(self) -> str:
        return format_duration(self.median_first_reply)


def window(today: date, days: int = WINDOW_DAYS) -> list[date]:
    """The days a chart shows, ending with `today` (the seller's local date)."""
    return [today - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def format_duration(duration: timedelta | None) -> str:
    """A reply time as a seller says it: "4 minutes", "2 hours 5 minutes", "3 days"."""
    if duration is None:
        return _("no replies yet")
    minutes = int(duration.total_seconds() // 60)
    if minutes < 1:
        return _("under a minute")
    if minutes < 60:
        return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        hours_text = ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
        if not minutes:
            return hours_text
        minutes_text = ngettext("%(count)d minute", "%(count)d minutes", minutes) % {
            "count": minutes
        }
        # "2 hours 5 minutes" / "2 jam 5 menit": both languages put the parts in this order.
        return f"{hours_text} {minutes_text}"
    days = hours // 24
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}


def day_label(day: DayCount) -> str:
    """One bar's words: what a tooltip and the table of numbers say about a day."""
    return _("%(day)s: %(messages)s, %(conversations)s") % {
        "day": date_format(day.day, "j M"),
        "messages": ngettext("%(count)d message", "%(count)d messages", day.messages)
        % {"count": day.messages},
        "conversations": ngettext(
            "%(count)d new conversation", "%(count)d new conversations", day.conversations
        )
        % {"count": day.conversations},
    }


def summary(activity: ListingActivity) -> str:
    """The chart in one sentence, for its <desc> and for anyone who cannot see it."""
    if not activity.messages and not activity.conversations:
        return _("No messages in the last 30 days.")
    busiest = max(activity.days, key=lambda day: (day.messages, day.day))
    return _("Last 30 days: %(messages)s in %(conversations)s. Busiest day: %(busiest)s.") % {
        "messages": ngettext("%(count)d message", "%(count)d messages", activity.messages)
        % {"count": activity.messages},
        "conversations": ngettext(
            "%(count)d conversation", "%(count)d conversations", activity.conversations
        )
        % {"count": activity.conversations},
        "busiest": day_label(busiest),
    }


@dataclass(frozen=True)
class Bar:
    """One day of the chart in SVG units: messages as the full bar, new conversations inside."""

    day: DayCount
    x: float
    message_y: float
    message_height: float
    conversation_y: float
    conversation_height: float
    label: str


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    peak: int  # the value at the top of the scale
    first_day: str
    last_day: str
    summary: str
    width: int = CHART_WIDTH
    height: int = CHART_HEIGHT
    bar_width: float = BAR


def chart(activity: ListingActivity) -> Chart:
    """Lay the days out as bars on one scale, so a day's two counts compare at a glance."""
    peak = max([1, *(max(day.messages, day.conversations) for day in activity.days)])
    bars = []
    for index, day in enumerate(activity.days):
        message_height = round(CHART_HEIGHT * day.messages / peak, 2)
        conversation_height = round(CHART_HEIGHT * day.conversations / peak, 2)
        bars.append(
            Bar(
                day=day,
                x=round(index * SLOT + 1, 2),
                message_y=round(CHART_HEIGHT - message_height, 2),
                message_height=message_height,
                conversation_y=round(CHART_HEIGHT - conversation_height, 2),
                conversation_height=conversation_height,
                label=day_label(day),
            )
        )
    return Chart(
        bars=bars,
        peak=peak,
        first_day=date_format(activity.days[0].day, "j M"),
        last_day=date_format(activity.days[-1].day, "j M"),
        summary=summary(activity),
    )
