"""A real sandbox on loopback, a tiny fake relay it posts webhooks to, and send helpers."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests

from sandbox.client import SandboxClient
from sandbox.config import DEFAULT_FIXTURE, SandboxConfig, load_fixture
from sandbox.server import RunningSandbox, start_sandbox

WHATSAPP_SECRET = "test-whatsapp-secret"
WHATSAPP_TOKEN = "test-whatsapp-token"
MESSENGER_SECRET = "test-messenger-secret"
MESSENGER_TOKEN = "test-messenger-token"
INSTAGRAM_SECRET = "test-instagram-secret"
INSTAGRAM_TOKEN = "test-instagram-token"
TWILIO_SID = "AC" + "1" * 32
TWILIO_TOKEN = "test-twilio-token"
WHATSAPP_NUMBER_ID = "100000000000001"
PAGE_ID = "200000000000001"
INSTAGRAM_ID = "300000000000001"
SMS_NUMBER = "+15550002222"


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return {name: values[-1] for name, values in parse_qs(self.body.decode()).items()}


class FakeRelay:
    """Records every webhook and answers 200 (or `status`, when set)."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.status = 200
        self.lock = threading.Lock()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            disable_nagle_algorithm = True  # or every answer waits ~40 ms for a delayed ACK

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {name.lower(): value for name, value in self.headers.items()}
                with relay.lock:
                    relay.received.append(Received(self.path, headers, body, time.monotonic()))
                self.send_response(relay.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", "14")
                self.end_headers()
                self.wfile.write(b"EVENT_RECEIVED")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.01)
        raise AssertionError(f"relay expected {count} webhooks, got {len(self.received)}")

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Poll `condition` every 10 ms; fail the test if it stays false for `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition still false after {timeout}s")
        time.sleep(0.01)


def make_config(relay_url: str) -> SandboxConfig:
    identities, people = load_fixture(DEFAULT_FIXTURE)
    return SandboxConfig(
        relay_url=relay_url,
        port=0,
        whatsapp_app_secret=WHATSAPP_SECRET,
        whatsapp_access_token=WHATSAPP_TOKEN,
        messenger_app_secret=MESSENGER_SECRET,
        messenger_access_token=MESSENGER_TOKEN,
        instagram_app_secret=INSTAGRAM_SECRET,
        instagram_access_token=INSTAGRAM_TOKEN,
        twilio_account_sid=TWILIO_SID,
        twilio_auth_token=TWILIO_TOKEN,
        status_delay_ms=0,
        identities=identities,
        people=people,
    )


@pytest.fixture
def relay() -> Iterator[FakeRelay]:
    fake = FakeRelay()
    yield fake
    fake.close()


@pytest.fixture
def sandbox(relay: FakeRelay) -> Iterator[RunningSandbox]:
    running = start_sandbox(make_config(relay.url))
    yield running
    running.stop()


@pytest.fixture
def sandbox_client(sandbox: RunningSandbox) -> SandboxClient:
    return SandboxClient(sandbox.url)


class Relay:
    """Calls the sandbox's send APIs the way the relay's adapters do."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def whatsapp(self, body: dict[str, Any], token: str = WHATSAPP_TOKEN) -> requests.Response:
        return self.session.post(
            f"{self.base_url}/graph/v21.0/{WHATSAPP_NUMBER_ID}/messages",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    def whatsapp_text(self, to: str, text: str, **extra: Any) -> requests.Response:
        body = {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": {"preview_url": False, "body": text},
            **extra,
        }
        return self.whatsapp(body)

    def page(
        self, object_id: str, recipient: str, text: str, token: str, **extra: Any
    ) -> requests.Response:
        body = {
            "recipient": {"id": recipient},
            "messaging_type": "RESPONSE",
            "message": {"text": text},
            **extra,
        }
        return self.session.post(
            f"{self.base_url}/graph/v21.0/{object_id}/messages",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )

    def messenger(self, recipient: str, text: str, **extra: Any) -> requests.Response:
        return self.page(PAGE_ID, recipient, text, MESSENGER_TOKEN, **extra)

    def instagram(self, recipient: str, text: str, **extra: Any) -> requests.Response:
        return self.page(INSTAGRAM_ID, recipient, text, INSTAGRAM_TOKEN, **extra)

    def sms(
        self,
        to: str,
        text: str,
        status_callback: str | None = None,
        auth: tuple[str, str] = (TWILIO_SID, TWILIO_TOKEN),
    ) -> requests.Response:
        form = {"To": to, "From": SMS_NUMBER, "Body": text}
        if status_callback:
            form["StatusCallback"] = status_callback
        return self.session.post(
            f"{self.base_url}/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages.json",
            data=form,
            auth=auth,
            timeout=10,
        )


@pytest.fixture
def relay_sends(sandbox: RunningSandbox) -> Relay:
    return Relay(sandbox.url)
