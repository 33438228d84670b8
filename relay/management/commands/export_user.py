"""Print a user's own data as JSON (their addresses and message bodies decrypted)."""

from __future__ import annotations

import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.models import User
from relay.management.buyers import add_buyer_arguments, buyer_from_options
from relay.management.progress import ProgressBar
from relay.services import accounts


class Command(BaseCommand):
    help = (
        "Export a person's data on their request: a seller by --username (profile, addresses, "
        "listings and conversations), a buyer by --channel and --address with the --code the "
        "relay sent them (their conversations and address). Bodies are decrypted: the output "
        "is personal data, hand it to the person and delete your copy."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", help="a seller's account")
        add_buyer_arguments(parser)
        parser.add_argument("--output", help="write to this file (mode 600) instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("username"):
            document = self._seller(options["username"])
        else:
            endpoint = buyer_from_options(self, options, consume=True)
            if endpoint is None:
                return
            document = accounts.export_endpoint_data(endpoints=[endpoint])
        self._write(document, options.get("output"))

    def _seller(self, username: str) -> dict[str, Any]:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        bar = ProgressBar(self.stderr, accounts.export_size(user), label="listings and chats")
        document = accounts.export_user_data(user=user, progress=bar.advance)
        bar.finish()
        return document

    def _write(self, document: dict[str, Any], target: str | None) -> None:
        text = json.dumps(document, ensure_ascii=False, indent=2)
        if target:
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            self.stdout.write(text)
        as_buyer = document["conversations_as_buyer"]
        messages = sum(
            len(conversation["messages"])
            for listing in document.get("listings", [])
            for conversation in listing["conversations"]
        ) + sum(len(conversation["messages"]) for conversation in as_buyer)
        addresses = len(document.get("endpoints", document.get("addresses", [])))
        self.stderr.write(
            f"Exported {addresses} endpoints, {len(document.get('listings', []))} listings, "
            f"{len(as_buyer)} conversations as a buyer and {messages} messages"
            + (f" to {target}." if target else " to stdout.")
        )
