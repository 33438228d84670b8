"""Message franking for web ↔ web end-to-end messages (DESIGN.md, "Franking").

The sender's browser draws a franking key k_f per message and sends the commitment
c = HMAC-SHA-256(k_f, "frank-v1" ‖ m) beside the ciphertext; k_f travels inside the ciphertext.
The server cannot read m; it binds c to what it knows itself, the context (conversation, message
id, both pseudonyms, the time), with its reporting tag r = HMAC-SHA-256(K_srv, "report-v1" ‖ c ‖
ctx), stored with the message and handed to the recipient with it. The recipient's browser
checks c against the m and k_f it decrypted and drops the message if they differ, so a sender
cannot deliver a message that would not verify. A report carries m, k_f, ctx and r; `verify`
checks both tags. AEAD tags are not commitments and are never used as one.

The browser side is static/e2ee.js; both follow the byte layouts below exactly.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings

FRANK_LABEL = b"frank-v1"
REPORT_LABEL = b"report-v1"
KEY_BYTES = 32
TAG_BYTES = 32
CONTEXT_FIELDS = ("v", "conversation", "message", "sender", "recipient", "sent_at")


def commitment(franking_key: bytes, message: str) -> bytes:
    """c = HMAC-SHA-256(k_f, "frank-v1" ‖ UTF-8(m))."""
    return hmac.new(franking_key, FRANK_LABEL + message.encode(), hashlib.sha256).digest()


def context(
    *, conversation: str, message: str, sender: str, recipient: str, sent_at: str
) -> dict[str, Any]:
    """The server's own facts about a message, never anything the sender chose.

    `message` is the Message uid, `sender`/`recipient` the pseudonyms each side sees, `sent_at`
    ISO 8601 in UTC to the second ("2026-12-02T03:04:05Z").
    """
    return {
        "v": 1,
        "conversation": conversation,
        "message": message,
        "sender": sender,
        "recipient": recipient,
        "sent_at": sent_at,
    }


def context_bytes(ctx: dict[str, Any]) -> bytes:
    """The canonical encoding: JSON with sorted keys, no spaces, UTF-8 (not ASCII-escaped)."""
    return json.dumps(ctx, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _server_key() -> bytes:
    index_key: bytes = settings.RELAY_INDEX_KEY
    return hashlib.blake2b(b"franking-report-v1", key=index_key, digest_size=32).digest()


def reporting_tag(commitment_: bytes, ctx: dict[str, Any]) -> bytes:
    """r = HMAC-SHA-256(K_srv, "report-v1" ‖ c ‖ canonical(ctx))."""
    return hmac.new(
        _server_key(), REPORT_LABEL + commitment_ + context_bytes(ctx), hashlib.sha256
    ).digest()


@dataclass(frozen=True)
class Verdict:
    verified: bool
    reason: str  # "ok", or why not: "commitment", "tag", "context", "conversation", "malformed"
    sender: str = ""  # from the verified context: who sent it, when
    sent_at: str = ""


def verify(
    *,
    message: str,
    franking_key: bytes,
    ctx: dict[str, Any],
    tag: bytes,
    conversation: str,
) -> Verdict:
    """A reporter's claim: this is message m, opened with k_f, in context ctx with tag r.

    Verified only if r is the server's tag over HMAC(k_f, m) and ctx, and ctx names the
    conversation the report is about. Any altered byte makes it an unverified claim.
    """
    if (
        not isinstance(ctx, dict)
        or tuple(sorted(ctx)) != tuple(sorted(CONTEXT_FIELDS))
        or len(franking_key) != KEY_BYTES
        or len(tag) != TAG_BYTES
    ):
        return Verdict(False, "malformed")
    try:
        expected = reporting_tag(commitment(franking_key, message), ctx)
    except UnicodeEncodeError:  # a lone surrogate in m or ctx: nothing the relay ever tagged
        return Verdict(False, "malformed")
    if not hmac.compare_digest(expected, tag):
        # Either m or k_f was altered (c differs) or ctx/r were: the tag does not hold.
        return Verdict(False, "tag")
    if ctx.get("conversation") != conversation:
        return Verdict(False, "conversation")
    return Verdict(True, "ok", sender=str(ctx["sender"]), sent_at=str(ctx["sent_at"]))
