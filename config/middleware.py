"""Pages for a logged-in user are never kept by a browser or a proxy.

Without this, after "Log out" the Back button shows the inbox again from the browser's cache
(pseudonyms, listings, the last messages) to whoever picks up the phone next. `no-store` keeps
those pages out of every cache, including the back-forward cache; anonymous pages (the home
page, a listing, static files) stay cacheable.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import add_never_cache_headers


class NoStoreForLoggedInMiddleware:
    """Mark every response to an authenticated user `Cache-Control: no-store, private`.

    Must sit after AuthenticationMiddleware. It checks the user after the view ran, so the
    response that logs someone in is covered and the one that logs them out is too (the
    session is gone, but the page was addressed to them: see `user_was_logged_in`).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        was_logged_in = _logged_in(request)
        response = self.get_response(request)
        if was_logged_in or _logged_in(request):
            add_never_cache_headers(response)  # no-cache, no-store, must-revalidate, private
        return response


def _logged_in(request: HttpRequest) -> bool:
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)
