"""What happened to a report, told in words: its history, the facts about the reported side,
and the sentences a moderator reads after acting.

Audit actions and decisions are stored as stable machine codes (`relay.report.warn`, `warn`);
people read them only through the words here, in their own language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relay import pseudonyms
from relay.models import AuditEntry, Conversation, Report, Side
from relay.services import evidence
from relay.services.moderation import (
    Action,
    active_suspension,
    allowed_actions,
    is_banned,
    reported_filter,
)

# What the moderator reads once an action went through.
DONE: dict[str, Any] = {
    Action.DISMISS: gettext_lazy("The report was dismissed."),
    Action.WARN: gettext_lazy("The reported side was warned on their channel."),
    Action.BLOCK: gettext_lazy("The conversation was blocked."),
    Action.SUSPEND: gettext_lazy("The reported side was suspended."),
    Action.BAN: gettext_lazy("The reported side was banned."),
    Action.TAKEDOWN: gettext_lazy("The listing was taken down."),
    Action.LIFT: gettext_lazy("The suspension was lifted."),
    Action.UNBAN: gettext_lazy("The ban was lifted."),
    Action.REOPEN: gettext_lazy("The report is open again."),
}

# Each audit action, as a step in a report's history (past tense).
_STEPS: dict[str, Any] = {
    "relay.report.filed": gettext_lazy("Report filed"),
    "relay.participant.auto_suspended": gettext_lazy(
        "Suspended automatically until a moderator looks"
    ),
    "relay.report.evidence_opened": gettext_lazy("Reported messages opened"),
    "relay.report.dismiss": gettext_lazy("Report dismissed"),
    "relay.report.warn": gettext_lazy("Warned"),
    "relay.report.block": gettext_lazy("Conversation blocked"),
    "relay.report.suspend": gettext_lazy("Suspended"),
    "relay.report.ban": gettext_lazy("Banned"),
    "relay.report.takedown": gettext_lazy("Listing taken down"),
    "relay.participant.suspension_lifted": gettext_lazy("Suspension lifted"),
    "relay.participant.unbanned": gettext_lazy("Ban lifted"),
    "relay.report.reopened": gettext_lazy("Report reopened"),
    "relay.report.legal_hold_placed": gettext_lazy("Legal hold placed"),
    "relay.report.legal_hold_released": gettext_lazy("Legal hold released"),
    "relay.participant.address_revealed": gettext_lazy("Real address revealed"),
}

# Steps that acted on the reported participant, for "prior actions".
SANCTION_STEPS = (
    "relay.participant.auto_suspended",
    "relay.report.warn",
    "relay.report.block",
    "relay.report.suspend",
    "relay.report.ban",
    "relay.report.takedown",
    "relay.participant.suspension_lifted",
    "relay.participant.unbanned",
)


def step_words(entry: AuditEntry) -> str:
    """The audit row's action in words; an action without words yet shows its code rather
    than nothing."""
    words = _STEPS.get(entry.action)
    if words is None:
        return entry.action
    detail = _details(entry)
    return f"{words} ({detail})" if detail else str(words)


def _details(entry: AuditEntry) -> str:
    data = entry.data or {}
    if entry.action == "relay.report.suspend" and data.get("days"):
        days = int(data["days"])
        return _("1 day") if days == 1 else _("%(days)d days") % {"days": days}
    if entry.action == "relay.report.evidence_opened" and "messages" in data:
        return str(int(data["messages"]))  # "(3)": no plural forms needed in either language
    if entry.action == "relay.report.legal_hold_placed" and data.get("until"):
        until = dt.datetime.fromisoformat(str(data["until"]))
        return _("until %(date)s") % {"date": f"{timezone.localtime(until):%Y-%m-%d}"}
    return ""


@dataclass(frozen=True)
class Step:
    at: dt.datetime
    who: str
    what: str
    why: str


def _notes(entries: list[AuditEntry]) -> dict[int, str]:
    """Moderators' notes opened; in a process without the moderation private key they stay
    sealed and the history says so instead of failing the page."""
    try:
        return evidence.moderator_notes(entries)
    except evidence.ModerationKeyMissing:
        sealed = _("(sealed: this server cannot open moderators' notes)")
        return {e.pk: sealed if e.reason_sealed is not None else e.reason for e in entries}


def note_words(note: str) -> str:
    """A moderator's note as shown; the "(shredded)" marker in the reader's language."""
    return _("(shredded)") if note == evidence.SHREDDED else note


def _why(entry: AuditEntry, note: str, report: Report) -> str:
    data = entry.data or {}
    reason = data.get("reason") or report.reason
    if entry.action == "relay.report.filed" and reason in Report.Reason.values:
        return str(Report.Reason(reason).label)
    if entry.action == "relay.participant.auto_suspended" and data.get("reporters"):
        return _("%(count)d different people reported them within 24 hours") % {
            "count": int(data["reporters"])
        }
    return note_words(note)


def _who(entry: AuditEntry, report: Report) -> str:
    if entry.actor is not None:
        return entry.actor.username
    if entry.action == "relay.report.filed" and not report.automatic:
        return reporter_name(report)
    return _("the relay")


def report_history(report: Report) -> list[Step]:
    """Every audited step on the report, oldest first: what, who, when and why (the sealed
    moderator's note opened, "(shredded)" once the report's key is gone)."""
    entries = list(
        AuditEntry.objects.filter(target_type="report", target_code=report.code)
        .select_related("actor")
        .order_by("created_at", "id")
    )
    notes = _notes(entries)
    return [
        Step(
            at=entry.created_at,
            who=_who(entry, report),
            what=step_words(entry),
            why=_why(entry, notes[entry.pk], report),
        )
        for entry in entries
    ]


@dataclass(frozen=True)
class PriorAction:
    at: dt.datetime
    what: str
    report_code: str
    this_report: bool


@dataclass(frozen=True)
class ReportedFacts:
    reports_30_days: int
    distinct_reporters: int
    conversations_24_hours: int
    prior_actions: list[PriorAction]
    suspended: bool
    suspended_until: dt.datetime | None  # None while suspended: until a moderator reviews it
    banned: bool


def _prior_actions(report: Report) -> list[PriorAction]:
    """The last ten actions on the reported participant, on this report or any other, newest
    first: read from the audit log, because a report's own fields keep only its last decision."""
    codes = Report.objects.filter(reported_filter(report)).values("code")
    entries = AuditEntry.objects.filter(
        target_type="report", target_code__in=codes, action__in=SANCTION_STEPS
    ).order_by("-created_at", "-id")[:10]
    return [
        PriorAction(
            at=entry.created_at,
            what=step_words(entry),
            report_code=entry.target_code,
            this_report=entry.target_code == report.code,
        )
        for entry in entries
    ]


def _conversations_opened(report: Report, since: dt.datetime) -> int:
    if report.reported_endpoint_id is not None:
        return Conversation.objects.filter(
            buyer_endpoint_id=report.reported_endpoint_id, created_at__gte=since
        ).count()
    return Conversation.objects.filter(
        listing__seller_id=report.reported_user_id, created_at__gte=since
    ).count()


def facts_about_reported(report: Report) -> ReportedFacts:
    """What a moderator wants to know about the reported side before deciding."""
    now = timezone.now()
    reports = Report.objects.filter(
        reported_filter(report), created_at__gte=now - dt.timedelta(days=30)
    ).exclude(status=Report.Status.AWAITING_REASON)
    reporters = {r.reporter_endpoint_id or f"r{r.pk}" for r in reports}
    suspension = active_suspension(endpoint=report.reported_endpoint, user=report.reported_user)
    banned = False
    if report.reported_endpoint is not None:
        banned = is_banned(report.reported_endpoint.blind_index)
    elif report.reported_user is not None:
        banned = not report.reported_user.is_active
    return ReportedFacts(
        reports_30_days=reports.count(),
        distinct_reporters=len(reporters),
        conversations_24_hours=_conversations_opened(report, now - dt.timedelta(hours=24)),
        prior_actions=_prior_actions(report),
        suspended=suspension is not None,
        suspended_until=suspension.until if suspension else None,
        banned=banned,
    )


def offered_actions(report: Report, facts: ReportedFacts) -> list[tuple[str, str]]:
    """The actions the page offers: those the report's state allows and that have something
    to act on (a conversation to block, a suspension to lift...), as (code, words)."""
    applies: dict[str, Callable[[], bool]] = {
        Action.BLOCK: lambda: report.conversation_id is not None,
        Action.TAKEDOWN: lambda: report.listing is not None and not report.listing.taken_down,
        Action.LIFT: lambda: facts.suspended,
        Action.UNBAN: lambda: facts.banned,
    }
    return [
        (action, str(Action(action).label))
        for action in allowed_actions(report)
        if applies.get(action, lambda: True)()
    ]


# --- Names, in the moderator's language --------------------------------------------------------


def reported_name(report: Report) -> str:
    """The reported side's pseudonym in the active language ("Pembeli K7Q2"; the API asks for
    it in English, its stable form)."""
    if report.conversation is not None:
        return pseudonyms.pseudonym(report.reported_side, report.conversation)
    return pseudonyms.seller_name(report.listing.public_title) if report.listing else _("Seller")


def reporter_name(report: Report) -> str:
    """Who filed the report, in the active language."""
    if report.automatic:
        return pseudonyms.relay_name()
    if report.conversation is not None and report.reporter_side in (Side.BUYER, Side.SELLER):
        return pseudonyms.pseudonym(report.reporter_side, report.conversation)
    return pseudonyms.visitor_name()
