"""The moderator queue. Only the `moderator` group gets in; everyone else gets 403."""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.dateparse import parse_date
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from contacts.models import MODERATOR_GROUP, User
from relay.models import AuditEntry, Report
from relay.services import evidence, evidence_labels, legal_holds, moderation, moderation_story


def is_moderator(user: Any) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.groups.filter(name=MODERATOR_GROUP).exists()
    )


def moderator_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not is_moderator(request.user):
            raise PermissionDenied("Moderators only")
        try:
            return view(request, *args, **kwargs)
        except evidence.ModerationKeyMissing as error:
            # A deployment that routes moderation to a process holding only public keys.
            return HttpResponse(
                f"503: {error}", status=503, content_type="text/plain; charset=utf-8"
            )

    return guarded


def _report(code: str) -> Report:
    report = (
        Report.objects.select_related("conversation__listing", "listing")
        .exclude(status=Report.Status.AWAITING_REASON)
        .filter(code=code)
        .first()
    )
    if report is None:
        raise Http404("No such report")
    return report


def _moderator(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@moderator_required
def queue(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "open")
    reason = request.GET.get("reason", "")
    reports = Report.objects.exclude(status=Report.Status.AWAITING_REASON).select_related(
        "listing", "conversation__listing"
    )
    counts = dict(reports.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    if status:
        reports = reports.filter(status=status)
    if reason:
        reports = reports.filter(reason=reason)
    reports = reports.order_by("-urgent", "created_at")
    return render(
        request,
        "relay/moderation/queue.html",
        {
            "reports": reports[:200],
            "counts": counts,
            "status": status,
            "reason": reason,
            "reasons": Report.Reason.choices,
            "statuses": [s for s in Report.Status.choices if s[0] != "awaiting"],
        },
    )


def _detail(
    request: HttpRequest,
    report: Report,
    opened: list[dict[str, Any]] | None,
    revealed: list[str] | None = None,
) -> HttpResponse:
    holds = [
        (hold, evidence.open_hold_reason(report, hold))
        for hold in legal_holds.active_holds_of(report)
    ]
    facts = moderation_story.facts_about_reported(report)
    actions = moderation_story.offered_actions(report, facts)
    return render(
        request,
        "relay/moderation/report.html",
        {
            "report": report,
            "facts": facts,
            "history": moderation_story.report_history(report),
            "evidence": evidence_labels.shown_all(opened) if opened is not None else None,
            "can_unmask": request.user.has_perm("relay.unmask_address"),
            "revealed": revealed,
            "actions": actions,
            "offers_suspension": any(code == moderation.Action.SUSPEND for code, _words in actions),
            "holds": holds,
            "hold_max_days": legal_holds.MAX_HOLD_DAYS,
        },
    )


@moderator_required
def report_detail(request: HttpRequest, code: str) -> HttpResponse:
    return _detail(request, _report(code), None)


@moderator_required
@require_POST
def report_evidence(request: HttpRequest, code: str) -> HttpResponse:
    report = _report(code)
    try:
        opened = moderation.open_evidence(report=report, moderator=_moderator(request))
    except moderation.ModerationError as error:
        messages.error(request, error.message)
        return redirect("relay:moderation_report", code=code)
    return _detail(request, report, opened)


@moderator_required
@require_POST
def report_act(request: HttpRequest, code: str) -> HttpResponse:
    report = _report(code)
    action = request.POST.get("action", "")
    days = request.POST.get("days") or ""
    try:
        moderation.act(
            report=report,
            moderator=_moderator(request),
            action=action,
            reason=request.POST.get("reason", ""),
            days=int(days) if days.isdigit() else None,
        )
    except moderation.ModerationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, str(moderation_story.DONE[action]))
    return redirect("relay:moderation_report", code=code)


@moderator_required
@require_POST
def report_unmask(request: HttpRequest, code: str) -> HttpResponse:
    report = _report(code)
    try:
        revealed = moderation.unmask_address(
            report=report, moderator=_moderator(request), reason=request.POST.get("reason", "")
        )
    except moderation.ModerationError as error:
        messages.error(request, error.message)
        return redirect("relay:moderation_report", code=code)
    return _detail(request, report, None, revealed)


def _hold_until(raw: str) -> dt.datetime | None:
    """The hold covers its whole end date (UTC)."""
    day = parse_date(raw.strip()) if raw.strip() else None
    if day is None:
        return None
    return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=dt.UTC)


@moderator_required
@require_POST
def report_hold(request: HttpRequest, code: str) -> HttpResponse:
    report = _report(code)
    try:
        until = _hold_until(request.POST.get("until", ""))
    except ValueError:
        until = None
    try:
        legal_holds.place_legal_hold(
            report=report,
            moderator=_moderator(request),
            reason=request.POST.get("reason", ""),
            until=until,
        )
    except legal_holds.LegalHoldError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Legal hold placed."))
    return redirect("relay:moderation_report", code=code)


@moderator_required
@require_POST
def report_hold_release(request: HttpRequest, code: str, hold: str) -> HttpResponse:
    report = _report(code)
    found = report.legal_holds.filter(code=hold).first()
    if found is None:
        raise Http404("No such hold")
    try:
        legal_holds.release_legal_hold(
            hold=found, moderator=_moderator(request), reason=request.POST.get("reason", "")
        )
    except legal_holds.LegalHoldError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Legal hold released."))
    return redirect("relay:moderation_report", code=code)


def _audit_rows(request: HttpRequest) -> Any:
    rows = AuditEntry.objects.select_related("actor")
    action = request.GET.get("action", "")
    actor = request.GET.get("actor", "")
    target = request.GET.get("target", "")
    if action:
        rows = rows.filter(action__startswith=action)
    if actor:
        rows = rows.filter(actor__username=actor)
    if target:
        rows = rows.filter(Q(target_code=target))
    return rows


def _with_reasons(entries: list[AuditEntry]) -> list[tuple[AuditEntry, str, str]]:
    """Each row with its action in words and the reason to show: sealed moderator notes
    opened, "(shredded)" after."""
    reasons = evidence.moderator_notes(entries)
    return [
        (entry, moderation_story.step_words(entry), moderation_story.note_words(reasons[entry.pk]))
        for entry in entries
    ]


@moderator_required
def audit_log(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "relay/moderation/audit.html",
        {"rows": _with_reasons(list(_audit_rows(request)[:500])), "query": request.GET.urlencode()},
    )


@moderator_required
def audit_csv(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="perantara-audit.csv"'
    writer = csv.writer(response)
    # The action code stays for scripts; the words beside it are for people.
    writer.writerow(
        [
            _("Time"),
            _("Action code"),
            _("What happened"),
            _("Who"),
            _("Target type"),
            _("Target"),
            _("Reason"),
        ]
    )
    rows = _audit_rows(request).order_by("-pk")
    last: int | None = None
    while True:  # newest first by keyset; each chunk's notes open with one query for reports
        chunk = list((rows if last is None else rows.filter(pk__lt=last))[:500])
        if not chunk:
            break
        for entry, words, reason in _with_reasons(chunk):
            writer.writerow(
                [
                    entry.created_at.isoformat(),
                    entry.action,
                    words,
                    entry.actor.username if entry.actor else _("the relay"),
                    entry.target_type,
                    entry.target_code,
                    reason,
                ]
            )
        last = chunk[-1].pk
    return response
