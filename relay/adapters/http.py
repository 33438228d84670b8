"""The one HTTP client every adapter sends through.

One module-level session keeps connections to the platforms alive across sends; the pool is
sized for a Celery worker sending from many threads at once. Every call has an explicit
(connect, read) timeout, and network failures come back as `TransientSendError` so the delivery
task can retry them. Nothing here logs: URLs, bodies and answers carry addresses and text.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.cookiejar
from collections.abc import Mapping
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from relay.adapters.base import TransientSendError

# Connecting should be quick even when the platform is slow to answer; never wait longer than
# this for the TCP/TLS handshake, whatever the read timeout is.
MAX_CONNECT_TIMEOUT = 5.0
USER_AGENT = "Perantara-relay/1.0"


def _build_session() -> requests.Session:
    session = requests.Session()
    adapter = HTTPAdapter(pool_connections=20, pool_maxsize=100)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    # The session is shared by every thread and every platform: never keep cookies a platform
    # sets, so no state leaks from one send (or one account) into the next.
    session.cookies.set_policy(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))
    session.headers["User-Agent"] = USER_AGENT
    return session


session = _build_session()


def timeouts(timeout: float | tuple[float, float]) -> tuple[float, float]:
    """Return an explicit (connect, read) pair for `timeout` seconds."""
    if isinstance(timeout, tuple):
        return timeout
    return (min(MAX_CONNECT_TIMEOUT, timeout), timeout)


def post(
    url: str,
    *,
    json: Any = None,
    data: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    timeout: float | tuple[float, float],
) -> requests.Response:
    """POST through the shared session; raise `TransientSendError` if the platform is unreachable.

    Any HTTP status comes back as a response: deciding what a 4xx or 5xx means is the adapter's.
    """
    try:
        return session.post(
            url,
            json=json,
            data=data,
            headers=dict(headers) if headers else None,
            auth=auth,
            timeout=timeouts(timeout),
            allow_redirects=False,
        )
    except requests.Timeout as error:
        # Checked before ConnectionError: ConnectTimeout is both.
        raise TransientSendError("the platform did not answer in time") from error
    except requests.ConnectionError as error:
        raise TransientSendError("could not reach the platform") from error
    except requests.RequestException as error:
        # A broken chunked answer and the like: the send may or may not have happened; retrying
        # is the safe side for an at-least-once relay.
        raise TransientSendError("could not reach the platform") from error


def retry_after(response: requests.Response) -> float | None:
    """Return the `Retry-After` delay in seconds (given as a number or an HTTP date), if any."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        seconds = (moment - dt.datetime.now(dt.UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return max(0.0, seconds)


def json_object(response: requests.Response) -> dict[str, Any]:
    """Return the response body as a JSON object, or {} when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
