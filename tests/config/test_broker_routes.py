"""kombu's exchange table kept per channel (config/broker.py): one SMEMBERS per
route_cache_seconds instead of one per publish, never an empty table, dropped on a bind."""

from __future__ import annotations

from typing import Any

import pytest
from kombu.transport import redis as kombu_redis

from config.broker import RedisChannel

TABLE = [("celery", "", "celery")]


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    asked: list[str] = []
    answers = {"celery": TABLE, "empty": []}

    def get_table(self: Any, exchange: str) -> Any:
        asked.append(exchange)
        return answers[exchange]

    monkeypatch.setattr(kombu_redis.Channel, "get_table", get_table)
    monkeypatch.setattr(kombu_redis.Channel, "_queue_bind", lambda self, *a, **k: None)
    return asked


def _channel(seconds: float) -> RedisChannel:
    channel = RedisChannel.__new__(RedisChannel)  # no connection: only the lookup is tested
    channel.route_cache_seconds = seconds
    return channel


def test_publishes_ask_redis_for_the_routes_once_per_interval(lookups: list[str]) -> None:
    channel = _channel(5.0)
    assert [channel.get_table("celery") for _ in range(100)] == [TABLE] * 100
    assert lookups == ["celery"]


def test_an_empty_table_is_asked_again_and_a_bind_drops_the_kept_one(lookups: list[str]) -> None:
    channel = _channel(5.0)
    channel.get_table("empty")
    channel.get_table("empty")
    channel.get_table("celery")
    channel._queue_bind("celery", "celery", None, "celery")
    channel.get_table("celery")
    assert lookups == ["empty", "empty", "celery", "celery"]


def test_zero_seconds_asks_redis_before_every_publish(lookups: list[str]) -> None:
    channel = _channel(0.0)
    channel.get_table("celery")
    channel.get_table("celery")
    assert lookups == ["celery", "celery"]


def test_the_setting_reaches_the_channel_as_a_transport_option() -> None:
    assert "route_cache_seconds" in RedisChannel.from_transport_options
