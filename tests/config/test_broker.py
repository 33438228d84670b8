"""The configured broker (file, Redis or RabbitMQ) carries every message; each gets its settings.

CI runs this file once against Redis and once against RabbitMQ (`.ci/run`); a bare machine runs
it against the embedded file broker.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from config.broker import RedisChannel
from config.celery import app

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[2]
BROKER = settings.CELERY_BROKER_URL
ON_REDIS = BROKER.startswith("redis")
ON_RABBITMQ = BROKER.startswith(("amqp", "pyamqp"))


def test_every_published_message_arrives_on_the_configured_broker() -> None:
    name = f"test-broker-{uuid.uuid4().hex[:8]}"
    # On RabbitMQ the queue is declared as the app declares its own (quorum there).
    arguments = {"x-queue-type": "quorum"} if ON_RABBITMQ else None
    with app.connection_for_write() as connection:
        queue = connection.SimpleQueue(name, queue_opts={"durable": True}, queue_args=arguments)
        try:
            for number in range(25):
                queue.put({"n": number}, serializer="json")
            received = []
            for _ in range(25):
                message = queue.get(timeout=10)
                received.append(message.payload["n"])
                message.ack()
            assert sorted(received) == list(range(25))
        finally:
            queue.close()  # cancel the consumer first: RabbitMQ cancels it on delete
            channel: Any = connection.default_channel
            channel.queue_delete(name)


@pytest.mark.skipif(not ON_REDIS, reason="the Redis transport's client reuse")
def test_redis_publishes_reuse_one_client_and_every_message_arrives() -> None:
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


@pytest.mark.skipif(not ON_RABBITMQ, reason="needs RabbitMQ (CELERY_BROKER_URL=amqp://...)")
def test_on_rabbitmq_the_task_queue_is_a_quorum_queue_and_publishes_are_confirmed() -> None:
    queue = app.amqp.queues[app.conf.task_default_queue]
    with app.connection_for_write() as connection:
        channel = connection.default_channel
        queue(channel).declare()  # the app's declaration: fails if the queue is of another type
        assert (connection.transport_options or {}).get("confirm_publish") is True
        assert connection.connection.confirm_publish is True
    assert queue.queue_arguments == {"x-queue-type": "quorum"}


def broker_settings(url: str) -> dict[str, object]:
    """The Celery settings a process started with CELERY_BROKER_URL=url ends up with."""
    env = {**os.environ, "CELERY_BROKER_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings_test"}
    script = (
        "import json, django; django.setup(); from django.conf import settings as s; "
        "print(json.dumps({k: getattr(s, k, None) for k in ("
        "'CELERY_TASK_DEFAULT_QUEUE_TYPE', 'CELERY_TASK_DEFAULT_EXCHANGE_TYPE', "
        "'CELERY_WORKER_DETECT_QUORUM_QUEUES', 'CELERY_BROKER_TRANSPORT_OPTIONS')}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    parsed: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return parsed


def test_an_amqp_url_gets_quorum_queues_and_confirms_and_redis_gets_neither() -> None:
    rabbit = broker_settings("amqp://guest:guest@rabbit.internal:5672//")
    assert rabbit["CELERY_TASK_DEFAULT_QUEUE_TYPE"] == "quorum"
    # Countdowns (retries) use native delayed delivery, which needs a topic exchange.
    assert rabbit["CELERY_TASK_DEFAULT_EXCHANGE_TYPE"] == "topic"
    assert rabbit["CELERY_WORKER_DETECT_QUORUM_QUEUES"] is True
    options = rabbit["CELERY_BROKER_TRANSPORT_OPTIONS"]
    assert isinstance(options, dict) and options.get("confirm_publish") is True
    if not ON_RABBITMQ:
        assert getattr(settings, "CELERY_TASK_DEFAULT_QUEUE_TYPE", None) is None
        assert "confirm_publish" not in settings.CELERY_BROKER_TRANSPORT_OPTIONS


def test_a_sub_second_countdown_is_published_on_every_broker() -> None:
    from relay.tasks import ping

    # Retries in tests back off from 0.2 s; on quorum queues Celery refuses a countdown under a
    # second unless config.celery rounds it up.
    assert ping.apply_async(("countdown",), countdown=0.3).id
