"""Opt-outs and refusals: Twilio's reserved keywords act on the whole relay number for that
person, and a platform's "this person will not receive from you" stops the relay trying too.

Twilio answers STOP, STOPALL, UNSUBSCRIBE, CANCEL, END and QUIT itself and from then on
refuses every message from that number to that person with error 21610, until they send START,
YES or UNSTOP (https://help.twilio.com/articles/223134027). The relay keeps the same record so
it never tries: every open conversation of that person on that number ends (the other side is
told), and nothing is sent there until they opt back in.
"""

from __future__ import annotations

from django.db.models import Q

from contacts.models import Endpoint
from relay.models import Conversation, RelayIdentity, Side, SmsOptOut
from relay.services import lifecycle


def opted_out(*, endpoint: Endpoint | int, identity: RelayIdentity | int) -> bool:
    return SmsOptOut.objects.filter(endpoint=endpoint, identity=identity).exists()


def _conversations_on(
    endpoint: Endpoint, identity: RelayIdentity
) -> list[tuple[Conversation, str]]:
    """The person's conversations on this relay number, with their side in each."""
    as_buyer = Q(buyer_endpoint=endpoint, buyer_identity=identity)
    found: list[tuple[Conversation, str]] = [
        (conversation, Side.BUYER)
        for conversation in Conversation.objects.select_related("listing").filter(as_buyer)
    ]
    if endpoint.user_id is not None and endpoint.verified:
        found += [
            (conversation, Side.SELLER)
            for conversation in Conversation.objects.select_related("listing").filter(
                listing__seller_id=endpoint.user_id, seller_identity=identity
            )
        ]
    return found


def opt_out(*, endpoint: Endpoint, identity: RelayIdentity) -> None:
    """Record the carrier opt-out and end the person's open conversations on that number."""
    SmsOptOut.objects.get_or_create(endpoint=endpoint, identity=identity)
    for conversation, side in _conversations_on(endpoint, identity):
        if conversation.status == lifecycle.Status.OPEN:
            lifecycle.end(conversation, by_side=side)


def opt_in(*, endpoint: Endpoint, identity: RelayIdentity) -> None:
    """START, YES or UNSTOP: sends are allowed again and what the opt-out ended resumes."""
    SmsOptOut.objects.filter(endpoint=endpoint, identity=identity).delete()
    for conversation, side in _conversations_on(endpoint, identity):
        if lifecycle.can_resume(conversation, side):
            lifecycle.resume(conversation, by_side=side)


def record_carrier_refusal(*, endpoint_id: int, identity_id: int) -> None:
    """The platform refused the send because of the recipient (Twilio 21610, Meta's "not
    available" 551, WhatsApp 131026): remember it, so nothing more is tried there."""
    SmsOptOut.objects.get_or_create(endpoint_id=endpoint_id, identity_id=identity_id)


def wrote_again(*, endpoint: Endpoint, identity: RelayIdentity) -> None:
    """On WhatsApp, Messenger and Instagram a person who writes to us can be written to again
    (a block lifted, the app back): forget a refusal. On SMS only START does (Twilio's rule)."""
    if endpoint.channel != "sms":
        SmsOptOut.objects.filter(endpoint=endpoint, identity=identity).delete()
