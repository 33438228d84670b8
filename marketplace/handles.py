"""A listing's relay handle: a short, typable, unambiguous code (Crockford base32, 40 bits)."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from marketplace.models import Listing, RelayHandle

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 8  # 8 x 5 bits = 40 bits
# Crockford decoding: letters people confuse with digits read as those digits.
CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Typed as printed (K7Q2-MX9D), or with a space, a dot or nothing between the halves.
CANDIDATE = re.compile(r"(?<![0-9A-Za-z])([0-9A-Za-z]{4})[-\s.]?([0-9A-Za-z]{4})(?![0-9A-Za-z])")

# Every candidate, overlapping ones too: in "kode C215 DAKM" both "kode C215" and "C215 DAKM"
# look like handles; the lookup keeps the live one.
OVERLAPPING = re.compile(f"(?=({CANDIDATE.pattern}))")


def generate_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(text: str) -> str | None:
    """Canonical form of a typed handle (any case, dash or not), or None if it cannot be one."""
    cleaned = re.sub(r"[\s.-]", "", text or "").upper().translate(CONFUSABLE)
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def display(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


@dataclass(frozen=True)
class HandleCandidate:
    code: str
    deliberate: bool  # typed with a dash or digits: worth an "unknown handle" answer


def find_candidates(text: str) -> list[HandleCandidate]:
    """Every substring of `text` that could be a handle, most deliberate first."""
    found: list[HandleCandidate] = []
    for match in OVERLAPPING.finditer(text or ""):
        raw = match.group(1)
        code = normalize(raw)
        if code is None:
            continue
        digits = any(ch.isdigit() for ch in raw)
        if len(raw) == LENGTH + 1 and raw[4] in " \t." and not (digits or raw.isupper()):
            # "some text", "next.week": two words, not a handle written with a space or dot.
            continue
        # A spaced pair of upper-case words ("HALO BANG") may still be a live handle, but is
        # not worth an "unknown handle" answer.
        spaced_words = raw[4:5] in (" ", "\t", ".") and not digits
        deliberate = not spaced_words and ("-" in raw or digits or raw.isupper())
        found.append(HandleCandidate(code=code, deliberate=deliberate))
    return sorted(found, key=lambda candidate: not candidate.deliberate)


def issue_handle(*, listing: Listing) -> RelayHandle:
    """Give an active listing a live handle: resume a paused one or issue a fresh code."""
    live = listing.handles.exclude(status=RelayHandle.Status.RETIRED).first()
    if live is not None:
        if live.status != RelayHandle.Status.ACTIVE:
            live.status = RelayHandle.Status.ACTIVE
            live.save(update_fields=["status"])
        return live
    for _attempt in range(8):
        try:
            with transaction.atomic():
                return RelayHandle.objects.create(listing=listing, code=generate_code())
        except IntegrityError:
            # A 40-bit collision, or a concurrent issue for the same listing: look again.
            live = listing.handles.exclude(status=RelayHandle.Status.RETIRED).first()
            if live is not None:
                return live
    raise RuntimeError("could not issue a unique handle after 8 attempts")


def pause_handles(*, listing: Listing) -> None:
    listing.handles.filter(status=RelayHandle.Status.ACTIVE).update(
        status=RelayHandle.Status.PAUSED
    )


def rotate_handle(*, listing: Listing) -> RelayHandle:
    """Retire the live handle and issue a new one; the old code answers with a notice."""
    with transaction.atomic():
        listing.handles.exclude(status=RelayHandle.Status.RETIRED).update(
            status=RelayHandle.Status.RETIRED, retired_at=timezone.now()
        )
        handle = issue_handle(listing=listing)
        if not listing.is_open:
            pause_handles(listing=listing)
            handle.refresh_from_db()
        return handle


def lookup_handle(code: str) -> RelayHandle | None:
    canonical = normalize(code)
    if canonical is None:
        return None
    return RelayHandle.objects.select_related("listing").filter(code=canonical).first()


def live_handle(listing: Listing) -> RelayHandle | None:
    return listing.handles.exclude(status=RelayHandle.Status.RETIRED).first()
