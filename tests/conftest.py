"""Shared fixtures: personas, the platform sandbox over real HTTP, a real Celery worker."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from contacts import services as contacts
from contacts.models import User

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def default_language_and_zone() -> Iterator[None]:
    """A test that renders in Indonesian or a seller's zone must not leave it active for the
    next one (messages and times would come out in the wrong language or zone)."""
    from django.utils import timezone, translation

    yield
    translation.deactivate()
    timezone.deactivate()


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    """Abuse-limit counters live in the cache: every test starts from zero."""
    from django.core.cache import cache

    from relay.services import counters, snapshot

    cache.clear()
    snapshot.invalidate()
    counters.resume()  # a test that broke the cache must not pause the next one's counts
    yield
    cache.clear()
    snapshot.invalidate()
    counters.resume()


@pytest.fixture
def seller(db: None) -> User:
    return contacts.register_user(
        username="sari", email="sari@example.com", password=PASSWORD, display_name="Sari Wulandari"
    )


@pytest.fixture
def other_seller(db: None) -> User:
    return contacts.register_user(
        username="joko", email="joko@example.com", password=PASSWORD, display_name="Joko"
    )


@pytest.fixture
def seller_client(client: Any, seller: User) -> Any:
    client.force_login(seller)
    return client


def _test_database_url() -> str:
    database = settings.DATABASES["default"]
    name = database["NAME"]
    if str(database["ENGINE"]).endswith("sqlite3"):
        return f"sqlite:///{Path(str(name)).resolve()}"
    user = database.get("USER") or ""
    password = f":{database['PASSWORD']}" if database.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgres://{auth}{database.get('HOST') or ''}{port}/{name}"


@pytest.fixture(scope="session")
def worker_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("worker") / "worker.log"


class WorkerProcess:
    """A real `celery worker` subprocess on the test database and the configured broker."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool",
                "threads",
                "--concurrency",
                "8",
                "--loglevel",
                "INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"test-{os.getpid()}-{time.monotonic_ns()}@%h",
            ],
            cwd=ROOT,
            env=self.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"worker exited early:\n{self.log.read_text()[-3000:]}")
            if "ready." in self.log.read_text(errors="replace"):
                return
            time.sleep(0.2)
        raise RuntimeError(f"worker not ready after 60 s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()


def _clear_broker() -> None:
    """Messages a previous run left on the broker belong to its database: drop them.

    Row ids restart with each test database, so a stale `deliver(7)` would act on this run's
    row 7. The file broker's queue is a folder; Redis and RabbitMQ queues are purged, on
    RabbitMQ with the native delayed-delivery queues that hold countdowns (retries).
    """
    url = settings.CELERY_BROKER_URL
    folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("data_folder_in")
    if url.startswith("filesystem://"):
        if folder and Path(str(folder)).is_dir():
            for stale in Path(str(folder)).iterdir():
                stale.unlink(missing_ok=True)
        return
    from config.celery import app

    names = [queue.name for queue in app.amqp.queues.values()]
    if url.startswith(("amqp", "pyamqp")):
        names += [f"celery_delayed_{level}" for level in range(28)]
    with app.connection_for_write() as connection:
        for name in names:
            channel: Any = connection.channel()
            try:
                channel.queue_purge(name)
            except connection.channel_errors:
                pass  # never declared: nothing to drop (RabbitMQ closes the channel)
            finally:
                with contextlib.suppress(*connection.channel_errors, *connection.connection_errors):
                    channel.close()


@pytest.fixture(scope="session")
def worker_env(django_db_setup: None, live_server: Any, sandbox: Any) -> dict[str, str]:
    _clear_broker()
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings_test"
    env["DATABASE_URL"] = _test_database_url()
    env["PLATFORM_SANDBOX_URL"] = sandbox.url
    env["RELAY_PUBLIC_URL"] = live_server.url
    env["RELAY_RETRY_BASE_SECONDS"] = "0.2"
    env["RELAY_RETRY_MAX_SECONDS"] = "2"
    env["CONN_MAX_AGE"] = "0"
    # Each test recreates identities in a flushed database: the worker must not keep them.
    env["RELAY_SNAPSHOT_SECONDS"] = "0"
    # A photo download that takes longer is refused as too slow (tests/relay/test_photo_refusals).
    env["RELAY_MEDIA_FETCH_SECONDS"] = "3"
    return env


@pytest.fixture(scope="session")
def celery_worker(worker_env: dict[str, str], worker_log: Path) -> Iterator[WorkerProcess]:
    worker = WorkerProcess(worker_env, worker_log)
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def sandbox(live_server: Any) -> Iterator[Any]:
    from sandbox.config import SandboxConfig
    from sandbox.server import start_sandbox

    config = SandboxConfig.from_env()
    config.relay_url = live_server.url
    config.port = 0
    running = start_sandbox(config)
    yield running
    running.stop()


@pytest.fixture
def sandbox_client(sandbox: Any, settings: Any) -> Any:
    """The sandbox's control API, reset, with this process's adapters pointed at it."""
    from sandbox.client import SandboxClient

    for channel, config in settings.PLATFORMS.items():
        base = sandbox.url + ("/twilio" if channel == "sms" else f"/graph/{settings.GRAPH_VERSION}")
        config["api_base"] = base
    client = SandboxClient(sandbox.url)
    client.reset()
    return client
