"""The body guards' shared cases (guard_cases.json), as both runners read them.

tests/shared/test_guard_cases.py runs them against the server's guards and
tests/browser/test_browser_guards.py against static/guards.js in Chromium; both compare a
case's outcome with `expected`, built here once so the two compare the same thing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from contacts import contact_guard
from contacts.services import is_link_code
from relay.pipeline import guards, keywords
from relay.pipeline.types import Context, Road, Submission

CASES_FILE = Path(__file__).with_name("guard_cases.json")


@dataclass(frozen=True)
class GuardCase:
    group: str
    text: str
    action: str  # "send", "command" or "refuse"
    sent: str | None = None  # the text to encrypt, for "send" (None: the text itself)
    kinds: tuple[str, ...] = ()
    notice: str | None = None
    sender: str = "ID"
    repeat: str = ""  # "limit" or "limit+1": that many copies of `text`, after `prefix`
    prefix: str = ""
    awaiting_reason: bool = False  # the sender's REPORT waits for its numbered reason
    note: str = ""
    known_miss: str = ""  # why the server's guard gets this wrong (none today)
    browser_differs: str = ""  # why the browser answers otherwise than the server here

    def typed(self, limit: int) -> str:
        """The text as the sender typed it, with `repeat` expanded for the relay's limit."""
        if not self.repeat:
            return self.text
        copies = {"limit": limit, "limit+1": limit + 1}[self.repeat]
        return self.prefix + self.text * copies

    def expected(self, limit: int) -> dict[str, Any]:
        """What either side must answer: the action, the text sent and the notice shown."""
        outcome: dict[str, Any] = {"action": self.action, "notice": self.notice}
        if self.action == "send":
            outcome["text"] = self.sent if self.sent is not None else self.typed(limit)
            outcome["kinds"] = list(self.kinds)
        return outcome

    @property
    def label(self) -> str:
        return f"{self.group}: {self.text[:40]!r}{' x ' + self.repeat if self.repeat else ''}"


@cache
def document() -> dict[str, Any]:
    return dict(json.loads(CASES_FILE.read_text(encoding="utf-8")))


def cases() -> list[GuardCase]:
    return [
        GuardCase(**{**raw, "kinds": tuple(raw.get("kinds", ()))}) for raw in document()["cases"]
    ]


def placeholder() -> str:
    """The placeholder the cases expect: an English reader's."""
    return str(document()["placeholder"])


def server_check(text: str, sender: str, awaiting_reason: bool = False) -> dict[str, Any]:
    """What the server's guards do with `text` from a web sender in `sender`'s region, whose
    REPORT waits for its reason when `awaiting_reason` (guards.waiting_report finds it)."""
    if is_link_code(text):
        return {"action": "command", "notice": None}
    ctx = Context(submission=Submission(road=Road.WEB_CHAT, text=text), text=text)
    for guard in (guards.carriable_content, guards.visible_text):
        stop = guard(ctx)
        if stop is not None:
            assert stop.notice is not None
            return {"action": "refuse", "notice": stop.notice.code}
    if keywords.keyword_of(ctx.text) is not None:
        return {"action": "command", "notice": None}
    if awaiting_reason and guards.REASON_REPLY.match(ctx.text):  # report_reason_answer
        return {"action": "command", "notice": None}
    masked = contact_guard.mask_contact_details(
        ctx.text, regions=contact_guard.regions_for(sender), placeholder=placeholder()
    )
    return {
        "action": "send",
        "text": masked.text,
        "kinds": sorted(masked.kinds),
        "notice": "contact_masked" if masked.changed else None,
    }
