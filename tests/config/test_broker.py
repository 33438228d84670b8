"""The Redis transport keeps one client object per pool and still carries every message."""

from __future__ import annotations

import pytest
from django.conf import settings

from config.broker import RedisChannel
from config.celery import app

pytestmark = pytest.mark.skipif(
    not settings.CELERY_BROKER_URL.startswith("redis"),
    reason="needs the Redis broker (CELERY_BROKER_URL=redis://...; CI sets it)",
)


def test_publishes_reuse_one_client_and_every_message_arrives() -> None:
    queue = "test-broker-client-reuse"
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        assert isinstance(channel, RedisChannel)
        first = channel._create_client()
        assert channel._create_client() is first
        client = channel._create_client()
        client.delete(queue)
        try:
            with connection.Producer() as producer:
                for number in range(25):
                    producer.publish({"n": number}, routing_key=queue, serializer="json")
            assert client.llen(queue) == 25
        finally:
            client.delete(queue)
