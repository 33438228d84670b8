"""Privacy invariants: no number, platform id or body in the database, the broker or the logs."""

from __future__ import annotations

import base64
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from celery.signals import before_task_publish
from django.conf import settings
from django.db import connection

from tests.relay.conftest import BUYER, SELLER, World, people

pytestmark = pytest.mark.worker
BODY = "my secret question about the frame size"
REPLY = "private answer: frame is 18 inch"


def forms_of(address: str) -> list[str]:
    digits = address.lstrip("+")
    forms = [digits, digits[-9:]]
    if digits.startswith("62"):
        forms.append("0" + digits[2:])
    return forms


def database_dump() -> str:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, bytes | memoryview):
                        raw = bytes(value)
                        chunks.append(raw.decode("latin-1"))
                        chunks.append(base64.b64encode(raw).decode())
                    else:
                        chunks.append(str(value))
    return "\n".join(chunks)


class RedisMonitor(threading.Thread):
    """Every command the broker receives while the test runs (MONITOR)."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        import redis

        self.client = redis.Redis.from_url(url)
        self.commands: list[str] = []
        self.stopping = False

    def run(self) -> None:
        with self.client.monitor() as monitor:
            for command in monitor.listen():
                self.commands.append(str(command.get("command", "")))
                if self.stopping:
                    return


@pytest.fixture
def published() -> Any:
    captured: list[str] = []

    def capture(body: Any = None, headers: Any = None, **_: Any) -> None:
        captured.append(repr(body) + repr(headers))

    before_task_publish.connect(capture, weak=False)
    yield captured
    before_task_publish.disconnect(capture)


def test_no_number_id_or_body_rests_in_the_database_the_broker_or_the_logs(
    world: World, published: list[str], caplog: Any, worker_log: Path
) -> None:
    monitor = None
    if settings.CELERY_BROKER_URL.startswith("redis://"):
        monitor = RedisMonitor(settings.CELERY_BROKER_URL)
        monitor.start()
    caplog.set_level(logging.DEBUG)
    world.connect_seller("sms")
    world.buyer_writes("whatsapp", f"{world.handle} {BODY}")
    received = world.sandbox.wait_for_outbox(SELLER["sms"], 1)
    world.seller_writes("sms", REPLY, reply_to=received[-1]["provider_message_id"])
    world.sandbox.wait_for_outbox(BUYER["whatsapp"], 1)

    secrets = [BODY, REPLY, "frame size", "18 inch"]
    secrets += forms_of(people()[BUYER["whatsapp"]]["address"])
    secrets += forms_of(people()[SELLER["sms"]]["address"])
    dump = database_dump()
    broker = "\n".join(published)
    if monitor is not None:
        monitor.stopping = True
        world.sandbox.send_inbound(BUYER["whatsapp"], "wa-main", "HELP")  # wakes the monitor
        monitor.join(5)
        broker += "\n".join(monitor.commands)
        assert "relay.deliver" in broker
    logs = caplog.text + worker_log.read_text(errors="replace")
    assert published, "the test should have seen task publications"
    for secret in secrets:
        assert secret not in dump, f"{secret!r} found in the database"
        assert secret not in broker, f"{secret!r} found on the broker"
        assert secret not in logs, f"{secret!r} found in the logs"


def test_a_number_typed_into_a_listing_title_never_reaches_a_buyer(world: World) -> None:
    """The title travels in every header and notice: it is masked like a message is."""
    from marketplace import services as marketplace

    marketplace.update_listing(listing=world.listing, title="Mountain bike, WA 0812-3456-7890")
    world.connect_seller("instagram")
    world.buyer_writes("sms", f"{world.handle} is it available?")
    received = world.sandbox.wait_for_outbox(SELLER["instagram"], 1)
    world.seller_writes("instagram", "Yes", reply_to=received[-1]["provider_message_id"])
    texts = [r["text"] for r in world.sandbox.wait_for_outbox(BUYER["sms"], 2)]
    assert any("Mountain bike, WA [hidden]" in text for text in texts), texts
    assert not any("3456" in text or "7890" in text for text in texts)
