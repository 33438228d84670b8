"""Add, list and disable the relay's own addresses (numbers, pages, accounts)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.models import Channel
from relay import services


class Command(BaseCommand):
    help = "Manage relay identities: add, list, disable, enable."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="add or update an identity")
        add.add_argument(
            "--channel", required=True, choices=[c for c in Channel.values if c != "web"]
        )
        add.add_argument(
            "--provider-id",
            required=True,
            help="phone_number_id, page id, IG id, or the SMS number",
        )
        add.add_argument("--address", required=True, help="the public number or username")
        add.add_argument("--label", default="")
        add.add_argument(
            "--page-id",
            default="",
            help="Instagram through a Facebook Page: the Page's id (sends go via the Page); "
            "leave out for Instagram API with Instagram Login",
        )
        sub.add_parser("list", help="list identities")
        for name in ("disable", "enable"):
            action = sub.add_parser(name)
            action.add_argument("--channel", required=True)
            action.add_argument("--provider-id", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "add":
            try:
                identity = services.add_relay_identity(
                    channel=options["channel"],
                    provider_id=options["provider_id"],
                    address=options["address"],
                    label=options["label"],
                    page_id=options["page_id"],
                )
            except services.RelayError as error:
                raise CommandError(error.message) from None
            self.stdout.write(self.style.SUCCESS(f"Saved {identity}"))
        elif action == "list":
            rows = services.list_relay_identities()
            for identity in rows:
                state = "active" if identity.active else "disabled"
                self.stdout.write(
                    f"{identity.channel:10} {identity.provider_id:20} {identity.address:20} {state}"
                )
            self.stdout.write(f"{len(rows)} identities")
        else:
            changed = services.set_relay_identity_active(
                channel=options["channel"],
                provider_id=options["provider_id"],
                active=action == "enable",
            )
            if not changed:
                raise CommandError("No identity with that channel and provider id")
            self.stdout.write(self.style.SUCCESS(f"{action}d"))
