"""The audit log: every moderation step and every reveal of protected data writes a row."""

from __future__ import annotations

from typing import Any

from contacts.models import User
from relay.models import AuditEntry


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
