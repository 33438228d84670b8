"""Franked report evidence: what a reporter's browser shows the relay, checked (DESIGN.md,
"Franking"; the byte layouts are relay/franking.py's).

The web roads post `franked`, a JSON list of {"message", "m", "kf", "ctx", "r"} that the
reporter's browser gathered from the end-to-end messages it opened. Each claim is checked on
its own and becomes one evidence item, verified or not, with the reason in a word the
moderator's page puts into plain language (relay/services/evidence_labels.py). A report is
never refused because of its evidence: a harassment report must not be lost to a browser bug,
so what cannot be read is kept as an unverified claim (or, when nothing of it can be read, as
one note saying so) and the reporter is told.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hmac
import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from relay import franking
from relay.models import Conversation, Message, Side

FRANKED = "franked"
RELAY_SEALED = "relay_sealed"
NOTE = "note"
NO_FRANKED = "no_franked"  # an E2EE conversation reported without a verifiable message
UNREADABLE = "unreadable"  # the whole `franked` field could not be read

# Reasons of an unverified claim, beyond franking.Verdict's ("commitment", "tag", "context",
# "conversation", "malformed").
COMMITMENT = "commitment"  # the text or its franking key differ from what was sent
ALTERED_CONTEXT = "altered_context"  # the relay's context (sender, time, …) was changed
NOT_IN_CONVERSATION = "not_in_conversation"
NOT_REPORTED_SIDE = "not_reported_side"
STORED_MISMATCH = "stored_mismatch"
DUPLICATE = "duplicate"
TOO_MANY = "too_many"


def max_field_bytes() -> int:
    """The largest `franked` field read: N messages of the longest text, UTF-8, in base64
    and JSON, with room for the keys and the context."""
    per_item = 4 * settings.RELAY_MAX_TEXT_CHARS * 2 + 2048
    return int(settings.RELAY_REPORT_EVIDENCE_MESSAGES) * per_item


def context_for(message: Message) -> dict[str, Any]:
    """The context the relay binds into a message's reporting tag, from its own rows only:
    the conversation's code, the message's uid, both sides' English pseudonyms (stable strings,
    like the API's) and the time in UTC to the second."""
    conversation = message.conversation
    buyer, seller = conversation.buyer_pseudonym, conversation.seller_pseudonym
    sender, recipient = (buyer, seller) if message.sender_side == Side.BUYER else (seller, buyer)
    sent_at = message.created_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return franking.context(
        conversation=conversation.code,
        message=str(message.uid),
        sender=sender,
        recipient=recipient,
        sent_at=sent_at,
    )


@dataclass(frozen=True)
class Claim:
    """One item as the browser sent it; `problem` says why it cannot even be checked."""

    message: str = ""
    text: str = ""
    franking_key: bytes = b""
    ctx: dict[str, Any] = field(default_factory=dict)
    tag: bytes = b""
    problem: str = ""


@dataclass(frozen=True)
class ParsedField:
    claims: list[Claim]
    unreadable: bool = False  # the field itself was not a JSON list within the size limit


def _b64(value: Any) -> bytes | None:
    """Standard base64 with padding; url-safe accepted, with or without its padding; None for
    anything else."""
    if not isinstance(value, str) or not value or len(value) > 512:
        return None
    standard = value.replace("-", "+").replace("_", "/")
    standard += "=" * (-len(standard) % 4)
    try:
        return base64.b64decode(standard, validate=True)
    except (binascii.Error, ValueError):
        return None


def _utf8(value: object) -> str | None:
    """`value` if it is text UTF-8 can encode; None for anything else, a lone surrogate
    included (JSON "\\ud800", which a browser's JSON.stringify writes for one)."""
    if not isinstance(value, str):
        return None
    try:
        value.encode()
    except UnicodeEncodeError:
        return None
    return value


def _claim(raw: Any) -> Claim:
    if not isinstance(raw, dict):
        return Claim(problem=franking.Verdict(False, "malformed").reason)
    text, ctx = _utf8(raw.get("m")), raw.get("ctx")
    key, tag = _b64(raw.get("kf")), _b64(raw.get("r"))
    uid = _utf8(raw.get("message")) or ""
    readable = text
    if readable is None and isinstance(raw.get("m"), str):  # kept, its odd characters replaced
        readable = raw["m"].encode("utf-8", "replace").decode()
    shown = (readable or "")[: settings.RELAY_MAX_TEXT_CHARS]
    if text is None or not isinstance(ctx, dict) or key is None or tag is None:
        return Claim(message=uid[:64], text=shown, problem="malformed")
    if len(text) > settings.RELAY_MAX_TEXT_CHARS:
        return Claim(message=uid[:64], text=shown, problem="malformed")
    return Claim(message=uid[:64], text=text, franking_key=key, ctx=ctx, tag=tag)


def parse_field(raw: Any) -> ParsedField:
    """Read the `franked` field: a JSON string (the web forms) or an already decoded list
    (the REST API). Empty or absent: no claims. Never raises."""
    if raw is None or raw == "" or raw == []:
        return ParsedField(claims=[])
    if isinstance(raw, str):
        if len(raw.encode()) > max_field_bytes():
            return ParsedField(claims=[], unreadable=True)
        try:
            raw = json.loads(raw)
        except (ValueError, RecursionError):  # RecursionError: nested deeper than json goes
            return ParsedField(claims=[], unreadable=True)
    if not isinstance(raw, list):
        return ParsedField(claims=[], unreadable=True)
    limit = int(settings.RELAY_REPORT_EVIDENCE_MESSAGES)
    claims = [_claim(item) for item in raw[:limit]]
    if len(raw) > limit:
        claims.append(Claim(problem=TOO_MANY))
    return ParsedField(claims=claims)


def _stored_mismatch(message: Message, claim: Claim) -> bool:
    """The row still holds its commitment and tag: they must be the ones the claim carries."""
    if message.reporting_tag is None or message.franking_commitment is None:
        return False
    commitment = franking.commitment(claim.franking_key, claim.text)
    return not (
        hmac.compare_digest(bytes(message.franking_commitment), commitment)
        and hmac.compare_digest(bytes(message.reporting_tag), claim.tag)
    )


def _unverified(claim: Claim, reason: str) -> dict[str, Any]:
    return {
        "kind": FRANKED,
        "verified": False,
        "reason": reason,
        "message": claim.message,
        "author": "",
        "sent_at": "",
        "text": claim.text,
    }


def check_claim(claim: Claim, *, conversation: Conversation, reported_side: str) -> dict[str, Any]:
    """One evidence item: the claim verified against the report's conversation, or why not."""
    if claim.problem:
        return _unverified(claim, claim.problem)
    verdict = franking.verify(
        message=claim.text,
        franking_key=claim.franking_key,
        ctx=claim.ctx,
        tag=claim.tag,
        conversation=conversation.code,
    )
    if not verdict.verified:
        reason = verdict.reason
        if reason == "tag":
            reason = _which_half_was_altered(claim, conversation=conversation)
        return _unverified(claim, reason)
    uid = str(claim.ctx["message"])
    if claim.message and claim.message != uid:
        return _unverified(claim, "context")  # the item names one message, its context another
    # The context is the relay's own (its tag holds), so the uid in it is the one to trust.
    stored, reason = _stored_message(uid, conversation=conversation, reported_side=reported_side)
    if reason:
        return _unverified(claim, reason)
    if stored is not None and _stored_mismatch(stored, claim):
        return _unverified(claim, STORED_MISMATCH)
    return {
        "kind": FRANKED,
        "verified": True,
        "reason": "ok",
        "message": uid,
        "author": verdict.sender,
        "sent_at": verdict.sent_at,
        "text": claim.text,
        # False once the relay no longer keeps the message (or its key): verified from the
        # tags alone, which is all a verdict ever needs.
        "stored": stored is not None and conversation.wrapped_key is not None,
    }


def _which_half_was_altered(claim: Claim, *, conversation: Conversation) -> str:
    """The tag does not hold. While the relay still keeps the message, its stored commitment
    tells the moderator which half was changed: the text or its key (COMMITMENT), or the
    relay's context (ALTERED_CONTEXT). Otherwise only that the tag does not hold."""
    try:
        uid = uuid.UUID(claim.message or str(claim.ctx.get("message", "")))
    except ValueError:
        return "tag"
    stored = (
        Message.objects.filter(conversation=conversation, uid=uid)
        .values_list("franking_commitment", flat=True)
        .first()
    )
    if stored is None:
        return "tag"
    commitment = franking.commitment(claim.franking_key, claim.text)
    return ALTERED_CONTEXT if hmac.compare_digest(bytes(stored), commitment) else COMMITMENT


def _stored_message(
    uid: str, *, conversation: Conversation, reported_side: str
) -> tuple[Message | None, str]:
    """The row the verified context names, if the relay still keeps it, or why the claim
    fails: a message of another conversation, or one the reported side did not send."""
    try:
        parsed = uuid.UUID(uid)
    except ValueError:
        return None, ""  # the tag holds over it: a context the relay wrote, nothing to look up
    stored = Message.objects.filter(uid=parsed).select_related("conversation").first()
    if stored is None:
        return None, ""  # gone (shredded and deleted): the tags alone verify it
    if stored.conversation_id != conversation.pk:
        return None, NOT_IN_CONVERSATION
    if stored.sender_side != reported_side:
        return None, NOT_REPORTED_SIDE
    return stored, ""


def franked_evidence(
    parsed: ParsedField, *, conversation: Conversation, reported_side: str
) -> list[dict[str, Any]]:
    """Every claim checked, each message once (the first claim of a uid; later ones are kept
    as unverified duplicates so the moderator sees that the reporter sent them)."""
    if parsed.unreadable:
        return [{"kind": NOTE, "reason": UNREADABLE, "author": "", "sent_at": "", "text": ""}]
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    for claim in parsed.claims:
        item = check_claim(claim, conversation=conversation, reported_side=reported_side)
        if item["verified"] and item["message"] in seen:
            item = _unverified(claim, DUPLICATE)
        elif item["verified"]:
            seen.add(item["message"])
        items.append(item)
    return items
