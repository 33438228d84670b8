"""Log records without anyone's address in them: a redacting filter and two formatters.

Privacy invariant 2 says no phone number or platform id is logged. Code is written not to log
them, and this filter is the net under that: every handler in settings.LOGGING carries it, so a
number that slips into a message, an argument or a traceback leaves the process as `[redacted]`.

What counts as an address (redacted):
- e-mail addresses;
- numbers written the international way: `+62 812-3456-7001`, `0062…`, `whatsapp:+1415…`;
- an area code in parentheses: `(415) 555-0100`, `+1 (415) 555-0100`;
- 7 or more digits in groups split by spaces, dashes or dots: `0812 3456 7890`, `415-555-0100`;
- a bare run of 10 or more digits (WhatsApp's `wa_id` is E.164 without the plus), or of 8 or
  more starting with the trunk 0 (`081234567890`); 15+ digits (PSID, IGSID) always.

What counts as a secret path (redacted, the rest of the URL kept):
- a buyer's web-chat link `/chat/<token>/…` (whoever holds it reads the chat; `/chat/start/`
  names a public listing and stays);
- a password-reset link `/reset/<uid>/<token>/`;
- a signed photo link `/m/<token>/` or its page `/p/<token>/` (relay/services/media_links.py:
  whoever holds one sees the photo until it expires; its value has a dot, which the signed
  value pattern below does not take);
- any value signed with django.core.signing (`payload:timestamp:signature`), wherever it is.

What is left alone: fewer than 7 digits, thousands-grouped amounts (`Rp 3.500.000`,
`1,250,000`), decimals (`3500000.00`), dates (`2024-05-01`), IPv4 addresses, UUIDs, and bare
runs of 7-9 digits not starting with 0 (a price or an id is likelier than a phone there).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from typing import Any

REDACTED = "[redacted]"

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# A run of digit groups (a group may sit in parentheses) joined by at most one separator each.
# It may not start right after a letter, digit, dot, comma or plus, nor end before a letter or
# digit, so `Rp3500000`, `v1.2.3` and the tail of `1,234,567` never start a candidate.
_GROUP = r"(?:\(\d{1,4}\)|\d+)"
CANDIDATE = re.compile(
    rf"(?<![A-Za-z0-9.,+])(?:\+|(?<!\d)00)?{_GROUP}(?:[ .\-\u00a0]?{_GROUP})*(?![A-Za-z0-9])"
)
THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:([.,\u00a0 ])\d{3})(?:\1\d{3})*(?:[.,]\d{1,2})?")
DECIMAL = re.compile(r"\d+[.,]\d+")
DATE = re.compile(r"\d{4}[-.]\d{1,2}[-.]\d{1,2}|\d{1,2}[-.]\d{1,2}[-.]\d{4}")
IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
# Secret path segments: the segment up to the next slash, space, quote or query goes.
_SEGMENT = r"[^/\s?#\"'<>]+"
CHAT_LINK = re.compile(rf"(/chat/)(?!start/){_SEGMENT}")
PASSWORD_RESET_LINK = re.compile(rf"(/reset/{_SEGMENT}/)(?!set-password/){_SEGMENT}")
PHOTO_LINK = re.compile(rf"(/[mp]/){_SEGMENT}")
# django.core.signing: base64 payload (a leading dot when compressed), base62 time, signature.
SIGNED_VALUE = re.compile(r"\.?[A-Za-z0-9_-]{8,}:[0-9A-Za-z]{4,8}:[A-Za-z0-9_-]{20,}")


def _looks_like_address(candidate: str) -> bool:
    digits = sum(ch.isdigit() for ch in candidate)
    if digits < 7:
        return False
    if digits >= 15 or candidate.startswith(("+", "00", "(")):
        return True
    if candidate.isdigit():
        return digits >= 10 or (candidate.startswith("0") and digits >= 8)
    return not any(pattern.fullmatch(candidate) for pattern in (THOUSANDS, DECIMAL, DATE, IPV4))


def redact_secret_links(text: str) -> str:
    """Return `text` with chat, password-reset and photo links and signed values replaced."""
    text = CHAT_LINK.sub(rf"\g<1>{REDACTED}", text)
    text = PASSWORD_RESET_LINK.sub(rf"\g<1>{REDACTED}", text)
    text = PHOTO_LINK.sub(rf"\g<1>{REDACTED}", text)
    return SIGNED_VALUE.sub(REDACTED, text)


def redact(text: str) -> str:
    """Return `text` with every secret link, e-mail address and phone-like number replaced by
    [redacted]."""
    if not text:
        return text
    text = redact_secret_links(text)
    text = EMAIL.sub(REDACTED, text)
    protected = [match.span() for match in UUID.finditer(text)]

    def replace(match: re.Match[str]) -> str:
        start, end = match.span()
        if any(start < stop and end > begin for begin, stop in protected):
            return match.group(0)
        candidate = match.group(0).strip(" .-\u00a0")
        return REDACTED if _looks_like_address(candidate) else match.group(0)

    return CANDIDATE.sub(replace, text)


class RedactingFilter(logging.Filter):
    """Rewrite a record's message, arguments, traceback and stack as redacted text.

    The message is rendered with its arguments first, so a number passed as an int argument
    (`%s` of 6281234567001) is caught too. Attach it to handlers, not loggers: a logger's
    filters do not run for records propagated from its children.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string still must not leak its arguments
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for production log shippers.

    Only the standard fields are written, not `extra` attributes: those bypass the redacting
    filter and could carry anything.
    """

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, tz=dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            document["exception"] = record.exc_text
        if record.stack_info:
            document["stack"] = record.stack_info
        return json.dumps(document, ensure_ascii=False, default=str)


class PlainFormatter(logging.Formatter):
    """Readable lines for a developer's terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%H:%M:%S")
