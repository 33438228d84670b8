"""Print a user's own data as JSON (their addresses and message bodies decrypted)."""

from __future__ import annotations

import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.models import User
from relay.management.progress import ProgressBar
from relay.services import accounts


class Command(BaseCommand):
    help = (
        "Export a user's data on their request: profile, their own addresses, listings and "
        "conversations with the messages decrypted. The output is personal data: hand it to "
        "the user and delete your copy."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--output", help="write to this file (mode 600) instead of stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        bar = ProgressBar(self.stderr, accounts.export_size(user), label="listings and chats")
        document = accounts.export_user_data(user=user, progress=bar.advance)
        bar.finish()
        text = json.dumps(document, ensure_ascii=False, indent=2)
        target = options.get("output")
        if target:
            descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(text + "\n")
        else:
            self.stdout.write(text)
        messages = sum(
            len(conversation["messages"])
            for listing in document["listings"]
            for conversation in listing["conversations"]
        ) + sum(
            len(conversation["messages"]) for conversation in document["conversations_as_buyer"]
        )
        self.stderr.write(
            f"Exported {len(document['endpoints'])} endpoints, {len(document['listings'])} "
            f"listings and {messages} messages" + (f" to {target}." if target else " to stdout.")
        )
