"""The body guards as data, for the sender's browser (static/guards.js).

An end-to-end encrypted web message reaches the server as ciphertext, so the guards that read
a body — the link code, the length limit, visible text, the keywords and the number guard —
run in the sender's browser before encryption. They run from this document, which is built
from the Python definitions themselves (contacts.contact_guard.shared_definition,
keywords.shared_definition, the invisible-character categories of guards.visible_text, the
link-code rule of contacts.services, RELAY_MAX_TEXT_CHARS), so a change on the server changes
the browser's rules with the next page load. tests/shared/guard_cases.json is run against both.

Nothing here is about the message: the document holds rules, the sender's regions and the
relay's own words, and is the same for every message of a conversation side.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from itertools import combinations
from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from contacts import contact_guard
from contacts.models import Channel, Endpoint
from contacts.services import LINK_CODE_RULE
from relay.models import Conversation, Side
from relay.notices import render_notice
from relay.pipeline import guards, keywords

VERSION = 1  # bumped when guards.js must read the document differently


def rules_for(conversation: Conversation, side: str, language: str | None = None) -> dict[str, Any]:
    """The guard rules for what `side` writes in `conversation`, with the relay's notices in
    `language` (the page's, as the web pages render notices; default: the active language)
    and the placeholder in the reader's language, as the server's number guard writes it."""
    with translation.override(guards.reader_language(conversation, side)):
        placeholder = _("[hidden]")
    sender = _sender_endpoint(conversation, side)
    waiting = guards.waiting_report(sender) if sender is not None else None
    return build(
        regions=contact_guard.regions_for(sender.region if sender is not None else None),
        mask=conversation.listing.mask_contact_details,
        placeholder=placeholder,
        language=language or translation.get_language() or settings.RELAY_DEFAULT_LANGUAGE,
        reason_until=waiting.created_at + guards.REASON_WINDOW if waiting is not None else None,
    )


def build(
    *,
    regions: Sequence[str],
    mask: bool,
    placeholder: str,
    language: str,
    reason_until: dt.datetime | None = None,
) -> dict[str, Any]:
    """The document itself: the shared definitions, and what differs per conversation side
    (the sender's regions, whether the listing masks, the reader's placeholder, the notices'
    language, until when a REPORT the sender sent waits for its numbered reason)."""
    limit = settings.RELAY_MAX_TEXT_CHARS
    with translation.override(language):
        unavailable = _(
            "The safety checks of this page did not load, so nothing was sent. Reload the page"
            " and try again."
        )
    return {
        "version": VERSION,
        "limit": limit,
        "invisible": {
            "categories": sorted(guards.INVISIBLE_CATEGORIES),
            "kept": guards.VISIBLE_CONTROLS,
        },
        "link_code": LINK_CODE_RULE.as_json(),
        "keywords": keywords.shared_definition(),
        # "2 scam" answers the report menu while a report waits for it (milliseconds, as
        # JavaScript's Date.now() counts); it is a command then, not content.
        "report_reason": {
            **guards.REASON_REPLY_RULE.as_json(),
            "until": int(reason_until.timestamp() * 1000) if reason_until else None,
        },
        "contact": {
            **contact_guard.shared_definition(),
            "mask": mask,
            "regions": list(regions),
            "placeholder": placeholder,
        },
        "notices": {
            "contact_masked": _masked_notices(language, placeholder),
            "empty_message": render_notice("empty_message", language, {}),
            "too_long": render_notice("too_long", language, {"limit": str(limit)}),
            "unavailable": unavailable,
        },
    }


def _sender_endpoint(conversation: Conversation, side: str) -> Endpoint | None:
    """The endpoint the pipeline sees as the sender: a web chat's browser, or the seller's web
    endpoint, which the web inbox sends from (None until the seller has one)."""
    if side == Side.BUYER:
        return conversation.buyer_endpoint
    return conversation.listing.seller.endpoints.filter(channel=Channel.WEB).first()


def _masked_notices(language: str, placeholder: str) -> dict[str, str]:
    """The contact_masked notice for every set of kinds, keyed as the number guard keys it
    ("app_link,phone"): the words the sender would read had the server masked the text."""
    kinds = sorted(kind.value for kind in contact_guard.Kind)
    return {
        ",".join(chosen): render_notice(
            "contact_masked", language, {"kinds": ",".join(chosen), "placeholder": placeholder}
        )
        for size in range(1, len(kinds) + 1)
        for chosen in combinations(kinds, size)
    }
