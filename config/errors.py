"""Error pages that tell a caller what to do next.

A failed CSRF check is almost never an attack: it is a form left open across a log-in or a
log-out in another tab (Django rotates the token at every log-in). `csrf_failure` says so in
the user's language and offers the way back instead of Django's "DEBUG=True" page.

While PostgreSQL is unreachable every request fails the same way; answering 503 with
Retry-After (instead of 500) tells the platforms to retry their webhooks (Meta and Twilio both
retry on a non-2xx) and load balancers that this is temporary. Nothing was committed, so a
retry loses nothing and duplicates nothing (the message id dedupes it).
"""

from __future__ import annotations

import logging
import sys
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import redirect, render, resolve_url
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.defaults import server_error as django_server_error

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


def database_unavailable(error: BaseException | None) -> bool:
    """A lost or refused database connection, as opposed to a bug in a query."""
    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DatabaseError) and "connection" in str(error).lower()
    )


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: the page without the request's context. A 400 is often a request the
    middleware refused half-way (a foreign Host header) and the context processors would trip
    over what is missing (`request.user`), turning the 400 into a 500."""
    return HttpResponseBadRequest(render_to_string("400.html"))


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: 503 + Retry-After when the database is away, else Django's 500 page.
    Django calls it inside its `except`, so the exception is at hand."""
    error = sys.exc_info()[1]
    if database_unavailable(error):
        close_old_connections()  # the next request opens a fresh connection
        logger.warning("database unavailable: answered 503 with Retry-After")
        response = HttpResponse(
            "The relay's database is briefly unavailable; please retry in a few seconds.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    return django_server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: never a dead end.

    On the log-in form the usual cause is a second tab: someone already logged in sends them
    to their landing page, anyone else gets a fresh log-in form (with a new token) and a line
    saying why. Any other form answers 403 with a page that links back to where it came from.
    The reason Django gives is for developers: Django's `django.security.csrf` logger has it.
    """
    # Without the cookie at all the browser refuses cookies: a redirect would only loop back to
    # the same form, so that case gets the page, which says to allow cookies.
    stale_login_form = reason != REASON_NO_CSRF_COOKIE and request.method == "POST"
    if stale_login_form and request.path == resolve_url(settings.LOGIN_URL):
        return _after_stale_login_form(request)
    return render(request, "403_csrf.html", {"back_url": _back_url(request)}, status=403)


def _after_stale_login_form(request: HttpRequest) -> HttpResponse:
    """Already logged in (in the other tab): go on. Else a fresh form, still heading to `next`."""
    next_url = _safe_next(request)
    if request.user.is_authenticated:
        messages.info(request, _("You are already logged in."))
        return redirect(next_url or resolve_url(settings.LOGIN_REDIRECT_URL))
    messages.warning(
        request,
        _("That log-in form had expired (it was open in another tab). Please log in again."),
    )
    login_url = resolve_url(settings.LOGIN_URL)
    return redirect(f"{login_url}?{urlencode({'next': next_url})}" if next_url else login_url)


def _safe_next(request: HttpRequest) -> str:
    """The log-in form's `next`, if it points at this site (the same check LoginView makes)."""
    next_url = request.POST.get("next", "")
    allowed = url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return next_url if next_url and allowed else ""


def _back_url(request: HttpRequest) -> str:
    """The page the failed form was on, when the Referer names this site; else the home page."""
    referer = request.headers.get("referer", "")
    allowed = url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return referer if referer and allowed else "/"
