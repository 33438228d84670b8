"""The shared HTTP client: pooling, explicit timeouts, network failures as transient errors."""

from __future__ import annotations

import socket

import pytest
import requests

from relay.adapters import http
from relay.adapters.base import TransientSendError
from tests.adapters.conftest import FakePlatform


def test_the_shared_session_pools_enough_connections_for_many_worker_threads() -> None:
    for prefix in ("http://", "https://"):
        adapter = http.session.get_adapter(prefix + "graph.example")
        assert isinstance(adapter, requests.adapters.HTTPAdapter)
        assert adapter._pool_connections == 20  # type: ignore[attr-defined]
        assert adapter._pool_maxsize == 100  # type: ignore[attr-defined]


def test_a_single_timeout_becomes_an_explicit_connect_and_read_pair() -> None:
    assert http.timeouts(10.0) == (5.0, 10.0)
    assert http.timeouts(0.3) == (0.3, 0.3)
    assert http.timeouts((1.0, 2.0)) == (1.0, 2.0)


def test_a_closed_port_is_a_transient_could_not_reach_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # The port is free again and nothing listens on it.
    with pytest.raises(TransientSendError, match="could not reach the platform"):
        http.post(f"http://127.0.0.1:{port}/", json={}, timeout=1.0)


def test_a_slow_answer_is_a_transient_timeout(platform: FakePlatform) -> None:
    platform.answer(200, {}, delay=1.0)
    with pytest.raises(TransientSendError, match="did not answer in time") as raised:
        http.post(platform.url + "/slow", json={}, timeout=0.2)
    assert raised.value.retry_after is None


def test_cookies_set_by_a_platform_are_not_kept(platform: FakePlatform) -> None:
    platform.answer(200, {}, headers={"Set-Cookie": "session=abc; Path=/"})
    http.post(platform.url + "/cookie", json={}, timeout=1.0)
    assert len(http.session.cookies) == 0


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("3", 3.0),
        ("0.5", 0.5),
        ("-4", 0.0),
        ("soon", None),
        ("", None),
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.0),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    platform: FakePlatform, header: str, expected: float | None
) -> None:
    platform.answer(429, {}, headers={"Retry-After": header} if header else {})
    response = http.post(platform.url + "/busy", json={}, timeout=1.0)
    assert http.retry_after(response) == expected
