"""Erase a person's data: a seller's account, or a buyer's addresses and what they wrote."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.models import Endpoint, User
from relay.management.buyers import add_buyer_arguments, buyer_from_options
from relay.management.progress import ProgressBar
from relay.models import Conversation
from relay.services import accounts


class Command(BaseCommand):
    help = (
        "Delete a person's data on their request. A seller (--username): shreds the keys of "
        "every conversation on their listings, overwrites their addresses, deletes their "
        "handles, closes their listings and anonymises and deactivates the account. A buyer "
        "(--channel, --address and the --code the relay sent them): overwrites what they wrote, "
        "closes their conversations, shreds report evidence about them and overwrites their "
        "address. Cannot be undone."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", help="a seller's account")
        add_buyer_arguments(parser)
        parser.add_argument("--yes", action="store_true", help="confirm; nothing happens without")

    def handle(self, *args: Any, **options: Any) -> None:
        if options.get("username"):
            self._seller(options["username"], confirmed=options["yes"])
            return
        # The code is used up only by the run that erases, so a run without --yes can show
        # what would go and the same code still works with --yes.
        endpoint = buyer_from_options(self, options, consume=options["yes"])
        if endpoint is not None:
            self._buyer(endpoint, confirmed=options["yes"])

    def _buyer(self, endpoint: Endpoint, *, confirmed: bool) -> None:
        if endpoint.user_id is not None:
            raise CommandError("That address belongs to a seller account: use --username.")
        conversations = Conversation.objects.filter(buyer_endpoint=endpoint).count()
        if not confirmed:
            raise CommandError(
                f"This erases this buyer's data for good ({conversations} conversations on "
                f"{endpoint.channel}). Run again with the same --code and --yes to do it."
            )
        bar = ProgressBar(self.stderr, accounts.ERASE_ENDPOINT_STEPS, label="steps")
        summary = accounts.erase_endpoint_data(endpoints=[endpoint], progress=bar.advance)
        bar.finish()
        self.stdout.write(
            f"Erased the buyer: overwrote {summary.messages_overwritten} messages, closed "
            f"{summary.conversations_closed} conversations, deleted {summary.photos_deleted} "
            "photos, cancelled "
            f"{summary.deliveries_cancelled} deliveries, shredded the evidence of "
            f"{summary.reports_shredded} reports ({summary.reports_held} kept under a legal "
            f"hold), erased {summary.endpoints_erased} address."
        )

    def _seller(self, username: str, *, confirmed: bool) -> None:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not confirmed:
            raise CommandError(
                f"This erases {user.username}'s data for good "
                f"({user.listings.count()} listings, {user.endpoints.count()} endpoints). "
                "Run again with --yes to do it."
            )
        bar = ProgressBar(self.stderr, accounts.ERASE_STEPS, label="steps")
        summary = accounts.erase_user(user=user, progress=bar.advance)
        bar.finish()
        self.stdout.write(
            f"Deleted {username}: shredded {summary.conversations_shredded} conversations, "
            f"overwrote {summary.messages_overwritten} messages sent elsewhere, deleted "
            f"{summary.photos_deleted} photos and {summary.listing_photos_deleted} listing photos, "
            "erased "
            f"{summary.endpoints_erased} endpoints, cancelled {summary.deliveries_cancelled} "
            f"deliveries, deleted {summary.handles_deleted} handles, closed "
            f"{summary.listings_closed} listings, shredded the evidence of "
            f"{summary.reports_shredded} reports ({summary.reports_held} kept under a legal "
            f"hold); the account is now {user.username} (inactive)."
        )
