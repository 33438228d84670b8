"""Error pages that tell a caller what to do next.

While PostgreSQL is unreachable every request fails the same way; answering 503 with
Retry-After (instead of 500) tells the platforms to retry their webhooks (Meta and Twilio both
retry on a non-2xx) and load balancers that this is temporary. Nothing was committed, so a
retry loses nothing and duplicates nothing (the message id dedupes it).
"""

from __future__ import annotations

import logging
import sys

from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections
from django.http import HttpRequest, HttpResponse
from django.views.defaults import server_error as django_server_error

logger = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 5


def database_unavailable(error: BaseException | None) -> bool:
    """A lost or refused database connection, as opposed to a bug in a query."""
    return isinstance(error, OperationalError | InterfaceError) or (
        isinstance(error, DatabaseError) and "connection" in str(error).lower()
    )


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
