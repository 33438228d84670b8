"""The documented payloads in tests/adapters/fixtures/, and posting them signed as the platform.

Each fixture follows a page of the platform's own reference (its `_source`, or `# source:` line
for Twilio form bodies), never the sandbox. `_expect` says what the relay must read from it:
the events in order (a message by its `kind` and any fields named; a status by `status`), and
how many events are skipped on purpose (`ignored`) or rejected as unreadable (`rejected`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.test import Client

FIXTURES = Path(__file__).parent / "fixtures"
CONTENT_TYPES = {
    "whatsapp": "application/json",
    "messenger": "application/json",
    "instagram": "application/json",
    "sms": "application/x-www-form-urlencoded",
}
# Our identities in the fixtures: the phone number id of the WhatsApp reference pages, and
# illustrative Page, Instagram account and Twilio number ids where the pages show placeholders.
IDENTITIES = {
    "whatsapp": ("106540352242922", "15550783881"),
    "messenger": ("104857600000001", "perantara.page"),
    "instagram": ("17841400000000001", "perantara.ig"),
    "sms": ("+15550002222", "+15550002222"),
}


@dataclass(frozen=True)
class Fixture:
    platform: str
    name: str
    source: str
    expect: dict[str, Any]
    body: bytes

    @property
    def id(self) -> str:
        return f"{self.platform}/{self.name}"


def load(path: Path) -> Fixture:
    platform = path.parent.name
    if path.suffix == ".json":
        document = json.loads(path.read_text())
        source, expect = document.pop("_source"), document.pop("_expect")
        document.pop("_note", None)
        return Fixture(platform, path.stem, source, expect, json.dumps(document).encode())
    meta: dict[str, str] = {}
    lines = path.read_text().splitlines()
    for line in lines:
        if line.startswith("# "):
            key, _, value = line[2:].partition(": ")
            meta[key] = value
    [form] = [line for line in lines if line and not line.startswith("#")]
    return Fixture(platform, path.stem, meta["source"], json.loads(meta["expect"]), form.encode())


def all_fixtures() -> list[Fixture]:
    return [load(path) for path in sorted(FIXTURES.glob("*/*")) if path.suffix in (".json", ".txt")]


def secret(platform: str) -> str:
    return str(settings.PLATFORMS[platform]["app_secret"])


def url(platform: str) -> str:
    return f"http://testserver/webhooks/{platform}/"


def signature_headers(platform: str, body: bytes) -> dict[str, str]:
    """Sign as the platform signs: Meta over the raw body, Twilio over URL + sorted params."""
    key = secret(platform).encode()
    if platform != "sms":
        digest = hmac.new(key, body, hashlib.sha256).hexdigest()
        return {"HTTP_X_HUB_SIGNATURE_256": f"sha256={digest}"}
    parameters = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    signed = url(platform) + "".join(
        name + value for name in sorted(parameters) for value in sorted(parameters[name])
    )
    mac = hmac.new(key, signed.encode("utf-8"), hashlib.sha1).digest()
    return {"HTTP_X_TWILIO_SIGNATURE": base64.b64encode(mac).decode("ascii")}


def post(client: Client, platform: str, body: bytes) -> Any:
    return client.post(
        f"/webhooks/{platform}/",
        data=body,
        content_type=CONTENT_TYPES[platform],
        **signature_headers(platform, body),  # type: ignore[arg-type]
    )
