"""Conversations: opening them, their keys, relay identities from the pool.

Their status changes only in relay/services/lifecycle.py."""

from __future__ import annotations

import secrets

from django.db.models import Count

from config import hotsql
from contacts import services as contacts
from contacts.models import Channel, Endpoint
from marketplace.models import Listing
from relay import crypto
from relay.models import Conversation, RelayIdentity, Side
from relay.services import snapshot

TAG_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _new_tag() -> str:
    return "".join(secrets.choice(TAG_ALPHABET) for _ in range(4))


def recipient_endpoint_for_seller(listing: Listing) -> Endpoint:
    """The seller's preferred endpoint if the relay can reach it, else their web inbox."""
    # This runs for every message to a seller.
    endpoints = contacts.endpoints_where(
        "e.user_id = %s AND e.verified ORDER BY e.id", [listing.seller_id]
    )
    preferred = next((e for e in endpoints if e.preferred), None)
    if preferred is not None and (
        preferred.channel == Channel.WEB or pick_identity(preferred.channel) is not None
    ):
        return preferred
    web = next((e for e in endpoints if e.channel == Channel.WEB), None)
    if web is None:
        web = contacts.create_web_endpoint(user=listing.seller)
    return web


def pick_identity(channel: str, *, seller_id: int | None = None) -> RelayIdentity | None:
    """An active identity on the channel; for a seller, the one they have fewest open
    conversations on, so plain replies route without tags when the pool allows."""
    hot = snapshot.current()
    identities = sorted(
        (i for (c, _p), i in hot.identities.items() if c == channel), key=lambda i: i.pk
    )
    if seller_id is not None and len(identities) > 1:
        loads = dict(
            Conversation.objects.filter(
                listing__seller_id=seller_id,
                status=Conversation.Status.OPEN,
                seller_identity__channel=channel,
            )
            .values_list("seller_identity_id")
            .annotate(n=Count("id"))
            .values_list("seller_identity_id", "n")
        )
        return min(identities, key=lambda i: loads.get(i.pk, 0), default=None)
    return identities[0] if identities else None


def create_conversation(
    *,
    listing: Listing,
    buyer: Endpoint,
    buyer_identity: RelayIdentity | None,
    new_buyer: bool = False,
) -> tuple[Conversation, bool]:
    """Open a new conversation; if a concurrent first message won, return that one.

    `new_buyer`: the buyer's endpoint was created in this transaction (it has no tags yet)."""
    seller_endpoint = recipient_endpoint_for_seller(listing)
    seller_identity = None
    if seller_endpoint.channel != Channel.WEB:
        seller_identity = pick_identity(seller_endpoint.channel, seller_id=listing.seller_id)
    # A tag must be unique among each participant's conversations (it routes "#TAG" replies).
    # Two indexed lookups, not one OR across the listing join (a scan of every conversation).
    tag = _new_tag()
    for _attempt in range(8):
        clash = hotsql.fetch_one(
            "SELECT 1 FROM relay_conversation AS c JOIN marketplace_listing AS l "
            "ON l.id = c.listing_id WHERE l.seller_id = %s AND c.tag = %s LIMIT 1",
            [listing.seller_id, tag],
        ) or (
            not new_buyer
            and hotsql.fetch_one(
                "SELECT 1 FROM relay_conversation "
                "WHERE buyer_endpoint_id = %s AND tag = %s LIMIT 1",
                [buyer.pk, tag],
            )
        )
        if not clash:
            break
        tag = _new_tag()
    conversation = Conversation(
        listing=listing,
        buyer_endpoint=buyer,
        tag=tag,
        buyer_identity=buyer_identity,
        seller_identity=seller_identity,
        next_seq=2,  # 1 is reserved for the message that opens it: no UPDATE for it
    )
    conversation.wrapped_key = crypto.new_wrapped_key(conversation.code)
    if not hotsql.insert(conversation, ignore_conflicts=True):
        # The buyer's two first messages raced; the other one opened it.
        return Conversation.objects.get(listing=listing, buyer_endpoint=buyer), False
    conversation.opening_seq = 1
    conversation.opening_seller_endpoint = seller_endpoint
    return conversation, True


def side_of(conversation: Conversation, endpoint: Endpoint) -> str | None:
    if conversation.buyer_endpoint_id == endpoint.pk:
        return Side.BUYER
    if endpoint.user_id is not None and endpoint.user_id == conversation.listing.seller_id:
        return Side.SELLER
    return None
