"""A buyer's chat link opens the chat to whoever holds it: no log line may carry one, neither
Django's (through the redacting filter) nor gunicorn's access and error logs."""

from __future__ import annotations

import io
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core import signing
from django.test import Client

from config.logging import REDACTED, RedactingFilter, redact
from relay.selectors import CHAT_SALT

ROOT = Path(__file__).resolve().parents[2]


def a_chat_token() -> str:
    """A token shaped like a real one (the same signer and salt), for a chat that is not there."""
    return signing.dumps({"e": "GH261AMMCXQS", "c": "60WXCJ3SMGA8", "g": 0}, salt=CHAT_SALT)


def test_the_filter_redacts_chat_links_and_keeps_the_rest_of_the_line() -> None:
    token = a_chat_token()
    line = f'"POST /chat/{token}/report/ HTTP/1.1" 302 0 "https://relay.example/chat/{token}/"'

    assert redact(line) == (
        f'"POST /chat/{REDACTED}/report/ HTTP/1.1" 302 0 "https://relay.example/chat/{REDACTED}/"'
    )
    # The public start page names a listing, not a secret: it stays readable.
    assert redact("GET /chat/start/K7Q2AB/") == "GET /chat/start/K7Q2AB/"


def test_the_filter_redacts_password_reset_links_and_signed_values_anywhere() -> None:
    assert redact("GET /accounts/reset/MQ/c4b2x3-0a1b2c3d4e5f60718293/") == (
        f"GET /accounts/reset/MQ/{REDACTED}/"
    )
    assert redact("GET /accounts/reset/MQ/set-password/") == "GET /accounts/reset/MQ/set-password/"
    token = a_chat_token()
    assert token not in redact(f"next={token}&x=1") and "x=1" in redact(f"next={token}&x=1")


@pytest.fixture
def console() -> Iterator[io.StringIO]:
    """What the configured console handler (the one with the redacting filter) writes."""
    handler = next(
        handler
        for handler in logging.getLogger().handlers
        if any(isinstance(each, RedactingFilter) for each in handler.filters)
    )
    assert isinstance(handler, logging.StreamHandler)
    written = io.StringIO()
    previous = handler.setStream(written)
    yield written
    handler.setStream(previous)


@pytest.mark.django_db
def test_djangos_request_log_of_a_refused_chat_link_carries_no_token(
    console: io.StringIO,
) -> None:
    token = a_chat_token()
    response = Client().get(f"/chat/{token}/messages/")

    assert response.status_code == 410  # signed by the relay, but the chat is not there
    line = console.getvalue()
    assert "django.request" in line and f"/chat/{REDACTED}/messages/" in line
    assert token not in line and token.split(":")[-1] not in line


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for(condition: object, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_gunicorn_with_the_production_config_writes_access_lines_without_the_token(
    tmp_path: Path,
) -> None:
    port, access_log = free_port(), tmp_path / "access.log"
    # DEBUG only so the demo keys are allowed; an altered link is refused before any query.
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test", "DEBUG": "1"}
    argv = [
        sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application",
        "--bind", f"127.0.0.1:{port}", "--workers", "1",
        "--access-logfile", str(access_log), "--error-logfile", str(tmp_path / "error.log"),
    ]  # fmt: skip
    server = subprocess.Popen(argv, cwd=ROOT, env=environment)
    try:
        payload, stamp, _signature = a_chat_token().split(":")
        token = f"{payload}:{stamp}:{'A' * 43}"  # a link's shape, but altered
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/chat/{token}/messages/",
            headers={"Referer": f"http://127.0.0.1:{port}/chat/{token}/"},
        )

        def answered() -> bool:
            try:
                urllib.request.urlopen(request, timeout=5)
            except urllib.error.HTTPError as error:
                return error.code == 404
            except OSError:
                return False  # not listening yet
            return False

        wait_for(answered, "gunicorn to answer the chat link")
        wait_for(lambda: "/messages/" in access_log.read_text(), "the access line")
    finally:
        server.terminate()
        server.wait(timeout=30)

    line = access_log.read_text().strip().splitlines()[-1]
    assert f'"GET /chat/{REDACTED}/messages/ HTTP/1.1" 404' in line
    assert f'"http://127.0.0.1:{port}/chat/{REDACTED}/"' in line  # the referrer too
    assert token not in access_log.read_text()
    assert token.split(":")[-1] not in access_log.read_text()
