"""Seed the demo: the sandbox's relay identities, a seller with three listings, a moderator.

Idempotent: running it again keeps what exists and prints the same credentials.

The accounts have a public password (it is printed, and in this file), so seeding them is refused
unless DEBUG is on; `--identities-only` (the bench's use) adds only the sandbox's relay identities
and creates no account.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from contacts import services as contacts
from contacts.models import MODERATOR_GROUP, User
from marketplace import services as marketplace
from marketplace.models import Listing
from relay import services as relay

DEMO_PASSWORD = "perantara-demo"
LISTINGS = [
    ('Polygon mountain bike, 27.5"', Decimal("3500000"), "Bandung", "Ridden twice. Frame M."),
    ("Rice cooker Miyako 1.8 L", Decimal("250000"), "Jakarta Selatan", "Works perfectly."),
    ("Mechanical keyboard (Keychron K2)", Decimal("900000"), "Yogyakarta", "Brown switches."),
]


class Command(BaseCommand):
    help = "Create the demo seller, listings, moderator and the sandbox's relay identities."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fixture",
            default=str(Path(settings.BASE_DIR) / "sandbox" / "demo.json"),
            help="the sandbox fixture naming identities and demo people",
        )
        parser.add_argument(
            "--identities-only",
            action="store_true",
            help="add the sandbox's relay identities only: no accounts (allowed without DEBUG)",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["identities_only"]:
            raise CommandError(
                "seed_demo creates accounts with the public password "
                f"{DEMO_PASSWORD!r}: it runs only with DEBUG=1 (the demo). "
                "Use --identities-only to add the sandbox's relay identities alone."
            )
        fixture = json.loads(Path(options["fixture"]).read_text())
        for identity in fixture.get("identities", []):
            relay.add_relay_identity(
                channel=identity["channel"],
                provider_id=identity["provider_id"],
                address=identity["address"],
                label=identity.get("label", ""),
            )
        if options["identities_only"]:
            return
        seller = self._seed_seller(fixture)
        moderator = User.objects.filter(username="moderator").first()
        if moderator is None:
            moderator = User.objects.create_user(
                username="moderator", email="moderator@example.com", password=DEMO_PASSWORD
            )
        seed_moderator_groups(moderator)
        self.stdout.write(self.style.SUCCESS("Demo ready."))
        self.stdout.write(f"  Seller:    sari / {DEMO_PASSWORD}")
        self.stdout.write(f"  Moderator: moderator / {DEMO_PASSWORD}")
        for listing in Listing.objects.filter(seller=seller):
            handle = listing.handles.exclude(status="retired").first()
            self.stdout.write(
                f"  Listing {listing.title!r}: handle {handle.display if handle else '-'}"
            )

    def _seed_seller(self, fixture: dict[str, Any]) -> User:
        seller = User.objects.filter(username="sari").first()
        if seller is None:
            seller = contacts.register_user(
                username="sari",
                email="sari@example.com",
                password=DEMO_PASSWORD,
                display_name="Sari (demo seller)",
            )
            for title, price, city, description in LISTINGS:
                marketplace.create_listing(
                    seller=seller, title=title, price=price, city=city, description=description
                )
        # The demo seller's phones in the sandbox: Instagram is preferred, WhatsApp connected.
        for person in fixture.get("people", []):
            if person["key"].startswith("sari"):
                endpoint, _created = contacts.get_or_create_endpoint(
                    channel=person["channel"], address=person["address"]
                )
                if endpoint.user_id is None:
                    contacts.claim_endpoint(user=seller, endpoint=endpoint)
        preferred = seller.endpoints.filter(channel="instagram").first()
        if preferred is not None:
            contacts.set_preferred_endpoint(user=seller, endpoint=preferred)
        return seller


def seed_moderator_groups(moderator: User) -> None:
    from django.contrib.auth.models import Group

    group, _created = Group.objects.get_or_create(name=MODERATOR_GROUP)
    moderator.groups.add(group)
