"""Broker transports: kombu's filesystem transport made safe for several processes (the
embedded broker for `make run` and tests without Redis), and its Redis transport without the
per-command client objects.

kombu's own `_put` creates the message file and then writes it, so a worker listing the folder
in between reads an empty file and dies on a JSON error. Here a message is written under a
name the reader ignores and then renamed into place, which is atomic on one filesystem.
"""

from __future__ import annotations

import os
import uuid
from time import monotonic
from typing import Any

from kombu.transport import TRANSPORT_ALIASES, filesystem
from kombu.transport import redis as kombu_redis
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps
from redis import exceptions as redis_errors


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # ".tmp-…" has no "<queue>.msg" part after its first dot: readers skip it.
        temporary = os.path.join(self.data_folder_out, f".tmp-{uuid.uuid4()}")
        with open(temporary, "wb") as handle:
            handle.write(str_to_bytes(dumps(payload)))
        os.replace(temporary, final)

    def _get(self, queue: str) -> Any:  # type: ignore[override]
        # A file left half-written by an older writer (or a crash) must not stop the worker:
        # skip it and take the next message.
        for _attempt in range(100):
            try:
                return super()._get(queue)
            except ValueError:
                continue
        return super()._get(queue)


class Transport(filesystem.Transport):
    Channel = Channel


class RedisChannel(kombu_redis.Channel):
    """kombu builds a new redis-py client object for every publish and every ack, and redis-py
    fills a table of ~170 response callbacks for each one: ~0.15 ms of CPU, 17 % of a webhook's
    CPU in the bench's profile. A client object holds no connection of its own (each command
    borrows one from the pool) and is thread-safe, so one per pool does the same work."""

    _sync_client: Any = None

    def _create_client(self, asynchronous: bool = False) -> Any:
        if getattr(self.connection, "client", None) is None:
            # Closing a channel after Redis went away restores unacknowledged messages through
            # a new client, but the transport has already dropped its connection info: kombu
            # then raises AttributeError ('NoneType' has no 'hostname') and Celery stops the
            # worker as an "unrecoverable error". A connection error instead lets the worker
            # reconnect; the relay's sweeper republishes whatever the restore would have.
            raise redis_errors.ConnectionError("the broker connection is closed")
        if asynchronous:
            return super()._create_client(asynchronous=True)  # type: ignore[misc]
        pool = self.pool
        client = self._sync_client
        if client is None or client.connection_pool is not pool:
            client = self._sync_client = super()._create_client()  # type: ignore[misc]
        return client


class RedisTransport(kombu_redis.Transport):
    Channel = RedisChannel


def install() -> None:
    """Make `filesystem://` and `redis://` broker URLs use these transports."""
    TRANSPORT_ALIASES["filesystem"] = "config.broker:Transport"
    TRANSPORT_ALIASES["redis"] = "config.broker:RedisTransport"
    TRANSPORT_ALIASES["rediss"] = "config.broker:RedisTransport"
