"""Which time zone a person reads times in, and how a zone is named to them.

Rows are stored in UTC; a page converts to the reader's zone (activated per request by
`contacts.middleware.TimeZoneMiddleware`). Indonesia spans three zones, so a seller in Bali
(WITA) or Papua (WIT) must be able to leave the Jakarta default.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from contacts.models import User


@dataclass(frozen=True)
class ZoneChoice:
    name: str  # the IANA name stored in User.time_zone
    short: str  # what people in that zone call it ("WIB")
    label: Promise | str  # the option text in the select


# Indonesia's three zones first (what most sellers need), then the neighbours buyers and
# sellers trade with, then UTC for operators.
ZONES: tuple[ZoneChoice, ...] = (
    ZoneChoice("Asia/Jakarta", "WIB", _("WIB — Western Indonesia (Jakarta, Java, Sumatra)")),
    ZoneChoice("Asia/Makassar", "WITA", _("WITA — Central Indonesia (Bali, Sulawesi, NTB, NTT)")),
    ZoneChoice("Asia/Jayapura", "WIT", _("WIT — Eastern Indonesia (Maluku, Papua)")),
    ZoneChoice("Asia/Singapore", "SGT", _("Singapore")),
    ZoneChoice("Asia/Kuala_Lumpur", "MYT", _("Malaysia (Kuala Lumpur)")),
    ZoneChoice("Asia/Manila", "PHT", _("Philippines (Manila)")),
    ZoneChoice("Asia/Bangkok", "ICT", _("Thailand and Vietnam (Bangkok, Hanoi)")),
    ZoneChoice("Australia/Perth", "AWST", _("Western Australia (Perth)")),
    ZoneChoice("UTC", "UTC", _("UTC (coordinated universal time)")),
)
_BY_NAME = {zone.name: zone for zone in ZONES}


def is_known_zone(name: str) -> bool:
    """Whether `name` is a zone the tz database knows (what a stored choice must be)."""
    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return False
    return bool(name)


def zone_name_for(user: User | None) -> str:
    """The zone `user` reads times in: their choice, else the operator's default."""
    chosen = getattr(user, "time_zone", "") if user is not None else ""
    if chosen and is_known_zone(chosen):
        return chosen
    return str(settings.RELAY_DEFAULT_USER_TIME_ZONE)


def zone_choices(current: str = "") -> list[tuple[str, str]]:
    """Options for the select; a zone set elsewhere (the default, an admin) is kept as an option."""
    choices = [(zone.name, str(zone.label)) for zone in ZONES]
    for extra in (str(settings.RELAY_DEFAULT_USER_TIME_ZONE), current):
        if extra and extra not in _BY_NAME and all(extra != name for name, _ in choices):
            choices.append((extra, extra.replace("_", " ")))
    return choices


def zone_label(name: str, *, at: dt.datetime | None = None) -> str:
    """How a page names a zone: "WIB (Asia/Jakarta, UTC+7)", so nobody has to guess."""
    moment = (at or timezone.now()).astimezone(zoneinfo.ZoneInfo(name))
    offset = moment.utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    utc = f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "") if minutes else "UTC"
    zone = _BY_NAME.get(name)
    if name == "UTC":
        return "UTC"
    if zone is None:
        return f"{name} ({utc})"
    return f"{zone.short} ({name}, {utc})"


def relative_time(moment: dt.datetime, *, now: dt.datetime | None = None) -> str:
    """Say "just now" under a minute, "5 minutes ago", "3 hours ago"; past a day the date and time
    in the active zone ("28 Nov 2026, 14:05"), because "4 days ago" makes people count."""
    now = now or timezone.now()
    seconds = (now - moment).total_seconds()
    if seconds < 60:  # a clock a little ahead reads as "just now" too, never "in 2 minutes"
        return gettext("just now")
    # Separate msgids rather than ngettext: English has only "one" and "other", Indonesian one
    # form, and the catalogue test reads no plural entries (tests/test_i18n.py).
    if seconds < 3600:
        minutes = int(seconds // 60)
        if minutes == 1:
            return gettext("a minute ago")
        return gettext("%(count)d minutes ago") % {"count": minutes}
    if seconds < 86400:
        hours = int(seconds // 3600)
        if hours == 1:
            return gettext("an hour ago")
        return gettext("%(count)d hours ago") % {"count": hours}
    return date_format(timezone.localtime(moment), "j M Y, H:i")


def message_time(moment: dt.datetime, *, now: dt.datetime | None = None) -> str:
    """A message's time in the active zone: "01:25" today, "28 Nov, 01:25" on another day (and
    the year when it is not this year), so an old thread never looks like it happened today."""
    local = timezone.localtime(moment)
    today = timezone.localtime(now or timezone.now()).date()
    if local.date() == today:
        return date_format(local, "H:i")
    if local.year == today.year:
        return date_format(local, "j M, H:i")
    return date_format(local, "j M Y, H:i")
