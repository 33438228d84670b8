"""The shared HTTP client: pooling, explicit timeouts, network failures as transient errors."""

from __future__ import annotations

import socket

import pytest

from relay.adapters import http
from relay.adapters.base import TransientSendError
from tests.adapters.conftest import FakePlatform


def test_the_shared_pool_keeps_enough_connections_for_many_worker_threads(
    platform: FakePlatform,
) -> None:
    for prefix in ("http://", "https://"):
        host_pool = http.pool.connection_from_url(prefix + "graph.example")
        assert host_pool.pool is not None and host_pool.pool.maxsize == 100
        assert host_pool.block is False  # a 101st thread opens an extra connection, never waits
    assert http.pool.pools._maxsize == 20  # hosts kept
    # Sends to one host reuse a kept-alive connection.
    for _ in range(3):
        http.post(platform.url + "/again", json={}, timeout=1.0)
    assert http.pool.connection_from_url(platform.url).num_connections == 1


def test_json_form_and_basic_auth_bodies_are_sent_as_the_platforms_expect(
    platform: FakePlatform,
) -> None:
    http.post(platform.url + "/json", json={"text": "Halo “kak”"}, timeout=1.0)
    assert platform.last.headers["content-type"] == "application/json"
    assert platform.last.json() == {"text": "Halo “kak”"}
    assert platform.last.headers["user-agent"] == "Perantara-relay/1.0"
    http.post(
        platform.url + "/form",
        data={"To": "+14155550100", "Body": "a&b=c"},
        auth=("AC123", "secret"),
        timeout=1.0,
    )
    assert platform.last.headers["content-type"] == "application/x-www-form-urlencoded"
    assert platform.last.body == b"To=%2B14155550100&Body=a%26b%3Dc"
    assert platform.last.headers["authorization"] == "Basic QUMxMjM6c2VjcmV0"


def test_a_single_timeout_becomes_an_explicit_connect_and_read_pair() -> None:
    assert http.timeouts(10.0) == (3.0, 10.0)  # connecting never waits longer than 3 s
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


def test_cookies_set_by_a_platform_are_not_sent_back(platform: FakePlatform) -> None:
    platform.answer(200, {}, headers={"Set-Cookie": "session=abc; Path=/"})
    http.post(platform.url + "/cookie", json={}, timeout=1.0)
    http.post(platform.url + "/next", json={}, timeout=1.0)
    assert "cookie" not in platform.last.headers


def test_an_answer_reads_like_the_adapters_expect(platform: FakePlatform) -> None:
    platform.answer(400, {"error": {"code": 100}}, headers={"X-Thing": "1"})
    response = http.post(platform.url + "/bad", json={}, timeout=1.0)
    assert (response.status_code, response.ok) == (400, False)
    assert response.json() == {"error": {"code": 100}}
    assert response.headers.get("x-thing") == "1"  # any case
    assert http.json_object(response) == {"error": {"code": 100}}


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
