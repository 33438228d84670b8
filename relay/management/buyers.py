"""Finding a buyer for `export_user` / `delete_user`: by address, with the code they received.

An operator cannot act for a buyer without them: the first run (no --code) sends a code to the
buyer through the relay and says so; the buyer reads it to the operator, who runs again with
--code. Unknown addresses are named as such: anyone who can run these commands holds the
index key and the database, so they can test an address anyway; hiding it would only make
honest mistakes (a typo) harder to see. The address itself is never printed.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.models import Channel, Endpoint
from contacts.services import ContactsError, InvalidPhoneNumber
from relay.services import data_requests

BUYER_CHANNELS = [Channel.WHATSAPP, Channel.SMS, Channel.MESSENGER, Channel.INSTAGRAM]


def add_buyer_arguments(parser: CommandParser) -> None:
    parser.add_argument(
        "--channel", choices=[str(channel) for channel in BUYER_CHANNELS], help="a buyer's app"
    )
    parser.add_argument("--address", help="the buyer's number (E.164) or platform id")
    parser.add_argument("--code", help="the code the buyer received after the first run")


def buyer_from_options(
    command: BaseCommand, options: dict[str, Any], *, consume: bool
) -> Endpoint | None:
    """The buyer's endpoint once their code checks out; None when a code was just sent."""
    channel, address = options.get("channel"), options.get("address")
    if not channel or not address:
        raise CommandError("Give --username (a seller), or --channel and --address (a buyer).")
    try:
        endpoint = data_requests.find_endpoint(channel=channel, raw_address=address)
    except (InvalidPhoneNumber, ContactsError) as error:
        raise CommandError(error.message) from None
    if endpoint is None:
        raise CommandError(f"No buyer has written to the relay from that address on {channel}.")
    if not options.get("code"):
        if not data_requests.send_code_to(endpoint=endpoint):
            raise CommandError("Too many codes went to this address in the last hour. Try later.")
        command.stdout.write(
            f"A code is on its way to the buyer on {channel}. Ask them for it, then run this "
            "again with --code <the code>."
        )
        return None
    try:
        data_requests.check_code_for_operator(
            endpoint=endpoint, code=options["code"], consume=consume
        )
    except data_requests.DataRequestError as error:
        raise CommandError(error.message) from None
    return endpoint
