"""Downloading a file a person sent: every URL a payload names passes the SSRF guard.

A webhook's attachment URL (Messenger, Instagram, Twilio) or the URL a WhatsApp media lookup
answers is data from outside: it goes through `url_guard.check_url` and is connected to at the
checked address only (relay/adapters/http.py); a redirect is checked again before it is
followed (credentials stay with the first scheme, host and port), and it is read up to a byte
bound within one total time for every hop together (a slow redirect chain gets no more time
than one URL). What the answer says it is (Content-Type) is ignored: the bytes are decoded
later (marketplace/images.py) and that decides.
"""

from __future__ import annotations

import time
from urllib.parse import urljoin, urlsplit

from relay.adapters import http
from relay.adapters.base import MediaUnavailable, TransientSendError
from relay.adapters.url_guard import check_url

REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Twilio's MediaUrl answers a redirect to its CDN; one or two hops are normal, more are not.
MAX_REDIRECTS = 3


def fetch(
    url: str,
    *,
    max_bytes: int,
    total_seconds: float,
    connect_timeout: float,
    bearer: str = "",
    auth: tuple[str, str] | None = None,
) -> bytes:
    """The body at `url`, or MediaUnavailable (4xx, 3xx), TransientSendError (5xx, network),
    http.DownloadTooLarge / DownloadTooSlow, url_guard.RefusedUrl."""
    origin = _origin(url)
    deadline = time.monotonic() + total_seconds  # for all hops together, not each
    for _hop in range(MAX_REDIRECTS + 1):
        left = deadline - time.monotonic()
        if left <= 0:
            raise http.DownloadTooSlow("no answer in time")
        # Credentials go to the host they were meant for only, never on across a redirect to
        # another host, and never over plain http after https (same host, cleartext).
        same_host = _origin(url) == origin
        headers = {"Authorization": f"Bearer {bearer}"} if bearer and same_host else {}
        response = http.get(
            check_url(url),  # every hop: a redirect into a private network is refused too
            headers=headers,
            auth=auth if same_host else None,
            timeout=(min(connect_timeout, left), left),
            max_bytes=max_bytes,
            total_seconds=left,
        )
        location = response.headers.get("Location", "")
        if response.status_code not in REDIRECTS or not location:
            break
        url = urljoin(url, location)
    else:
        raise MediaUnavailable("too many redirects")
    if response.status_code >= 500:
        raise TransientSendError("the platform had a temporary problem")
    if not 200 <= response.status_code < 300:
        # 403/404/410 once an attachment URL expired.
        raise MediaUnavailable(f"the platform answered {response.status_code}")
    return response.content


def _origin(url: str) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default one spelled out): what credentials are bound to."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    default = {"https": 443, "http": 80}.get(scheme)
    return scheme, (parts.hostname or "").lower(), port or default
