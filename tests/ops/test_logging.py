"""Logs never carry a phone number, platform id or e-mail address (privacy invariant 2)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from config.logging import REDACTED, JsonFormatter, RedactingFilter, redact

ROOT = Path(__file__).resolve().parents[2]

ADDRESSES = [
    "+6281234567001",  # E.164
    "+62 812-3456-7001",  # international with spaces and dashes
    "+62 (812) 3456 7001",
    "0062 812 3456 7001",  # 00 international prefix
    "081234567890",  # Indonesian mobile, national
    "0812-3456-7890",
    "0812 3456 7890",
    "(021) 5550-1234",  # Jakarta landline
    "(415) 555-0100",  # US
    "+1 (415) 555-0100",
    "415-555-0100",
    "415.555.0100",
    "415 555 0100",
    "4155550100",
    "+44 20 7946 0958",
    "whatsapp:+14155550100",  # Twilio's WhatsApp address
    "6281234567001",  # WhatsApp wa_id: E.164 without the plus
    "9200000000000099",  # Messenger PSID
    "17841400000000000",  # Instagram IGSID
    "sari@example.com",
]

ORDINARY = [
    "Rp 3.500.000",
    "Rp3.500.000",
    "1,250,000",
    "3.500.000,00",
    "3500000.00",
    "IDR 3500000",
    "delivery 123456",
    "listing 42 of 1000",
    "2024-05-01T10:00:00+07:00",
    "12:30:45",
    "127.0.0.1:8000",
    "550e8400-e29b-41d4-a716-446655440000",
    "took 0.1234567 s",
    "HTTP 503 after 3 attempts",
]


@pytest.mark.parametrize("address", ADDRESSES)
def test_the_filter_redacts_every_common_address_format(address: str) -> None:
    text = redact(f"message from {address} to the relay")

    assert address.removeprefix("whatsapp:") not in text
    assert text in (
        f"message from {REDACTED} to the relay",
        f"message from whatsapp:{REDACTED} to the relay",
    )


@pytest.mark.parametrize("ordinary", ORDINARY)
def test_the_filter_leaves_prices_dates_and_short_ids_alone(ordinary: str) -> None:
    assert redact(f"note: {ordinary}.") == f"note: {ordinary}."


def make_record(msg: str, args: Any = (), exc_info: Any = None) -> logging.LogRecord:
    return logging.LogRecord("relay.test", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_the_filter_redacts_arguments_of_any_type_and_traceback_text() -> None:
    try:
        raise ValueError("no route for +6281234567001")
    except ValueError:
        exc_info = sys.exc_info()
    args = ("0812-3456-7890", 9200000000000099)
    record = make_record("sender %s (psid %d) wrote", args, exc_info)

    RedactingFilter().filter(record)
    written = JsonFormatter().format(record)

    assert "3456" not in written and "9200000000000099" not in written
    assert "6281234567001" not in written
    document = json.loads(written)
    assert document["message"] == f"sender {REDACTED} (psid {REDACTED}) wrote"
    assert f"no route for {REDACTED}" in document["exception"]


def test_every_configured_handler_carries_the_redacting_filter() -> None:
    handlers: dict[str, Any] = settings.LOGGING["handlers"]  # type: ignore[assignment]
    assert handlers
    for name, handler in handlers.items():
        assert "redact" in handler.get("filters", []), name
    for handler in logging.getLogger().handlers:
        if not type(handler).__module__.startswith("_pytest"):
            assert any(isinstance(f, RedactingFilter) for f in handler.filters), handler


def run_and_log(**env: str) -> str:
    code = (
        "import django, logging; django.setup(); "
        "logging.getLogger('relay.webhooks').warning('from %s about Rp 3.500.000', "
        "'+62 812-3456-7001')"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings_test", **env}
    if "DEBUG" not in env:
        environment.pop("DEBUG", None)
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stderr.strip()


def test_production_logs_are_json_lines_without_the_number() -> None:
    line = run_and_log().splitlines()[-1]

    document = json.loads(line)
    assert document["level"] == "WARNING"
    assert document["logger"] == "relay.webhooks"
    assert document["message"] == f"from {REDACTED} about Rp 3.500.000"
    assert "3456" not in line


def test_development_logs_are_readable_lines_without_the_number() -> None:
    line = run_and_log(DEBUG="1").splitlines()[-1]

    assert line.endswith(f"WARNING relay.webhooks: from {REDACTED} about Rp 3.500.000")
    assert "3456" not in line
