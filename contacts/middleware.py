"""Per-request settings that follow the person reading the page."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from contacts.time_zones import zone_name_for


class TimeZoneMiddleware:
    """Show every time on the page in the reader's zone.

    A logged-in user's own choice (User.time_zone), else RELAY_DEFAULT_USER_TIME_ZONE — buyers on
    the web chat and logged-out visitors too. Must come after AuthenticationMiddleware. The zone
    is deactivated after the response so a thread never carries one user's zone into the next
    request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        owner = user if user is not None and user.is_authenticated else None
        timezone.activate(zoneinfo.ZoneInfo(zone_name_for(owner)))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
