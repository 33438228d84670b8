"""The audit log: every moderation step and every reveal of protected data writes a row."""

from __future__ import annotations

from typing import Any

from contacts.models import User
from relay.models import AuditEntry, Report
from relay.services import evidence


def record(
    *,
    action: str,
    actor: User | None,
    target_type: str,
    target_code: str,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        target_type=target_type,
        target_code=target_code,
        reason=reason,
        data=data or {},
    )


def record_on_report(
    *,
    action: str,
    actor: User | None,
    report: Report,
    note: str,
    data: dict[str, Any] | None = None,
) -> AuditEntry:
    """An audit row for a moderator's action on a report, whose typed note is sealed under
    the report's key (it is shredded with the evidence); who did what when stays readable."""
    return AuditEntry.objects.create(
        action=action,
        actor=actor,
        target_type="report",
        target_code=report.code,
        reason="",
        reason_sealed=evidence.seal_moderator_note(report, action=action, text=note.strip()),
        data=data or {},
    )
