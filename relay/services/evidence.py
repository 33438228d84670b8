"""Report evidence under a key of its own per report, and shredding it.

What a report holds that is nobody else's business — the reported messages, the reporter's
note, moderators' notes on the actions taken and legal-hold reasons — is sealed to the
report's key (relay/evidence_crypto.py). Sealing needs only public keys, so workers and
webhooks can file reports; opening needs a moderation private key. Shredding a report deletes
its wrapped key and its ciphertexts: afterwards nothing opens, with any key.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from relay import evidence_crypto
from relay.evidence_crypto import EvidenceShredded, EvidenceUnreadable, ModerationKeyMissing
from relay.models import AuditEntry, LegalHold, Report

__all__ = [
    "EvidenceShredded",
    "EvidenceUnreadable",
    "ModerationKeyMissing",
    "ShredResult",
    "active_holds",
    "key_report",
    "moderator_notes",
    "open_report_fields",
    "reports_involving",
    "seal_evidence",
    "seal_note",
    "shred_reports",
]

EVIDENCE = "evidence"
NOTE = "note"
LEGAL_HOLD = "legal-hold"
SHREDDED = "(shredded)"


def _moderator_note_field(action: str) -> str:
    # The action is part of the associated data: a note cannot be moved to another action.
    return f"moderator-note:{action}"


def key_report(report: Report) -> None:
    """Give the (unsaved or saved) report a fresh key; the caller saves it."""
    private, public = evidence_crypto.new_report_key()
    report.wrapped_key = evidence_crypto.wrap_report_key(private, report.code)
    report.public_key = public


def _public_key(report: Report) -> bytes:
    """The report's public half; a report shredded earlier gets a new key, so a note written
    after shredding lives until the next purge instead of being stored readable."""
    if report.public_key is None:
        key_report(report)
        if report.pk is not None:
            report.save(update_fields=["wrapped_key", "public_key"])
    assert report.public_key is not None
    return bytes(report.public_key)


def _seal(report: Report, field: str, payload: Any) -> bytes:
    plain = json.dumps(payload).encode()
    return evidence_crypto.seal_field(_public_key(report), report.code, field, plain)


def seal_evidence(report: Report, items: list[dict[str, Any]]) -> None:
    """Seal the evidence items, each with its kind (relay/services/franked_reports.py):
    "relay_sealed" (the relay read and sealed it), "franked" (a reporter's claim, verified or
    not) or "note"."""
    report.evidence_sealed = _seal(report, EVIDENCE, items)


def seal_note(report: Report, note: str) -> None:
    report.note_sealed = _seal(report, NOTE, note)


def seal_moderator_note(report: Report, *, action: str, text: str) -> bytes:
    return _seal(report, _moderator_note_field(action), text)


def seal_hold_reason(report: Report, text: str) -> bytes:
    return _seal(report, LEGAL_HOLD, text)


def _report_private(report: Report) -> bytes:
    return evidence_crypto.unwrap_report_key(report.wrapped_key, report.code)


def _open(private: bytes, report: Report, field: str, blob: bytes | memoryview | None) -> Any:
    if blob is None:
        return None
    return json.loads(evidence_crypto.open_field(private, report.code, field, blob))


@dataclass(frozen=True)
class OpenedReport:
    evidence: list[dict[str, Any]]
    note: str | None


def open_report_fields(report: Report) -> OpenedReport:
    """The evidence and the reporter's note in the clear. Raises EvidenceShredded after
    shredding and ModerationKeyMissing in a process without the moderation private key.
    The caller writes the audit row (moderation.open_evidence)."""
    if report.evidence_shredded_at is not None:
        # A note written after shredding re-keys the report; the evidence stays gone.
        raise EvidenceShredded("the report's evidence has been shredded")
    private = _report_private(report)
    return OpenedReport(
        evidence=list(_open(private, report, EVIDENCE, report.evidence_sealed) or []),
        note=_open(private, report, NOTE, report.note_sealed),
    )


def open_hold_reason(report: Report, hold: LegalHold) -> str:
    """A legal hold's reason, or "(shredded)" once the report's key is gone."""
    try:
        return str(_open(_report_private(report), report, LEGAL_HOLD, hold.reason_sealed) or "")
    except (EvidenceShredded, EvidenceUnreadable):
        return SHREDDED


def moderator_notes(entries: list[AuditEntry]) -> dict[int, str]:
    """The reason to show for each audit row: plaintext rows as they are, sealed moderator
    notes opened while their report's key lives and "(shredded)" after.

    Loads the reports in one query and unwraps each report's key once."""
    sealed = [e for e in entries if e.reason_sealed is not None and e.target_type == "report"]
    reports = {r.code: r for r in Report.objects.filter(code__in={e.target_code for e in sealed})}
    keys: dict[str, bytes | None] = {}
    shown = {entry.pk: entry.reason for entry in entries}
    for entry in sealed:
        report = reports.get(entry.target_code)
        if report is not None and report.code not in keys:
            try:
                keys[report.code] = _report_private(report)
            except (EvidenceShredded, EvidenceUnreadable):
                keys[report.code] = None
        private = keys.get(entry.target_code)
        assert entry.reason_sealed is not None
        if report is None or private is None:
            shown[entry.pk] = SHREDDED
            continue
        try:
            field = _moderator_note_field(entry.action)
            shown[entry.pk] = str(_open(private, report, field, entry.reason_sealed))
        except EvidenceUnreadable:
            shown[entry.pk] = SHREDDED  # sealed under a key the report had before re-keying
    return shown


# --- Shredding ------------------------------------------------------------------------------


def active_holds(*, now: dt.datetime | None = None) -> QuerySet[LegalHold]:
    return LegalHold.objects.filter(released_at=None, until__gt=now or timezone.now())


def _unheld(reports: QuerySet[Report], now: dt.datetime) -> QuerySet[Report]:
    held = active_holds(now=now).filter(report=OuterRef("pk"))
    return reports.exclude(Exists(held))


def _holding_something() -> Q:
    return (
        Q(wrapped_key__isnull=False)
        | Q(public_key__isnull=False)
        | Q(evidence_sealed__isnull=False)
        | Q(note_sealed__isnull=False)
    )


@dataclass
class ShredResult:
    shredded: int = 0
    held: int = 0  # under an active legal hold: left alone


def shred_reports(reports: QuerySet[Report], *, now: dt.datetime | None = None) -> ShredResult:
    """Shred every report in `reports` except those under an active legal hold.

    Deletes the wrapped report key, the public half, the evidence and the reporter's note, and
    the legal holds' sealed reasons; moderators' notes in the append-only audit log stay as
    ciphertext that nothing can open any more. Must be called inside `transaction.atomic()`
    when combined with other writes; on its own it is one statement per table.
    """
    now = now or timezone.now()
    candidates = reports.filter(_holding_something())
    with transaction.atomic():
        held = candidates.exclude(pk__in=_unheld(candidates, now).values("pk")).count()
        pks = list(_unheld(candidates, now).values_list("pk", flat=True))
        shredded = Report.objects.filter(pk__in=pks).update(
            wrapped_key=None,
            public_key=None,
            evidence_sealed=None,
            note_sealed=None,
            evidence_shredded_at=now,
        )
        LegalHold.objects.filter(report_id__in=pks, reason_sealed__isnull=False).update(
            reason_sealed=None
        )
    return ShredResult(shredded=shredded, held=held)


def reports_involving(endpoint_ids: list[int], user_id: int | None) -> QuerySet[Report]:
    """Reports on those endpoints' conversations, filed by or against those endpoints, or,
    given a user, against the user or on the user's listings and their conversations."""
    condition = (
        Q(conversation__buyer_endpoint_id__in=endpoint_ids)
        | Q(reporter_endpoint_id__in=endpoint_ids)
        | Q(reported_endpoint_id__in=endpoint_ids)
    )
    if user_id is not None:
        condition |= (
            Q(reported_user_id=user_id)
            | Q(listing__seller_id=user_id)
            | Q(conversation__listing__seller_id=user_id)
        )
    # Forward foreign keys only: no join multiplies rows, so no DISTINCT is needed.
    return Report.objects.filter(condition)


# --- Rotation of the moderation key ---------------------------------------------------------


def rewrap_report(report: Report) -> bool:
    """Re-wrap the report key to the current moderation key; False if it already is."""
    assert report.wrapped_key is not None
    current = evidence_crypto.current_moderation_key_id()
    if evidence_crypto.wrapped_key_id(report.wrapped_key) == current:
        return False
    report.wrapped_key = evidence_crypto.rewrap_report_key(report.wrapped_key, report.code)
    report.save(update_fields=["wrapped_key"])
    return True


@dataclass
class RewrapResult:
    rewrapped: int = 0
    current: int = 0
    unreadable: int = 0


def live_report_keys() -> QuerySet[Report]:
    return Report.objects.filter(wrapped_key__isnull=False)


def rotate_report_keys(
    *, batch_size: int = 200, progress: Callable[[int], None] | None = None
) -> RewrapResult:
    """Re-wrap every live report key to the current moderation key; safe to stop and rerun.

    Batches by primary key (`pk > last`), each one short transaction with the rows locked, so
    a concurrent `purge` or erasure shredding a report goes first or waits, and a report
    shredded meanwhile is skipped rather than given its key back. Needs the private half of
    every moderation key a report is still wrapped to."""
    result = RewrapResult()
    last = 0
    while True:
        batch = list(
            live_report_keys()
            .filter(pk__gt=last)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return result
        with transaction.atomic():
            for report in live_report_keys().select_for_update().filter(pk__in=batch):
                try:
                    changed = rewrap_report(report)
                except (EvidenceUnreadable, ModerationKeyMissing):
                    result.unreadable += 1
                    continue
                if changed:
                    result.rewrapped += 1
                else:
                    result.current += 1
        last = batch[-1]
        if progress is not None:
            progress(len(batch))


def report_key_usage() -> dict[str, int]:
    """How many live report keys are wrapped to each moderation key id (`--check`)."""
    counts: dict[str, int] = {}
    blobs = Report.objects.filter(wrapped_key__isnull=False).values_list("wrapped_key", flat=True)
    for blob in blobs.iterator(chunk_size=1000):
        if blob is None:
            continue  # shredded since the query started
        try:
            key_id = evidence_crypto.wrapped_key_id(blob)
        except EvidenceUnreadable:
            key_id = "(not a wrapped key)"
        counts[key_id] = counts.get(key_id, 0) + 1
    return counts
