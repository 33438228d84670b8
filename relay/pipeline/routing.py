"""Which conversation a message belongs to: the routing rules, first that applies wins.

1. written_in      — the web inbox, the API and a web chat write in a known conversation.
2. web_chat_start  — a web-chat buyer starts on a listing's page: open or reuse (listing, buyer).
3. reply_context   — it quotes a message the relay sent (context.id, reply_to.mid).
4. tag             — it starts with a conversation's #TAG.
5. referral        — a deep link's ref (m.me / ig.me ?ref=<handle>, WhatsApp referral) names
                     the listing; a referral without text is remembered for the next message.
6. remembered_referral — the first message after such a referral: that listing.
7. identity_pool   — exactly one conversation pairs the sender with this relay identity
                     (the Twilio Proxy rule), unless a handle for another listing is typed.
8. handle          — it carries a listing handle: open or reuse (listing, sender).
9. nothing applies — the sender hears why (help, unknown handle, ambiguous); nothing is
                     forwarded by guess.

A rule answers None (does not apply), a Stop (the sender hears why), or fills the context's
conversation and side. Must run inside the pipeline's transaction: rules may open a
conversation.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache

from config import hotsql
from contacts import services as contacts
from contacts.models import Endpoint
from marketplace import handles
from marketplace.models import Listing, RelayHandle
from relay import crypto
from relay.models import Conversation, RelayIdentity, Side
from relay.pipeline.types import Context, Notice, Outcome, Stop
from relay.services import limits
from relay.services.conversations import create_conversation, side_of

TAG = re.compile(r"^\s*#([0-9A-Za-z]{4})(?![0-9A-Za-z])\s*")
Rule = Callable[[Context], Stop | bool]


def _routed(ctx: Context, conversation: Conversation, text: str | None = None) -> bool:
    ctx.conversation = conversation
    ctx.side = side_of(conversation, ctx.sender) if ctx.sender else None
    ctx.body = ctx.text if text is None else text
    return True


def _not_routed(code: str, **params: str) -> Stop:
    return Stop(Outcome.NOT_ROUTED, Notice(code, params))


def written_in(ctx: Context) -> Stop | bool:
    """The web inbox, the API and a web-chat follow-up name their conversation."""
    conversation = ctx.submission.conversation
    return conversation is not None and _routed(ctx, conversation)


def web_chat_start(ctx: Context) -> Stop | bool:
    """A web-chat buyer writes from a listing's page: that listing, as if by its handle."""
    listing = ctx.submission.listing
    if listing is None:
        return False
    return _open_on_listing(ctx, listing)


def reply_context(ctx: Context) -> Stop | bool:
    """A quoted relay message routes to its conversation."""
    event = ctx.submission.event
    if event is None or not event.reply_to_provider_id or ctx.new_sender:
        return False
    assert ctx.sender is not None
    quoted = _conversations(
        "c.id = (SELECT q.conversation_id FROM relay_delivery AS q WHERE q.channel = %s "
        "AND q.provider_message_id = %s AND q.recipient_endpoint_id = %s "
        "AND q.conversation_id IS NOT NULL LIMIT 1)",
        [ctx.sender.channel, crypto.provider_key(event.reply_to_provider_id), ctx.sender.pk],
    )
    return bool(quoted) and _routed(ctx, quoted[0], TAG.sub("", ctx.text, count=1))


def tag(ctx: Context) -> Stop | bool:
    """ "#K7Q2 see you at 5" routes to the sender's conversation tagged K7Q2."""
    match = TAG.match(ctx.text)
    if match is None or ctx.new_sender or ctx.sender is None:
        return False
    tagged = _sender_conversations(ctx.sender, "c.tag = %s", [match.group(1).upper()])
    return bool(tagged) and _routed(ctx, tagged[0], ctx.text[match.end() :])


def referral(ctx: Context) -> Stop | bool:
    """A deep link's ref names the listing (m.me/<page>?ref=<handle> and ig.me/m/<account>?ref=
    arrive as a referral or a Get Started postback; WhatsApp's as `referral`). With text, it is
    that listing's message; alone, it is remembered for the sender's next message, which then
    needs no handle."""
    event = ctx.submission.event
    code = handles.normalize(event.referral) if event and event.referral else None
    if code is None:
        return False
    found = _first_live_handle([handles.HandleCandidate(code=code, deliberate=True)])
    if found is None:
        return _not_routed("unknown_handle", handle=handles.display(code))
    if ctx.text and handles.normalize(ctx.text) != code:  # more than the ref itself
        ctx.wrote_handle = True
        return _open_on_listing(ctx, found.listing, found)
    assert ctx.sender is not None
    contacts.remember_referral(endpoint=ctx.sender, code=found.code)
    return Stop(Outcome.REFERRED, Notice("referral_noted", {"title": found.listing.public_title}))


def remembered_referral(ctx: Context) -> Stop | bool:
    """The first message after a referral goes to the listing the link named."""
    # The code rides on the sender's row, which every inbound message loads anyway.
    if ctx.sender is None or not ctx.sender.pending_referral:
        return False
    code = contacts.recall_referral(endpoint=ctx.sender)
    found = _first_live_handle([handles.HandleCandidate(code=code, deliberate=True)])
    if found is None:
        return False
    ctx.wrote_handle = True
    return _open_on_listing(ctx, found.listing, found)


def identity_pool(ctx: Context) -> Stop | bool:
    """One conversation pairs the sender with this relay identity: it is that one. A handle
    typed for another listing starts a new conversation instead (a second item)."""
    if ctx.identity is None or ctx.new_sender or ctx.sender is None:
        return False
    handle = _typed_handle(ctx)
    here = _pool(ctx.sender, ctx.identity, Conversation.Status.OPEN)
    if not here and handle is None:
        # None open: one that ended routes, so its sender hears how it ended.
        ended = _pool(ctx.sender, ctx.identity, None)
        here = ended if len(ended) == 1 else []
    if len(here) == 1 and (handle is None or handle.listing_id == here[0].listing_id):
        return _routed(ctx, here[0])
    if len(here) > 1 and handle is None:
        return _not_routed("ambiguous", tags=", #".join(c.tag for c in here))
    return False


def handle(ctx: Context) -> Stop | bool:
    """A listing handle in the text opens or reuses the conversation (listing, sender)."""
    found = _typed_handle(ctx)
    if found is None:
        return False
    if found.status == RelayHandle.Status.RETIRED:
        return _not_routed("handle_rotated", handle=found.display)
    ctx.wrote_handle = True
    return _open_on_listing(ctx, found.listing, found)


def nothing_applies(ctx: Context) -> Stop | bool:
    """An unknown handle typed deliberately is told so (and counted); else help."""
    assert ctx.sender is not None
    deliberate = next((c for c in _candidates(ctx) if c.deliberate), None)
    if deliberate is None:
        return _not_routed("help")
    if not limits.allow_unknown_handle(ctx.sender):
        return Stop(Outcome.RATE_LIMITED, Notice("slow_down"))
    return _not_routed("unknown_handle", handle=handles.display(deliberate.code))


RULES: tuple[Rule, ...] = (
    written_in,
    web_chat_start,
    reply_context,
    tag,
    referral,
    remembered_referral,
    identity_pool,
    handle,
    nothing_applies,
)


def route(ctx: Context) -> Stop | None:
    """Run the rules in order; None once the context names its conversation."""
    for rule in RULES:
        answer = rule(ctx)
        if isinstance(answer, Stop):
            return answer
        if answer:
            return None
    raise AssertionError("nothing_applies always answers")


# --- Opening a conversation on a listing ----------------------------------------------------------


def _open_on_listing(
    ctx: Context, listing: Listing, found: RelayHandle | None = None
) -> Stop | bool:
    """Reuse the sender's live conversation on the listing, or open one within the limits."""
    assert ctx.sender is not None
    if (found is not None and found.status != RelayHandle.Status.ACTIVE) or not listing.is_open:
        return _not_routed("handle_paused", title=listing.public_title)
    if ctx.sender.user_id is not None and ctx.sender.user_id == listing.seller_id:
        return _not_routed("own_listing")
    existing = (
        []
        if ctx.new_sender
        else _conversations(
            "c.listing_id = %s AND c.buyer_endpoint_id = %s AND c.status <> 'closed'",
            [listing.pk, ctx.sender.pk],
        )
    )
    if existing:
        ctx.wrote_handle = True
        return _routed(ctx, existing[0])
    if not _allow_new_conversation(ctx):
        return Stop(Outcome.RATE_LIMITED, Notice("slow_down"))
    if not limits.allow_first_contact(listing.pk):
        return Stop(Outcome.RATE_LIMITED, Notice("listing_busy", {"title": listing.public_title}))
    conversation, created = create_conversation(
        listing=listing, buyer=ctx.sender, buyer_identity=ctx.identity, new_buyer=ctx.new_sender
    )
    ctx.created = created
    _routed(ctx, conversation)
    ctx.side = Side.BUYER
    return True


def _allow_new_conversation(ctx: Context) -> bool:
    assert ctx.sender is not None
    if not limits.allow_new_conversation(ctx.sender):
        return False
    network = ctx.submission.network_key
    return not network or limits.allow_web_chat(
        browser_key=ctx.sender.blind_index, network_key=network
    )


# --- Lookups (plain SQL: these run on every inbound message, config/hotsql.py) -----------------


def _candidates(ctx: Context) -> list[handles.HandleCandidate]:
    if ctx.candidates is None:
        ctx.candidates = handles.find_candidates(ctx.text)
    return ctx.candidates


def _typed_handle(ctx: Context) -> RelayHandle | None:
    if ctx.typed_handle is False:
        ctx.typed_handle = _first_live_handle(_candidates(ctx))
    return ctx.typed_handle


@cache
def _conversation_sql() -> str:
    return (
        f"SELECT {hotsql.columns(Conversation, 'c')}, {hotsql.columns(Listing, 'l')} "  # noqa: S608
        "FROM relay_conversation AS c JOIN marketplace_listing AS l ON l.id = c.listing_id "
        "WHERE "
    )


def _conversations(condition: str, params: list[object], limit: int = 1) -> list[Conversation]:
    """Conversations with their listing. Only the listing is joined: each join costs planning
    time."""
    rows = hotsql.fetch_all(
        f"{_conversation_sql()}{condition} ORDER BY c.id LIMIT {int(limit)}", params
    )
    found = []
    for row in rows:
        conversation, listing = hotsql.split(row, Conversation, Listing)
        conversation.listing = listing
        found.append(conversation)
    return found


def _sides(sender: Endpoint) -> list[tuple[str, list[object]]]:
    """The conditions that make the sender a participant: as the buyer, and as the seller
    when the endpoint is a verified one of theirs. Two indexed queries rather than one OR
    across the listing join, which PostgreSQL can only answer by scanning."""
    sides: list[tuple[str, list[object]]] = [("c.buyer_endpoint_id = %s", [sender.pk])]
    if sender.user_id is not None and sender.verified:
        sides.append(("l.seller_id = %s", [sender.user_id]))
    return sides


def _sender_conversations(
    sender: Endpoint, condition: str, params: list[object]
) -> list[Conversation]:
    for side_condition, side_params in _sides(sender):
        found = _conversations(f"{side_condition} AND {condition}", [*side_params, *params])
        if found:
            return found
    return []


def _pool(sender: Endpoint, identity: RelayIdentity, status: str | None) -> list[Conversation]:
    """Up to two conversations pairing the sender with this relay identity."""
    column = {0: "c.buyer_identity_id", 1: "c.seller_identity_id"}
    found: list[Conversation] = []
    for index, (condition, params) in enumerate(_sides(sender)):
        condition = f"{condition} AND {column[index]} = %s"
        params = [*params, identity.pk]
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
        found_handle, listing = hotsql.split(row, RelayHandle, Listing)
        found_handle.listing = listing
        found[found_handle.code] = found_handle
    for candidate in candidates:
        if candidate.code in found:
            return found[candidate.code]
    return None
