"""Print fresh production keys as environment lines, for an operator's secret store."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from nacl.public import PrivateKey


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Command(BaseCommand):
    help = (
        "Print SECRET_KEY, RELAY_KEYRING, RELAY_INDEX_KEY and the moderation key ring lines: "
        "RELAY_MODERATION_KEYS (private halves: only the web processes serving moderation and "
        "rotate_moderation_key) and RELAY_MODERATION_PUBLIC_KEYS (every other process)."
    )
    requires_system_checks: list[str] = []  # it must work before anything else is configured

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--key-id", default="k1", help="id of the first key ring entry")
        parser.add_argument(
            "--moderation-key-id", default="m1", help="id of the new moderation key"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key_id = options["key_id"]
        self.stdout.write(f"SECRET_KEY={secrets.token_urlsafe(50)}")
        self.stdout.write(f"RELAY_KEYRING={key_id}:{new_key()}")
        self.stdout.write(f"RELAY_KEY_CURRENT={key_id}")
        self.stdout.write(f"RELAY_INDEX_KEY={new_key()}")
        moderation_id = options["moderation_key_id"]
        private = PrivateKey.generate()
        public = base64.b64encode(bytes(private.public_key)).decode()
        self.stdout.write(
            f"RELAY_MODERATION_KEYS={moderation_id}:{base64.b64encode(bytes(private)).decode()}"
        )
        self.stdout.write(f"RELAY_MODERATION_PUBLIC_KEYS={moderation_id}:{public}")
        self.stdout.write(f"RELAY_MODERATION_KEY_CURRENT={moderation_id}")
