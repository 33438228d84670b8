"""Erase a user's data: shred their conversation keys, overwrite their addresses."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.models import User
from relay.management.progress import ProgressBar
from relay.services import accounts


class Command(BaseCommand):
    help = (
        "Delete a user's data on their request. Shreds the keys of every conversation on their "
        "listings, overwrites their addresses, deletes their handles, closes their listings and "
        "anonymises and deactivates the account. Cannot be undone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--yes", action="store_true", help="confirm; nothing happens without")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user named {options['username']!r}.")
        if not options["yes"]:
            raise CommandError(
                f"This erases {user.username}'s data for good "
                f"({user.listings.count()} listings, {user.endpoints.count()} endpoints). "
                "Run again with --yes to do it."
            )
        username = user.username
        bar = ProgressBar(self.stderr, accounts.ERASE_STEPS, label="steps")
        summary = accounts.erase_user(user=user, progress=bar.advance)
        bar.finish()
        self.stdout.write(
            f"Deleted {username}: shredded {summary.conversations_shredded} conversations, "
            f"overwrote {summary.messages_overwritten} messages sent elsewhere, erased "
            f"{summary.endpoints_erased} endpoints, cancelled {summary.deliveries_cancelled} "
            f"deliveries, deleted {summary.handles_deleted} handles, closed "
            f"{summary.listings_closed} listings, shredded the evidence of "
            f"{summary.reports_shredded} reports ({summary.reports_held} kept under a legal "
            f"hold); the account is now {user.username} (inactive)."
        )
