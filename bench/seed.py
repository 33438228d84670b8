"""Create the bench's sellers and listings through the services; print them as JSON.

Run as `python -m bench.seed SPEC_JSON` with the bench environment (DATABASE_URL etc.). SPEC is
{"sellers": [{"key", "channel", "address", "listings"}]}. Buyers are not created here: their
first message (with a listing handle) creates them, as in production.
"""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from contacts import services as contacts
    from contacts.models import User
    from marketplace import services as marketplace
    from marketplace.handles import live_handle

    spec = json.loads(sys.argv[1])
    call_command("seed_demo", identities_only=True, verbosity=0, stdout=open(os.devnull, "w"))
    out: dict[str, list[dict[str, str]]] = {}
    with transaction.atomic():
        for seller_spec in spec["sellers"]:
            key = seller_spec["key"]
            user = User.objects.filter(username=key).first()
            if user is None:
                user = contacts.register_user(
                    username=key, email=f"{key}@bench.invalid", password="bench-" + key * 2
                )
            endpoint, _created = contacts.get_or_create_endpoint(
                channel=seller_spec["channel"], address=seller_spec["address"]
            )
            if endpoint.user_id is None:
                contacts.claim_endpoint(user=user, endpoint=endpoint)
            contacts.set_preferred_endpoint(user=user, endpoint=endpoint)
            listings = []
            existing = list(user.listings.all()) if hasattr(user, "listings") else []
            for number in range(seller_spec["listings"]):
                if number < len(existing):
                    listing = existing[number]
                else:
                    listing = marketplace.create_listing(
                        seller=user,
                        title=f"Bench item {key}-{number}",
                        price=Decimal("100000") + number,
                        city="Jakarta",
                    )
                handle = live_handle(listing)
                assert handle is not None
                listings.append({"listing_id": str(listing.pk), "handle": handle.display})
            out[key] = listings
    print("BENCH-SEED " + json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
