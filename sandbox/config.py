"""Sandbox configuration: who the relay is on each platform, and who the simulated people are.

The secrets default to well-known dev values so `python -m sandbox` works out of the box; the
sandbox is the dev/demo path, never production. `from_env()` reads the relay's own variable
names so that one `.env` file configures both sides with the same secrets.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHANNELS = ("whatsapp", "messenger", "instagram", "sms")
META_CHANNELS = ("whatsapp", "messenger", "instagram")
PHONE_CHANNELS = ("whatsapp", "sms")
DEFAULT_FIXTURE = Path(__file__).resolve().parent / "demo.json"


@dataclass(frozen=True)
class Identity:
    """One of the relay's own accounts on a platform.

    WhatsApp: provider_id is the phone_number_id and address the display number digits.
    SMS: provider_id and address are both the E.164 number.
    Messenger/Instagram: provider_id is the page/IG account id and address the username.
    """

    key: str
    channel: str
    provider_id: str
    address: str
    label: str = ""


@dataclass(frozen=True)
class Person:
    """A simulated platform user; address is E.164 for whatsapp/sms, else the PSID/IGSID."""

    key: str
    name: str
    channel: str
    address: str
    bsuid: str | None = None
    language: str = "en"


@dataclass
class SandboxConfig:
    relay_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 0  # 0 picks a free port
    whatsapp_app_secret: str = "sandbox-whatsapp-secret"
    whatsapp_access_token: str = "sandbox-whatsapp-token"
    whatsapp_business_account_id: str = "400000000000001"
    messenger_app_secret: str = "sandbox-messenger-secret"
    messenger_access_token: str = "sandbox-messenger-token"
    instagram_app_secret: str = "sandbox-instagram-secret"
    instagram_access_token: str = "sandbox-instagram-token"
    twilio_account_sid: str = "AC00000000000000000000000000000000"
    twilio_auth_token: str = "sandbox-twilio-token"
    # Reported as the Messaging Service of every relay SMS number when the
    # `twilio_advanced_opt_out` setting is on.
    twilio_messaging_service_sid: str = "MG00000000000000000000000000000000"
    latency_ms: int = 0
    auto_status: bool = True
    # Pause between a send's answer and its first status webhook, so the relay has stored the
    # provider id before the status about it arrives (real platforms are rarely faster).
    status_delay_ms: int = 100
    webhook_workers: int = 8
    # Where the phones page's history is kept across restarts (sandbox.persistence); None keeps
    # it in memory only, as tests and benchmarks want.
    state_file: Path | None = None
    identities: list[Identity] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)

    def app_secret(self, channel: str) -> str:
        return {
            "whatsapp": self.whatsapp_app_secret,
            "messenger": self.messenger_app_secret,
            "instagram": self.instagram_app_secret,
            "sms": self.twilio_auth_token,
        }[channel]

    def access_token(self, channel: str) -> str:
        return {
            "whatsapp": self.whatsapp_access_token,
            "messenger": self.messenger_access_token,
            "instagram": self.instagram_access_token,
        }[channel]

    def webhook_url(self, channel: str) -> str:
        return f"{self.relay_url.rstrip('/')}/webhooks/{channel}/"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SandboxConfig:
        """Build the configuration from environment variables; a bad value names the variable."""
        env = os.environ if environ is None else environ
        defaults = cls()
        fixture = Path(env["SANDBOX_FIXTURE"]) if env.get("SANDBOX_FIXTURE") else DEFAULT_FIXTURE
        identities, people = load_fixture(fixture)

        def text(name: str, default: str) -> str:
            return env.get(name) or default

        return cls(
            relay_url=text("SANDBOX_RELAY_URL", defaults.relay_url),
            host=text("SANDBOX_HOST", "127.0.0.1"),
            port=_int(env, "SANDBOX_PORT", 8100),
            whatsapp_app_secret=text("WHATSAPP_APP_SECRET", defaults.whatsapp_app_secret),
            whatsapp_access_token=text("WHATSAPP_ACCESS_TOKEN", defaults.whatsapp_access_token),
            messenger_app_secret=text("MESSENGER_APP_SECRET", defaults.messenger_app_secret),
            messenger_access_token=text(
                "MESSENGER_PAGE_ACCESS_TOKEN", defaults.messenger_access_token
            ),
            instagram_app_secret=text("INSTAGRAM_APP_SECRET", defaults.instagram_app_secret),
            instagram_access_token=text("INSTAGRAM_ACCESS_TOKEN", defaults.instagram_access_token),
            twilio_account_sid=text("TWILIO_ACCOUNT_SID", defaults.twilio_account_sid),
            twilio_auth_token=text("TWILIO_AUTH_TOKEN", defaults.twilio_auth_token),
            latency_ms=_int(env, "SANDBOX_LATENCY_MS", 0),
            auto_status=_bool(env, "SANDBOX_AUTO_STATUS", True),
            webhook_workers=_int(env, "SANDBOX_WEBHOOK_WORKERS", 8),
            state_file=Path(env["SANDBOX_STATE_FILE"]) if env.get("SANDBOX_STATE_FILE") else None,
            identities=identities,
            people=people,
        )


def load_fixture(path: Path) -> tuple[list[Identity], list[Person]]:
    """Read identities and people from a JSON file; raise ValueError naming the file if invalid."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        identities = [Identity(**item) for item in data.get("identities", [])]
        people = [person_from_dict(item) for item in data.get("people", [])]
    except (OSError, ValueError, TypeError) as error:
        raise ValueError(f"SANDBOX_FIXTURE {path}: {error}") from error
    for identity in identities:
        if identity.channel not in CHANNELS:
            raise ValueError(f"SANDBOX_FIXTURE {path}: identity {identity.key!r} has bad channel")
    return identities, people


def person_from_dict(data: Mapping[str, Any]) -> Person:
    """Build a Person from JSON; raise ValueError with a readable reason if it is not one."""
    try:
        person = Person(
            key=str(data["key"]),
            name=str(data.get("name") or data["key"]),
            channel=str(data["channel"]),
            address=str(data["address"]),
            bsuid=str(data["bsuid"]) if data.get("bsuid") else None,
            language=str(data.get("language") or "en"),
        )
    except KeyError as error:
        raise ValueError(f"person needs {error.args[0]!r}") from error
    if person.channel not in CHANNELS:
        raise ValueError(f"person {person.key!r}: channel must be one of {', '.join(CHANNELS)}")
    if person.channel in PHONE_CHANNELS and not _is_e164(person.address):
        raise ValueError(f"person {person.key!r}: address must be E.164 like +6281234567001")
    return person


def _is_e164(address: str) -> bool:
    return address.startswith("+") and address[1:].isdigit() and 8 <= len(address) <= 16


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from None
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {raw!r}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if not raw:
        return default
    if raw.lower() in ("1", "true", "yes", "on"):
        return True
    if raw.lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be true or false, got {raw!r}")
