"""Which conversation an inbound message belongs to (DESIGN.md, "Routing an inbound message").

Rules, first that applies: reply context, conversation tag, identity pool, listing handle.
Otherwise the sender gets a notice; nothing is forwarded by guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from django.db.models import Q

from config import hotsql
from contacts.models import Endpoint
from marketplace.models import Listing
from relay import crypto, handles
from relay.models import Conversation, RelayHandle, RelayIdentity
from relay.services import limits
from relay.services.conversations import create_conversation, reopen, side_of

TAG = re.compile(r"^\s*#([0-9A-Za-z]{4})(?![0-9A-Za-z])\s*")


@dataclass
class Route:
    conversation: Conversation | None = None
    side: str | None = None
    text: str = ""  # the text to relay (a leading #TAG removed)
    created: bool = False
    notice: str | None = None  # why nothing routes: a notice code
    notice_params: dict[str, str] = field(default_factory=dict)


def _participant_filter(sender: Endpoint) -> Q:
    condition = Q(buyer_endpoint=sender)
    if sender.user_id is not None and sender.verified:
        condition |= Q(listing__seller_id=sender.user_id)
    return condition


def route_inbound(
    *,
    sender: Endpoint,
    identity: RelayIdentity | None,
    text: str,
    reply_to: str | None,
    new_sender: bool = False,
) -> Route:
    """Must be called inside `transaction.atomic()`: rule 4 may open a conversation.

    `new_sender`: the sender's endpoint was created in this transaction, so no conversation
    can hold it yet and the lookups that would find one are skipped."""
    # 1. Reply context: the sender quoted a message the relay sent them.
    if reply_to and not new_sender:
        quoted = _conversations(
            "c.id = (SELECT q.conversation_id FROM relay_delivery AS q WHERE q.channel = %s "
            "AND q.provider_message_id = %s AND q.recipient_endpoint_id = %s "
            "AND q.conversation_id IS NOT NULL LIMIT 1)",
            [sender.channel, crypto.provider_key(reply_to), sender.pk],
        )
        if quoted:
            conversation = quoted[0]
            return Route(conversation, side_of(conversation, sender), TAG.sub("", text, count=1))

    # 2. Tag: "#K7Q2 see you at 5".
    tag_match = TAG.match(text)
    if tag_match and not new_sender:
        tagged = (
            Conversation.objects.select_related("listing")
            .filter(_participant_filter(sender), tag=tag_match.group(1).upper())
            .first()
        )
        if tagged is not None:
            return Route(tagged, side_of(tagged, sender), text[tag_match.end() :])

    # A handle typed deliberately for another listing starts a new conversation even when the
    # pool would route (rule 4 before 3 in that one case): a buyer asking about a second item.
    candidates = handles.find_candidates(text)
    handle = _first_live_handle(candidates)

    # 3. Identity pool: exactly one open conversation pairs the sender with this identity.
    if identity is not None and not new_sender:
        open_here = _pool(sender, identity, Conversation.Status.OPEN)
        if not open_here and handle is None:
            # Only ended conversations here: route to one so its sender hears it has ended.
            ended = _pool(sender, identity, None)
            open_here = ended if len(ended) == 1 else []
        if len(open_here) == 1 and (handle is None or handle.listing_id == open_here[0].listing_id):
            conversation = open_here[0]
            return Route(conversation, side_of(conversation, sender), text)
        if len(open_here) > 1 and handle is None:
            tags = ", #".join(c.tag for c in open_here)
            return Route(notice="ambiguous", notice_params={"tags": tags})

    # 4. Handle: open or reuse the conversation (listing, sender).
    if handle is not None:
        listing = handle.listing
        if handle.status == RelayHandle.Status.RETIRED:
            return Route(notice="handle_rotated", notice_params={"handle": handle.display})
        if handle.status != RelayHandle.Status.ACTIVE or not listing.is_open:
            return Route(notice="handle_paused", notice_params={"title": listing.title})
        if sender.user_id is not None and sender.user_id == listing.seller_id:
            return Route(notice="own_listing")
        found = (
            []
            if new_sender
            else _conversations(
                "c.listing_id = %s AND c.buyer_endpoint_id = %s", [listing.pk, sender.pk]
            )
        )
        existing = found[0] if found else None
        if existing is not None:
            return Route(reopen(existing), "buyer", text)
        if not limits.allow_new_conversation(sender):
            return Route(notice="slow_down")
        conversation, created = create_conversation(
            listing=listing, buyer=sender, buyer_identity=identity, new_buyer=new_sender
        )
        return Route(conversation, "buyer", text, created=created)
    deliberate = next((c for c in candidates if c.deliberate), None)
    if deliberate is not None:
        if not limits.allow_unknown_handle(sender):
            return Route(notice="slow_down")
        return Route(
            notice="unknown_handle", notice_params={"handle": handles.display(deliberate.code)}
        )
    # 5. Nothing applies.
    return Route(notice="help")


@cache
def _conversation_sql() -> str:
    return (
        f"SELECT {hotsql.columns(Conversation, 'c')}, {hotsql.columns(Listing, 'l')} "  # noqa: S608
        "FROM relay_conversation AS c JOIN marketplace_listing AS l ON l.id = c.listing_id "
        "WHERE "
    )


def _conversations(condition: str, params: list[object], limit: int = 1) -> list[Conversation]:
    """Conversations with their listing, in plain SQL: these run on every inbound message
    (config/hotsql.py). Only the listing is joined, as each join costs planning time."""
    rows = hotsql.fetch_all(
        f"{_conversation_sql()}{condition} ORDER BY c.id LIMIT {int(limit)}", params
    )
    found = []
    for row in rows:
        conversation, listing = hotsql.split(row, Conversation, Listing)
        conversation.listing = listing
        found.append(conversation)
    return found


def _pool(sender: Endpoint, identity: RelayIdentity, status: str | None) -> list[Conversation]:
    """Up to two conversations pairing the sender with this relay identity.

    Two indexed queries rather than one OR across the listing join, which PostgreSQL can only
    answer by scanning every conversation.
    """
    sides: list[tuple[str, list[object]]] = [
        ("c.buyer_endpoint_id = %s AND c.buyer_identity_id = %s", [sender.pk, identity.pk])
    ]
    if sender.user_id is not None and sender.verified:
        sides.append(
            ("l.seller_id = %s AND c.seller_identity_id = %s", [sender.user_id, identity.pk])
        )
    found: list[Conversation] = []
    for condition, params in sides:
        if status is not None:
            condition, params = f"{condition} AND c.status = %s", [*params, status]
        known = {c.pk for c in found}
        found.extend(
            c for c in _conversations(condition, params, limit=2 - len(found)) if c.pk not in known
        )
        if len(found) >= 2:
            break
    return found


@cache
def _handle_sql() -> str:
    return (
        f"SELECT {hotsql.columns(RelayHandle, 'h')}, {hotsql.columns(Listing, 'l')} "  # noqa: S608
        "FROM relay_relayhandle AS h JOIN marketplace_listing AS l ON l.id = h.listing_id "
        "WHERE h.code IN "
    )


def _first_live_handle(candidates: list[handles.HandleCandidate]) -> RelayHandle | None:
    if not candidates:
        return None
    codes = [c.code for c in candidates]
    found = {}
    for row in hotsql.fetch_all(f"{_handle_sql()}({', '.join(['%s'] * len(codes))})", codes):
        handle, listing = hotsql.split(row, RelayHandle, Listing)
        handle.listing = listing
        found[handle.code] = handle
    for candidate in candidates:
        if candidate.code in found:
            return found[candidate.code]
    return None
