"""The number guard: find phone numbers, e-mail addresses and messaging-app links in free text
and replace each with a placeholder, keeping the text around them intact.

The guard is a list of detectors (`DETECTORS`); each returns spans of the original text with the
kind of detail it found. Phone numbers come from libphonenumber's matcher, run for every region
the reader might write in, over a copy of the text where digit look-alikes read as digits.

The same rules run in the sender's browser (static/guards.js) for end-to-end encrypted web
messages, whose text the server never sees. So that there is one definition, every regular
expression here is a `Shared` source written in the subset that Python's `re` and JavaScript's
`RegExp` (with the "u" flag) read alike, and `shared_definition()` hands them, with the word
lists and thresholds, to relay/pipeline/guard_rules.py, which serves them to the page. The
subset: `\\w`, `\\d`, `\\s`, `\\b` (guards.js rewrites the first, second and fourth into
Unicode classes, as Python reads them), `[^\\W\\d_]` (a letter) and `[^\\W_]` (a letter or
digit) as whole classes, no `\\W` or `\\D` elsewhere in a class, no named groups, inline flags,
`\\A`/`\\Z`, or escapes of characters that are not syntax (write `"`, not `\\"`).

Privacy: nothing here logs, stores or returns what it hid, only that it hid something.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import phonenumbers
from django.conf import settings


@dataclass(frozen=True)
class Shared:
    """A regular expression both Python and the browser compile (see the module's docstring)."""

    source: str
    flags: str = ""  # "i": ignore case, "s": "." matches a new line too (both sides' letters)

    def compile(self) -> re.Pattern[str]:
        flags = re.IGNORECASE if "i" in self.flags else re.NOFLAG
        return re.compile(self.source, flags | (re.DOTALL if "s" in self.flags else re.NOFLAG))

    def as_json(self) -> dict[str, str]:
        return {"source": self.source, "flags": self.flags}


class Kind(enum.StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    APP_LINK = "app_link"  # an app link or the @handle of a messaging app


@dataclass(frozen=True)
class Masked:
    text: str  # the text with each detail replaced by the placeholder
    kinds: frozenset[Kind]  # what was hidden (empty: nothing)

    @property
    def changed(self) -> bool:
        return bool(self.kinds)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: Kind


@dataclass(frozen=True)
class Source:
    """The text as typed, a same-length copy with look-alikes read as digits, and the regions."""

    original: str
    digits: str
    regions: tuple[str | None, ...]


def regions_for(sender_region: str | None) -> tuple[str, ...]:
    """Regions whose national number formats a message may use, most likely first.

    The sender's own region, the relay's default (RELAY_DEFAULT_REGION) and "US"; unknown
    regions are dropped, duplicates removed, order kept.
    """
    wanted = (sender_region or "", settings.RELAY_DEFAULT_REGION, "US")
    known = (region.upper() for region in wanted if region)
    return tuple(dict.fromkeys(r for r in known if r in phonenumbers.SUPPORTED_REGIONS))


def mask_contact_details(
    text: str, *, regions: Sequence[str], placeholder: str = "[hidden]"
) -> Masked:
    """Replace every phone number, e-mail address and messaging-app link or handle in `text`.

    Numbers are read as written for each of `regions` and in international form (+62…, 0062…).
    Overlapping details become one placeholder; brackets and punctuation around them stay.
    """
    source = Source(text, read_digits(text), tuple(dict.fromkeys(regions)) or (None,))
    spans = merge(span for detector in DETECTORS for span in detector(source))
    if not spans:
        return Masked(text, frozenset())
    pieces: list[str] = []
    cursor = 0
    for span in spans:
        pieces += [text[cursor : span.start], placeholder]
        cursor = span.end
    pieces.append(text[cursor:])
    return Masked("".join(pieces), frozenset(span.kind for span in spans))


def merge(spans: Iterable[Span]) -> list[Span]:
    """Sort spans and join overlapping or touching ones (the first span's kind is kept)."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start <= merged[-1].end:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end), last.kind)
        else:
            merged.append(span)
    return merged


# --- Reading digits the way people disguise them ---------------------------------------------

LOOKALIKE_DIGITS = {"O": "0", "o": "0", "I": "1", "l": "1", "|": "1"}
LOOKALIKES = str.maketrans(LOOKALIKE_DIGITS)
# A run of digits and look-alikes that is not part of a word: "789O" yes, "Oil" and "10lbs" no.
SHARED: dict[str, Shared] = {
    "digit_run": Shared(r"(?<![^\W\d_])[0-9OoIl|]+(?![^\W\d_])"),
    # "0062 812…" is how Indonesians dial abroad; libphonenumber only knows "+62" and "001 62".
    "double_zero": Shared(r"(?<![\d+.,])00(?=[1-9])"),
}
DIGIT_RUN = SHARED["digit_run"].compile()
DOUBLE_ZERO = SHARED["double_zero"].compile()


def read_digits(text: str) -> str:
    """A same-length copy of `text` in which look-alikes inside digit runs read as digits.

    O/o read as 0 and I/l/| as 1 where the run is otherwise digits; a leading "00" before a
    country code reads as " +" so the matcher sees an international number. Same length, so a
    span found in the copy is the same span of the original.
    """
    chars = list(text)
    for match in DIGIT_RUN.finditer(text):
        run = match.group(0)
        digits = sum(ch.isdigit() for ch in run)
        if digits and digits >= len(run) - digits and digits != len(run):
            chars[match.start() : match.end()] = run.translate(LOOKALIKES)
    copy = "".join(chars)
    return DOUBLE_ZERO.sub(" +", copy)


# --- Phone numbers -----------------------------------------------------------------------------

OPENERS, CLOSERS = "([{", ")]}"


def phone_numbers(source: Source) -> Iterator[Span]:
    """Numbers libphonenumber finds valid for any of the regions, in the text or its digit copy.

    The copy finds "0812-3456-789O"; where it reads two numbers of the original as one
    ("7890|0856" became "789010856"), the original's reading wins.
    """
    found = list(matched_numbers(source, source.original))
    if source.digits != source.original:
        for span in matched_numbers(source, source.digits):
            inside = sum(span.start <= other.start and other.end <= span.end for other in found)
            if inside < 2:
                found.append(span)
    return iter(found)


def matched_numbers(source: Source, text: str) -> Iterator[Span]:
    for region in source.regions:
        for match in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.VALID
        ):
            start, end = balanced(source.original, match.start, match.end)
            if not is_amount(source.original, start, end):
                yield Span(widened(source, start), end, Kind.PHONE)


# "1.500.000" is a price and, to libphonenumber, also a valid Indonesian 1500-xxx hotline.
SHARED["thousands"] = Shared(r"[1-9]\d{0,2}(?:([.,])\d{3})(?:\1\d{3})*(?:[.,]\d{1,2})?")
# "1500000 aja": a round amount; nobody's own number is written without its 0 and ends in 000.
SHARED["round"] = Shared(r"[1-9]\d*000")
SHARED["currency_before"] = Shared(
    r"(?:\b(?:rp|idr|usd|sgd|myr|eur|rm|harga|hrg|price)|[$€£¥])\.?\s*:?\s*$", "i"
)
SHARED["unit_after"] = Shared(r"^\s*(?:jt|juta|rb|ribu|k|rupiah|idr|usd|dollars?)\b", "i")
THOUSANDS = SHARED["thousands"].compile()
ROUND = SHARED["round"].compile()
CURRENCY_BEFORE = SHARED["currency_before"].compile()
UNIT_AFTER = SHARED["unit_after"].compile()
AMOUNT_WINDOW = 12  # how far before and after a number a currency or unit is looked for


def is_amount(text: str, start: int, end: int) -> bool:
    """A span written as money: thousands groups, a currency before it or a unit after it."""
    return bool(
        THOUSANDS.fullmatch(text, start, end)
        or ROUND.fullmatch(text, start, end)
        or CURRENCY_BEFORE.search(text, max(start - AMOUNT_WINDOW, 0), start)
        or UNIT_AFTER.match(text[end : end + AMOUNT_WINDOW])
    )


def balanced(text: str, start: int, end: int) -> tuple[int, int]:
    """Leave a bracket outside the span when its partner is outside: "(0812…)" → "([hidden])"."""
    piece = text[start:end]
    opened = sum(piece.count(ch) for ch in OPENERS) - sum(piece.count(ch) for ch in CLOSERS)
    while opened > 0 and start < end and text[start] in OPENERS + " ":
        opened -= text[start] in OPENERS
        start += 1
    while opened < 0 and end > start and text[end - 1] in CLOSERS + " ":
        opened += text[end - 1] in CLOSERS
        end -= 1
    return start, end


def widened(source: Source, start: int) -> int:
    """Take in the "00" that the digit copy read as " +" in front of a number."""
    if start > 0 and source.digits[start - 1 : start + 1] == " +":
        return start - 1 if source.original[start - 1 : start + 1] == "00" else start
    return start


# "812-3456-7890": an Indonesian mobile number without its trunk 0, which libphonenumber
# rejects. Only in the grouped form people use for numbers, so order numbers stay.
SHARED["bare_mobile"] = Shared(r"(?<![\w+.,/-])8\d{2}(?:[-. ]\d{3,4}){1,2}[-. ]\d{3,4}(?![\w-])")
BARE_MOBILE = SHARED["bare_mobile"].compile()
BARE_MOBILE_REGION = "ID"

BARE_MOBILE_MIN_DIGITS = 10  # "812 345 678" is too short to tell from a code


def bare_mobile_numbers(source: Source) -> Iterator[Span]:
    """Indonesian mobile numbers written without 0 or +62, when "ID" is one of the regions."""
    if BARE_MOBILE_REGION not in source.regions:
        return
    for match in BARE_MOBILE.finditer(source.digits):
        digits = re.sub(r"\D", "", match.group(0))
        number = phonenumbers.parse("0" + digits, BARE_MOBILE_REGION)
        mobile = phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE
        if mobile and len(digits) >= BARE_MOBILE_MIN_DIGITS:
            yield Span(match.start(), match.end(), Kind.PHONE)


# --- Spelled-out digits ------------------------------------------------------------------------

DIGIT_WORDS = frozenset(
    {"zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}
    | {"nol", "kosong", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan"}
    | {"lapan", "sembilan"}
)
REPEATERS = {"double": 2, "triple": 3}
SHARED["token"] = Shared(r"[^\W_]+")
# What may stand between two digits of one run: spaces and the punctuation of phone numbers.
SHARED["run_gap"] = Shared(r"[\s.,\-/()\[\]+]*")
TOKEN = SHARED["token"].compile()
RUN_GAP = SHARED["run_gap"].compile()
SPELLED_MIN_DIGITS = 7
SPELLED_MIN_WORDS = 3  # "Rp 1.500.000, satu dua hari" is a price and two words, not a number


@dataclass
class DigitRun:
    start: int
    end: int
    digits: int = 0
    words: int = 0

    @property
    def is_number(self) -> bool:
        return self.digits >= SPELLED_MIN_DIGITS and self.words >= SPELLED_MIN_WORDS


def digit_value(token: str) -> tuple[int, int]:
    """(digits, spelled words) a token stands for: "delapan" (1, 1), "3456" (4, 0), "and" (0, 0)."""
    word = token.lower()
    if word in DIGIT_WORDS:
        return 1, 1
    if word in REPEATERS:
        return REPEATERS[word] - 1, 1  # "double five": the five counts itself
    if token.isascii() and token.isdigit():
        return len(token), 0
    return 0, 0


def spelled_digits(source: Source) -> Iterator[Span]:
    """A run of at least 7 digits of which at least 3 are spelled out, in English or Indonesian.

    "nol delapan satu dua …", "zero eight one two …", "0812 tiga empat lima …": the whole run
    is one detail. Plain words ("satu atau dua hari", "one or two") are too short a run.
    """
    for run in digit_runs(source.digits):
        if run.is_number:
            yield Span(run.start, run.end, Kind.PHONE)


def digit_runs(text: str) -> Iterator[DigitRun]:
    """Maximal runs of digit tokens joined only by spaces and phone-number punctuation."""
    run: DigitRun | None = None
    for match in TOKEN.finditer(text):
        digits, words = digit_value(match.group(0))
        if run is not None and not (digits and RUN_GAP.fullmatch(text, run.end, match.start())):
            yield run
            run = None
        if digits:
            run = run or DigitRun(match.start(), match.end())
            run.end, run.digits, run.words = match.end(), run.digits + digits, run.words + words
    if run is not None:
        yield run


# --- E-mail addresses --------------------------------------------------------------------------

LOCAL = r"[A-Za-z0-9._%+-]+"
MAILBOXES = r"(?:gmail|googlemail|yahoo|ymail|hotmail|outlook|live|icloud|proton(?:mail)?|aol)"
TLDS = r"(?:com|net|org|id|co|io|me|info|biz|edu|gov|ac|sch|my|sg|us|uk|au)"
SHARED_EMAILS = [
    Shared(rf"{LOCAL}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{{2,}}"),
    # "sari@gmail", "sari @ gmail.com": a known mailbox provider makes the loose form safe.
    Shared(rf"{LOCAL}\s*@\s*{MAILBOXES}(?:\s*\.\s*[A-Za-z]{{2,}})*\b", "i"),
    # "sari [at] gmail [dot] com", "sari (at) mail (dot) co (dot) id"
    Shared(
        rf"{LOCAL}\s*[\[({{]\s*(?:at|et|@)\s*[\])}}]\s*[A-Za-z0-9-]+"
        rf"(?:\s*(?:[\[({{]\s*(?:dot|titik)\s*[\])}}]|\.)\s*[A-Za-z0-9-]+)+",
        "i",
    ),
    # "sari at gmail dot com": only with the word "dot" and a real top-level domain at the end.
    Shared(
        rf"(?<![\w.]){LOCAL}\s+(?:at|et)\s+[A-Za-z0-9-]+(?:\s+(?:dot|titik)\s+[A-Za-z]+)*"
        rf"\s+(?:dot|titik)\s+{TLDS}\b",
        "i",
    ),
]
EMAILS = [pattern.compile() for pattern in SHARED_EMAILS]


def emails(source: Source) -> Iterator[Span]:
    """E-mail addresses, plain or spelled out with [at] / (dot) / "at … dot com"."""
    for pattern in EMAILS:
        for match in pattern.finditer(source.original):
            yield Span(match.start(), match.end(), Kind.EMAIL)


# --- Messaging-app links and handles -----------------------------------------------------------

APP_DOMAINS = (
    r"(?:wa\.me|(?:api\.|chat\.|web\.)?whatsapp\.com|t\.me|telegram\.(?:me|dog)|m\.me|ig\.me"
    r"|instagr(?:\.am|am\.com)|(?:m\.|web\.|mobile\.)?facebook\.com|fb\.(?:com|me)"
    r"|line\.me|lin\.ee)"
)
SHARED["app_link"] = Shared(
    rf"(?<![\w.@-])(?:https?://)?(?:www\.)?{APP_DOMAINS}/" r"""[^\s<>"']+""", "i"
)
APP_NAMES = r"(?:ig|insta(?:gram)?|wa|whats\s?app|telegram|tele|tg|line)"
SHARED["at_handle"] = Shared(rf"(?<![\w.]){APP_NAMES}(?:\s*id)?\s*[:\-]?\s*(@[\w.]+)", "i")
# The bare token after "IG:" — not after "WA:" (WhatsApp numbers are found as numbers).
SHARED["colon_handle"] = Shared(
    r"(?<![\w.])(?:ig|insta(?:gram)?|telegram|tele|tg|line)(?:\s*id)?\s*:\s*"
    r"([A-Za-z_][\w.]{2,29})",
    "i",
)
APP_LINK = SHARED["app_link"].compile()
AT_HANDLE = SHARED["at_handle"].compile()
COLON_HANDLE = SHARED["colon_handle"].compile()
NOT_HANDLES = frozenset(
    {"the", "and", "for", "yes", "not", "dm", "chat"}
    | {"ada", "aja", "saja", "saya", "aku", "kak", "gan", "sis", "bro", "sama", "juga"}
)
TRAILING = ".,;:!?)]}'\""


def app_links(source: Source) -> Iterator[Span]:
    """Links that open a chat or a profile: wa.me/…, t.me/…, instagram.com/…, with or without
    scheme or www. Trailing punctuation and an unmatched closing bracket stay outside."""
    for match in APP_LINK.finditer(source.original):
        end = match.end()
        while end > match.start() and source.original[end - 1] in TRAILING:
            end -= 1
        yield Span(match.start(), end, Kind.APP_LINK)


def app_handles(source: Source) -> Iterator[Span]:
    """`@handle` after a messaging app's name ("ig: @sari.bikes", "Telegram @sari"), and the
    token right after "IG:" / "Telegram:" / "Line:". Only the handle is hidden, not the name."""
    for pattern in (AT_HANDLE, COLON_HANDLE):
        for match in pattern.finditer(source.original):
            handle = match.group(1).rstrip(".")
            if handle.lower() in NOT_HANDLES or len(handle.lstrip("@")) < 2:
                continue
            yield Span(match.start(1), match.start(1) + len(handle), Kind.APP_LINK)


Detector = Callable[[Source], Iterable[Span]]
DETECTORS: list[Detector] = [
    phone_numbers,
    bare_mobile_numbers,
    spelled_digits,
    emails,
    app_links,
    app_handles,
]


def shared_definition() -> dict[str, object]:
    """What the browser's copy of this guard needs, as JSON: the regular expressions above, the
    word lists and the thresholds (relay/pipeline/guard_rules.py adds regions and placeholder)."""
    return {
        "patterns": {name: pattern.as_json() for name, pattern in SHARED.items()},
        "emails": [pattern.as_json() for pattern in SHARED_EMAILS],
        "lookalikes": LOOKALIKE_DIGITS,
        "openers": OPENERS,
        "closers": CLOSERS,
        "amount_window": AMOUNT_WINDOW,
        "bare_mobile_region": BARE_MOBILE_REGION,
        "bare_mobile_min_digits": BARE_MOBILE_MIN_DIGITS,
        "digit_words": sorted(DIGIT_WORDS),
        "repeaters": REPEATERS,
        "spelled_min_digits": SPELLED_MIN_DIGITS,
        "spelled_min_words": SPELLED_MIN_WORDS,
        "not_handles": sorted(NOT_HANDLES),
        "trailing": TRAILING,
        "kinds": [kind.value for kind in Kind],
    }
