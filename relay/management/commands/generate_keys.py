"""Print fresh production keys as environment lines, for an operator's secret store."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


class Command(BaseCommand):
    help = "Print SECRET_KEY, RELAY_KEYRING, RELAY_INDEX_KEY and RELAY_MODERATION_KEY lines."
    requires_system_checks: list[str] = []  # it must work before anything else is configured

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--key-id", default="k1", help="id of the first key ring entry")

    def handle(self, *args: Any, **options: Any) -> None:
        key_id = options["key_id"]
        self.stdout.write(f"SECRET_KEY={secrets.token_urlsafe(50)}")
        self.stdout.write(f"RELAY_KEYRING={key_id}:{new_key()}")
        self.stdout.write(f"RELAY_KEY_CURRENT={key_id}")
        self.stdout.write(f"RELAY_INDEX_KEY={new_key()}")
        self.stdout.write(f"RELAY_MODERATION_KEY={new_key()}")
