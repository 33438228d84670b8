"""What kind of evidence a moderator is reading, in plain words (the report page and the
moderation API say the same).

Three kinds (relay/services/franked_reports.py stores them): a franked message the relay
verified, a franked claim it could not verify (and why), and a message the relay itself read
and sealed when the report was filed. Notes (the reporter's, or the relay's about what is
missing) are a fourth, plain kind. Items sealed before kinds existed are the relay's own.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relay import pseudonyms
from relay.services import franked_reports as fr

VERIFIED = "verified"
UNVERIFIED = "unverified"

WHY_UNVERIFIED: dict[str, Any] = {
    "malformed": gettext_lazy(
        "the reporter's browser sent it incomplete or damaged (a missing field, or a key or "
        "tag of the wrong length)."
    ),
    "tag": gettext_lazy(
        "the message, its key or the relay's details about it were changed, so the relay's "
        "tag does not match."
    ),
    fr.COMMITMENT: gettext_lazy(
        "the message or its key were changed: they do not match the commitment the relay "
        "stored when it was sent."
    ),
    fr.ALTERED_CONTEXT: gettext_lazy(
        "the relay's details about it (sender, recipient, time or conversation) were changed, "
        "so the relay's tag does not match."
    ),
    "context": gettext_lazy("the relay's details about it name a different message."),
    "conversation": gettext_lazy(
        "the relay's tag is genuine, but for a message of another conversation."
    ),
    fr.NOT_IN_CONVERSATION: gettext_lazy("the message belongs to another conversation."),
    fr.NOT_REPORTED_SIDE: gettext_lazy(
        "the reporter sent this message themselves; it is not from the side they reported."
    ),
    fr.STORED_MISMATCH: gettext_lazy("it does not match what the relay stored for this message."),
    fr.DUPLICATE: gettext_lazy("the same message was attached twice; the first copy is shown."),
}

NOTES: dict[str, Any] = {
    fr.NO_FRANKED: gettext_lazy(
        "End-to-end encrypted: the relay cannot read this conversation, and the reporter's "
        "browser sent no verifiable messages."
    ),
    fr.UNREADABLE: gettext_lazy(
        "The reporter's browser sent messages the relay could not read; none were kept."
    ),
}


@dataclass(frozen=True)
class Shown:
    """One evidence item as a moderator reads it."""

    kind: str  # "verified", "unverified", "relay_sealed" or "note"
    label: str
    detail: str
    text: str
    author: str
    sent_at: str
    verified: bool | None  # None: not a franked claim
    photo: str = ""  # a relay-sealed photo: a small JPEG in base64 (relay/services/moderation.py)
    content_type: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "verified": self.verified,
            "label": self.label,
            "detail": self.detail,
            "text": self.text,
            "author": self.author,
            "sent_at": self.sent_at,
            **({"photo": self.photo, "content_type": self.content_type} if self.photo else {}),
        }


def _when(value: str) -> str:
    """A stored time in the reader's zone, to the minute; as stored if it is not one."""
    parsed: dt.datetime | None = parse_datetime(value.replace("Z", "+00:00")) if value else None
    if parsed is None:
        return value
    return date_format(timezone.localtime(parsed), "Y-m-d H:i T")


def _franked(item: dict[str, Any]) -> Shown:
    if item.get("verified"):
        detail = ""
        if not item.get("stored", True):
            detail = _(
                "The relay no longer keeps this message; it was verified from the relay's "
                "tags alone."
            )
        label = _("Verified: sent by {author} at {time}").format(
            author=pseudonyms.stored_in_language(str(item.get("author", ""))),
            time=_when(str(item.get("sent_at", ""))),
        )
        return Shown(VERIFIED, label, detail, str(item.get("text", "")), "", "", True)
    reason = str(item.get("reason", "malformed"))
    if reason == fr.TOO_MANY:
        why = _(
            "the reporter's browser attached more than {count} messages; the rest were not kept."
        ).format(count=settings.RELAY_REPORT_EVIDENCE_MESSAGES)
    else:
        why = str(WHY_UNVERIFIED.get(reason, WHY_UNVERIFIED["malformed"]))
    label = _("Unverified claim: {why}").format(why=why)
    return Shown(UNVERIFIED, label, "", str(item.get("text", "")), "", "", False)


def shown(item: dict[str, Any]) -> Shown:
    """The item with its kind's label, in the active language."""
    kind = item.get("kind", fr.RELAY_SEALED)
    if kind == fr.FRANKED:
        return _franked(item)
    text, author = str(item.get("text", "")), str(item.get("author", ""))
    author = pseudonyms.stored_in_language(author)
    sent_at = _when(str(item.get("sent_at", "")))
    if kind == fr.NOTE:
        note = NOTES.get(str(item.get("reason", "")))
        label = str(note) if note is not None else author
        return Shown(fr.NOTE, label, "", text, "", "", None)
    return Shown(
        fr.RELAY_SEALED,
        _("Sealed by the relay"),
        "",
        text,
        author,
        sent_at,
        None,
        photo=str(item.get("photo", "")),
        content_type=str(item.get("content_type", "")),
    )


def shown_all(items: list[dict[str, Any]]) -> list[Shown]:
    return [shown(item) for item in items]
