"""The one HTTP client every adapter sends through.

One module-level urllib3 pool manager keeps connections to the platforms alive across sends;
it is sized for a Celery worker sending from many threads at once. urllib3 directly rather than
requests: requests' per-call session machinery (merging settings, hooks, cookie jars) was half
of a send's CPU, and a send is a fifth of a worker's CPU per message (bench/README.md). Every
call has an explicit (connect, read) timeout, and network failures come back as
`TransientSendError` so the delivery task can retry them. No cookies are ever kept, so no
state leaks from one send (or one account) into the next. Nothing here logs: URLs, bodies and
answers carry addresses and text.

URLs given by users (integrator webhooks, later media) are passed in as a `CheckedUrl` from
`relay.adapters.url_guard`: the connection then goes to the address the guard checked, with the
URL's host in the Host header, the TLS SNI and the certificate check, through a pool of its own
so that many integrators cannot push the platforms' kept-alive connections out.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import json as jsonlib
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import urllib3

from relay.adapters.base import TransientSendError
from relay.adapters.url_guard import CheckedUrl

# Connecting should be quick even when the platform is slow to answer; never wait longer than
# this for the TCP/TLS handshake, whatever the read timeout is.
MAX_CONNECT_TIMEOUT = 3.0
USER_AGENT = "Perantara-relay/1.0"
POOLS = 20  # hosts kept (each platform's API is one or two)
CONNECTIONS_PER_HOST = 100  # a worker's threads sending at once

pool = urllib3.PoolManager(
    num_pools=POOLS, maxsize=CONNECTIONS_PER_HOST, block=False, retries=False
)
# For checked user-given URLs: keyed by (scheme, checked address, port, host name), so a kept
# connection is only reused for the same host at the same checked address.
checked_pool = urllib3.PoolManager(
    num_pools=POOLS, maxsize=CONNECTIONS_PER_HOST, block=False, retries=False
)


@dataclass(frozen=True)
class Response:
    """What a platform answered: the parts adapters read."""

    status_code: int
    headers: Mapping[str, str]  # case-insensitive (urllib3's HTTPHeaderDict)
    content: bytes

    @property
    def ok(self) -> bool:
        return self.status_code < 400

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", "replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)


def timeouts(timeout: float | tuple[float, float]) -> tuple[float, float]:
    """Return an explicit (connect, read) pair for `timeout` seconds."""
    if isinstance(timeout, tuple):
        return timeout
    return (min(MAX_CONNECT_TIMEOUT, timeout), timeout)


def post(
    url: str | CheckedUrl,
    *,
    json: Any = None,
    data: Mapping[str, str] | Sequence[tuple[str, str]] | None = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    timeout: float | tuple[float, float],
) -> Response:
    """POST a JSON (`json`), form (`data`) or ready-made (`content`, with its Content-Type in
    `headers`) body; raise `TransientSendError` if the platform is unreachable.

    Any HTTP status comes back as a response (a 3xx is never followed): deciding what a 4xx or
    5xx means is the adapter's. A `CheckedUrl` is connected to at its checked address only.
    """
    sent = {"User-Agent": USER_AGENT, **(headers or {})}
    if json is not None:
        body = jsonlib.dumps(json, allow_nan=False).encode()
        sent.setdefault("Content-Type", "application/json")
    elif data is not None:
        body = urlencode(data).encode()
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
    else:
        body = content or b""
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        sent["Authorization"] = f"Basic {token}"
    connect, read = timeouts(timeout)
    try:
        answer = _send(url, body, sent, urllib3.Timeout(connect=connect, read=read))
    except urllib3.exceptions.NewConnectionError as error:
        # Checked before timeouts: urllib3 makes a refused connection a ConnectTimeoutError too.
        raise TransientSendError("could not reach the platform") from error
    except urllib3.exceptions.ConnectTimeoutError as error:
        raise TransientSendError("could not reach the platform") from error
    except urllib3.exceptions.TimeoutError as error:
        # The request went out and no answer came: the platform may have taken it.
        raise TransientSendError(
            "the platform did not answer in time", may_have_sent=True
        ) from error
    except urllib3.exceptions.HTTPError as error:
        # A reset connection, a broken answer and the like: the send may or may not have
        # happened; retrying is the safe side for an at-least-once relay.
        raise TransientSendError("could not reach the platform", may_have_sent=True) from error
    return Response(answer.status, answer.headers, answer.data)


def delete(
    url: str, *, headers: Mapping[str, str] | None = None, timeout: float | tuple[float, float]
) -> Response:
    """DELETE a resource the relay made on a platform (an uploaded photo); raise
    `TransientSendError` if the platform is unreachable or does not answer in time."""
    sent = {"User-Agent": USER_AGENT, **(headers or {})}
    connect, read = timeouts(timeout)
    try:
        answer = _send(
            url, None, sent, urllib3.Timeout(connect=connect, read=read), method="DELETE"
        )
    except urllib3.exceptions.HTTPError as error:  # timeouts and refused connections included
        raise TransientSendError("could not reach the platform") from error
    return Response(answer.status, answer.headers, answer.data)


class DownloadTooLarge(Exception):
    """The answer was longer than the caller's `max_bytes`: reading stopped there."""


class DownloadTooSlow(Exception):
    """The answer did not arrive in full within the caller's total time."""


DOWNLOAD_CHUNK = 64 * 1024


def get(
    url: str | CheckedUrl,
    *,
    headers: Mapping[str, str] | None = None,
    auth: tuple[str, str] | None = None,
    timeout: float | tuple[float, float],
    max_bytes: int,
    total_seconds: float,
) -> Response:
    """GET a download (a photo a platform holds for the relay), reading at most `max_bytes`
    within `total_seconds` in all; raise DownloadTooLarge, DownloadTooSlow, or
    TransientSendError when the host is unreachable. A 3xx is never followed (a redirect could
    lead past the URL guard). What the answer says it is (Content-Type) is not trusted here:
    the caller decodes the bytes."""
    sent = {"User-Agent": USER_AGENT, **(headers or {})}
    if auth is not None:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        sent["Authorization"] = f"Basic {token}"
    connect, read = timeouts(timeout)
    deadline = time.monotonic() + total_seconds
    try:
        answer = _send(
            url,
            None,
            sent,
            urllib3.Timeout(connect=connect, read=min(read, total_seconds)),
            method="GET",
        )
    except urllib3.exceptions.NewConnectionError as error:
        raise TransientSendError("could not reach the host") from error
    except urllib3.exceptions.TimeoutError as error:
        raise DownloadTooSlow("no answer in time") from error
    except urllib3.exceptions.HTTPError as error:
        raise TransientSendError("could not reach the host") from error
    try:
        return Response(answer.status, answer.headers, _read_bounded(answer, max_bytes, deadline))
    finally:
        answer.release_conn()


def _read_bounded(answer: urllib3.BaseHTTPResponse, max_bytes: int, deadline: float) -> bytes:
    declared = answer.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise DownloadTooLarge("declared too long")  # not read at all
    chunks: list[bytes] = []
    size = 0
    try:
        while True:
            if time.monotonic() > deadline:
                raise DownloadTooSlow("the answer took too long")
            chunk = answer.read(DOWNLOAD_CHUNK)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > max_bytes:
                raise DownloadTooLarge("longer than allowed")
            chunks.append(chunk)
    except urllib3.exceptions.TimeoutError as error:
        raise DownloadTooSlow("the answer stalled") from error
    except urllib3.exceptions.HTTPError as error:
        raise TransientSendError("the download broke off") from error


def _send(
    url: str | CheckedUrl,
    body: bytes | None,
    headers: dict[str, str],
    timeout: urllib3.Timeout,
    *,
    method: str = "POST",
) -> urllib3.BaseHTTPResponse:
    preload = method != "GET"  # a download is streamed, so its size can be bounded
    if isinstance(url, str):
        return pool.urlopen(
            method,
            url,
            body=body,
            headers=headers,
            timeout=timeout,
            retries=False,
            redirect=False,
            preload_content=preload,
        )
    # Connect to the checked IP: urllib3 never resolves the host name, so DNS cannot answer
    # differently now than it did to the guard. The host name still names the site: Host
    # header, SNI, and the certificate must be valid for it.
    tls = {"server_hostname": url.host, "assert_hostname": url.host}
    host_pool = checked_pool.connection_from_host(
        url.address, url.port, url.scheme, pool_kwargs=tls if url.scheme == "https" else None
    )
    return host_pool.urlopen(
        method,
        url.target,
        body=body,
        headers={**headers, "Host": url.host_header},
        timeout=timeout,
        retries=False,
        redirect=False,
        assert_same_host=False,
        preload_content=preload,
    )


def retry_after(response: Response) -> float | None:
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


def json_object(response: Response) -> dict[str, Any]:
    """Return the response body as a JSON object, or {} when it is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def multipart(
    fields: Mapping[str, str], file_field: str, file_name: str, content_type: str, data: bytes
) -> tuple[bytes, str]:
    """A multipart/form-data body with text `fields` and one file; (body, its Content-Type)."""
    boundary = f"perantara-{secrets.token_hex(12)}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    parts.append(
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; '
            f'filename="{file_name}"\r\nContent-Type: {content_type}\r\n\r\n'
        ).encode()
        + data
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"
