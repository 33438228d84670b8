"""Reports and what moderators do about them. Every step writes an audit row."""

from __future__ import annotations

import base64
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts import services as contacts
from contacts.models import Endpoint, User
from marketplace.images import ImageRefused, clean_image
from marketplace.models import Listing
from relay import crypto
from relay.models import Ban, Conversation, MediaFile, Message, Report, Sanction, Side
from relay.services import (
    audit,
    event_counts,
    evidence,
    franked_reports,
    integrations,
    lifecycle,
    media,
    outbound,
    snapshot,
)
from relay.services.conversations import recipient_endpoint_for_seller
from relay.services.errors import RelayError

logger = logging.getLogger(__name__)
# A photo in report evidence is a re-encoded JPEG copy this small: enough for a moderator to
# judge, and a report of three photos stays a row of a few hundred kilobytes.
EVIDENCE_PHOTO_SIDE = 1024
EVIDENCE_PHOTO_MAX_BYTES = 400 * 1024

REASON_BY_NUMBER = {
    "1": Report.Reason.SPAM,
    "2": Report.Reason.SCAM,
    "3": Report.Reason.HARASSMENT,
    "4": Report.Reason.PROHIBITED,
    "5": Report.Reason.OTHER,
}


class Action(models.TextChoices):
    """What a moderator can do with a report; the value is stored in `Report.resolution` and
    names the audit row (`relay.report.<value>`), so it never changes once written."""

    DISMISS = "dismiss", gettext_lazy("Dismiss the report")
    WARN = "warn", gettext_lazy("Warn the reported side")
    BLOCK = "block", gettext_lazy("Block the conversation")
    SUSPEND = "suspend", gettext_lazy("Suspend the reported side")
    BAN = "ban", gettext_lazy("Ban the reported side")
    TAKEDOWN = "takedown", gettext_lazy("Take the listing down")
    LIFT = "lift", gettext_lazy("Lift the suspension")
    UNBAN = "unban", gettext_lazy("Lift the ban")
    REOPEN = "reopen", gettext_lazy("Reopen the report")


# The decisions that close an open report (what resolve_report accepts).
ACTIONS = ("dismiss", "warn", "block", "suspend", "ban", "takedown")

_SANCTIONS = frozenset({Action.WARN, Action.BLOCK, Action.SUSPEND, Action.BAN, Action.TAKEDOWN})
_UNDO = frozenset({Action.LIFT, Action.UNBAN})

# The one table of what may follow what. An open report takes any decision. A resolved one can
# still be escalated (warn, then suspend, then ban) or undone (lift, unban), but not dismissed:
# that would say nobody was acted on while a sanction stands. A dismissed report said "nothing
# to act on": sanctioning it would contradict that, so it is reopened first, on the record.
ALLOWED_ACTIONS: dict[str, frozenset[str]] = {
    Report.Status.OPEN: _SANCTIONS | _UNDO | {Action.DISMISS},
    Report.Status.RESOLVED: _SANCTIONS | _UNDO,
    Report.Status.DISMISSED: frozenset({Action.REOPEN}),
    Report.Status.AWAITING_REASON: frozenset(),
}


class ModerationError(RelayError):
    pass


class ActionNotAllowed(ModerationError):
    """The action contradicts the report's state (the API answers 409)."""


_REFUSED_BECAUSE: dict[str, Any] = {
    Report.Status.DISMISSED: gettext_lazy(
        "This report was dismissed, so nobody can be sanctioned on it. Reopen it first if the "
        "decision was wrong."
    ),
    Report.Status.RESOLVED: gettext_lazy(
        "This report was already acted on, so it cannot be dismissed. Lift the sanction "
        "instead if it was a mistake."
    ),
    Report.Status.AWAITING_REASON: gettext_lazy(
        "This report is still waiting for the reporter's reason."
    ),
}


def allowed_actions(report: Report) -> list[str]:
    """The actions the report's state allows, in the order of `Action`."""
    allowed = ALLOWED_ACTIONS.get(report.status, frozenset())
    return [action for action in Action.values if action in allowed]


def _lock_for(report: Report, action: str) -> None:
    """Re-read the report's state under a row lock and refuse an action it does not allow.

    Must be called inside `transaction.atomic()`: two moderators acting at once are serialised
    here, and the second one is judged against the first one's decision."""
    if report.pk is not None:
        report.status = (
            Report.objects.select_for_update().values_list("status", flat=True).get(pk=report.pk)
        )
    if action in ALLOWED_ACTIONS.get(report.status, frozenset()):
        return
    if action == Action.REOPEN:
        raise ActionNotAllowed(_("Only a dismissed report can be reopened."))
    raise ActionNotAllowed(str(_REFUSED_BECAUSE[report.status]))


def _other(side: str) -> str:
    return Side.SELLER if side == Side.BUYER else Side.BUYER


def _relay_sealed(conversation: Conversation, reported_side: str) -> tuple[list[Any], bool]:
    """The last N messages the reported side sent that the relay itself can read, as
    moderators will read them, and whether end-to-end messages were among those N (the relay
    cannot read those: only the reporter's browser can show them, franked)."""
    limit = settings.RELAY_REPORT_EVIDENCE_MESSAGES
    messages = list(
        Message.objects.filter(conversation=conversation, sender_side=reported_side).order_by(
            "-id"
        )[:limit]
    )
    skipped_e2ee = any(message.e2ee for message in messages)
    try:
        key = crypto.unwrap_key(conversation.wrapped_key, conversation.code)
    except crypto.BodyUnreadable:
        return [], skipped_e2ee
    author = (
        conversation.buyer_pseudonym
        if reported_side == Side.BUYER
        else conversation.seller_pseudonym
    )
    items: list[Any] = []
    for message in reversed(messages):
        if message.e2ee:
            continue  # the sealed envelope is ciphertext to the relay, never text to show
        try:
            text = crypto.decrypt_body(key, message.uid, message.body_sealed)
        except crypto.BodyUnreadable:
            continue
        items.append(
            {
                "kind": franked_reports.RELAY_SEALED,
                "author": author,
                "text": text,
                "sent_at": message.created_at.isoformat(),
            }
        )
    photos = _evidence_photos(conversation, reported_side, author=author)
    # One timeline, oldest first; a photo follows the caption sent with it (a stable sort).
    return sorted(items + photos, key=lambda item: item["sent_at"]), skipped_e2ee


@dataclass(frozen=True)
class EvidenceSummary:
    """What the reporter is told about the messages their browser attached."""

    verified: int = 0
    unverified: int = 0
    unreadable: bool = False  # the `franked` field itself could not be read


def _evidence(
    conversation: Conversation, reported_side: str, franked: franked_reports.ParsedField
) -> tuple[list[Any], EvidenceSummary]:
    """The relay-sealed messages, then the franked claims checked, each item with its kind."""
    items, skipped_e2ee = _relay_sealed(conversation, reported_side)
    claimed = franked_reports.franked_evidence(
        franked, conversation=conversation, reported_side=reported_side
    )
    verified = sum(1 for item in claimed if item.get("verified"))
    if skipped_e2ee and not franked.claims and not franked.unreadable:
        claimed.append(
            {"kind": franked_reports.NOTE, "reason": franked_reports.NO_FRANKED, "text": ""}
        )
    summary = EvidenceSummary(
        verified=verified,
        unverified=len(franked.claims) - verified,
        unreadable=franked.unreadable,
    )
    return items + claimed, summary


def _evidence_photos(
    conversation: Conversation, reported_side: str, *, author: str
) -> list[dict[str, str]]:
    """The reported side's last RELAY_REPORT_EVIDENCE_PHOTOS photos that were sent, each as a
    small JPEG in base64 (`photo`) beside its `content_type`; sealed with the text."""
    limit = settings.RELAY_REPORT_EVIDENCE_PHOTOS
    if not limit:
        return []
    files = (
        MediaFile.objects.filter(
            conversation=conversation, sender_side=reported_side, message__isnull=False
        )
        .select_related("message")
        .order_by("-id")[:limit]
    )
    items = []
    for file in reversed(list(files)):
        copy = _evidence_copy(file, conversation)
        if copy is None:
            continue
        assert file.message is not None
        items.append(
            {
                "kind": franked_reports.RELAY_SEALED,
                "author": author,
                "text": "",
                "sent_at": file.message.created_at.isoformat(),
                "photo": base64.b64encode(copy).decode(),
                "content_type": "image/jpeg",
            }
        )
    return items


def _evidence_copy(file: MediaFile, conversation: Conversation) -> bytes | None:
    """A small JPEG of the photo, or None when it cannot be had.

    A report is never refused for a photo: a shredded key, a file gone, or a storage that
    fails in any way (an S3 error is not an OSError) leaves the photo out, with a log line
    naming the media row only."""
    try:
        copy = clean_image(
            media.read(file, conversation=conversation),
            max_side=EVIDENCE_PHOTO_SIDE,
            as_jpeg=True,
        ).data
    except (crypto.BodyUnreadable, ImageRefused):
        return None
    except Exception:
        logger.warning("a photo left out of report evidence: media %s unreadable", file.uid)
        return None
    return copy if len(copy) <= EVIDENCE_PHOTO_MAX_BYTES else None


def file_report(
    *,
    reporter_side: str,
    reason: str = "",
    note: str = "",
    conversation: Conversation | None = None,
    listing: Listing | None = None,
    reporter: Endpoint | None = None,
    automatic: bool = False,
    franked: franked_reports.ParsedField | None = None,
) -> Report:
    """File a report on the other side of a conversation, or on a listing from its page.

    Without a reason the report waits for the reporter's numbered reply (messaging channels).
    `franked`: the end-to-end messages the reporter's browser attached
    (franked_reports.parse_field), checked and sealed with the evidence.
    """
    report, _summary = file_conversation_report(
        reporter_side=reporter_side,
        reason=reason,
        note=note,
        conversation=conversation,
        listing=listing,
        reporter=reporter,
        automatic=automatic,
        franked=franked,
    )
    return report


@transaction.atomic
def file_conversation_report(
    *,
    reporter_side: str,
    reason: str = "",
    note: str = "",
    conversation: Conversation | None = None,
    listing: Listing | None = None,
    reporter: Endpoint | None = None,
    automatic: bool = False,
    franked: franked_reports.ParsedField | None = None,
) -> tuple[Report, EvidenceSummary]:
    """`file_report`, and what became of the messages the reporter's browser attached (the
    web roads tell the reporter when some could not be verified)."""
    if conversation is None and listing is None:
        raise ModerationError(_("A report needs a conversation or a listing."))
    if reason and reason not in Report.Reason.values:
        raise ModerationError(_("Pick one of the listed reasons."))
    report = Report(
        conversation=conversation,
        listing=listing or (conversation.listing if conversation else None),
        reporter_side=reporter_side,
        reporter_endpoint=reporter,
        reason=reason,
        automatic=automatic,
        status=Report.Status.OPEN if reason else Report.Status.AWAITING_REASON,
    )
    evidence.key_report(report)  # public keys suffice: workers and webhooks file reports
    summary = EvidenceSummary()
    if conversation is not None:
        summary = _report_conversation(
            report, conversation, reporter_side, franked or franked_reports.ParsedField([])
        )
    else:
        assert listing is not None
        report.reported_side = Side.SELLER
        report.reported_user = listing.seller
    if note.strip():
        evidence.seal_note(report, note.strip()[:2000])
    report.save()
    event_counts.report_filed()
    audit.record(
        action="relay.report.filed",
        actor=None,
        target_type="report",
        target_code=report.code,
        # Counts only: what the claims say is sealed to the report, never in the audit log.
        data={
            "reason": reason,
            "side": reporter_side,
            "automatic": automatic,
            "franked_verified": summary.verified,
            "franked_unverified": summary.unverified,
        },
    )
    if report.status == Report.Status.OPEN:
        _auto_suspend_if_needed(report)
    return report, summary


def _report_conversation(
    report: Report,
    conversation: Conversation,
    reporter_side: str,
    franked: franked_reports.ParsedField,
) -> EvidenceSummary:
    """The reported side is the reporter's other side; its last messages the relay can read
    and the franked messages the reporter's browser attached are sealed as evidence to the
    moderation key."""
    report.reported_side = _other(reporter_side) if reporter_side in Side.values else Side.SELLER
    if report.reported_side == Side.BUYER:
        report.reported_endpoint = conversation.buyer_endpoint
    else:
        report.reported_user = conversation.listing.seller
    items, summary = _evidence(conversation, report.reported_side, franked)
    evidence.seal_evidence(report, items)
    report.evidence_count = sum(1 for item in items if item.get("kind") != franked_reports.NOTE)
    return summary


def complete_report(*, report: Report, reason: str, note: str = "") -> Report:
    """The reporter answered the numbered question: the report enters the queue."""
    report.reason = reason
    report.status = Report.Status.OPEN
    if note.strip():
        evidence.seal_note(report, note.strip()[:2000])
    report.save(update_fields=["reason", "status", "note_sealed", "wrapped_key", "public_key"])
    _auto_suspend_if_needed(report)
    return report


def reported_filter(report: Report) -> Q:
    """Reports on the same participant as `report`."""
    if report.reported_endpoint_id is not None:
        return Q(reported_endpoint_id=report.reported_endpoint_id)
    return Q(reported_user_id=report.reported_user_id)


def _auto_suspend_if_needed(report: Report) -> None:
    """N distinct reporters within 24 hours suspend the participant pending review."""
    since = timezone.now() - dt.timedelta(hours=24)
    recent = Report.objects.filter(reported_filter(report), created_at__gte=since).exclude(
        status=Report.Status.AWAITING_REASON
    )
    reporters = {
        r.reporter_endpoint_id or f"report-{r.pk}" for r in recent.only("reporter_endpoint_id")
    }
    if len(reporters) < settings.RELAY_AUTO_SUSPEND_REPORTERS:
        return
    recent.filter(status=Report.Status.OPEN).update(urgent=True)
    if active_suspension(endpoint=report.reported_endpoint, user=report.reported_user):
        return
    Sanction.objects.create(
        kind=Sanction.Kind.SUSPEND,
        endpoint=report.reported_endpoint,
        user=report.reported_user,
        report=report,
        until=None,  # until a moderator reviews it
        automatic=True,
    )
    snapshot.invalidate()
    audit.record(
        action="relay.participant.auto_suspended",
        actor=None,
        target_type="report",
        target_code=report.code,
        reason=f"{len(reporters)} distinct reporters within 24 hours",
        data={"reporters": len(reporters)},  # the history says it in the reader's language
    )


# --- Enforcement -------------------------------------------------------------------------------


def active_suspension(
    *, endpoint: Endpoint | None = None, user: User | None = None
) -> Sanction | None:
    condition = Q()
    if endpoint is not None:
        condition |= Q(endpoint=endpoint)
        if endpoint.user_id is not None:
            condition |= Q(user_id=endpoint.user_id)
    if user is not None:
        condition |= Q(user=user)
    if not condition:
        return None
    now = timezone.now()
    return (
        Sanction.objects.filter(condition, kind=Sanction.Kind.SUSPEND, lifted_at=None)
        .filter(Q(until__isnull=True) | Q(until__gt=now))
        .first()
    )


def is_banned(blind_index: str) -> bool:
    return Ban.objects.filter(blind_index=blind_index, lifted_at=None).exists()


# --- Moderator reads and actions ----------------------------------------------------------------


def open_evidence(*, report: Report, moderator: User) -> list[dict[str, Any]]:
    """The reported messages, for a moderator's eyes; writes an audit row first.

    Raises ModerationError once the evidence was shredded, and
    evidence.ModerationKeyMissing in a process that holds only public moderation keys."""
    if report.evidence_shredded_at is not None:
        raise ModerationError(_("This report's evidence was shredded."))
    audit.record(
        action="relay.report.evidence_opened",
        actor=moderator,
        target_type="report",
        target_code=report.code,
        data={"messages": report.evidence_count},
    )
    opened = evidence.open_report_fields(report)
    items = list(opened.evidence)
    if opened.note:
        items.append(
            {
                "kind": franked_reports.NOTE,
                "reason": "reporter_note",
                "author": _("Reporter's note"),
                "text": opened.note,
                "sent_at": "",
            }
        )
    return items


def _reported_endpoints(report: Report) -> list[Endpoint]:
    if report.reported_endpoint is not None:
        return [report.reported_endpoint]
    if report.reported_user is not None:
        return list(report.reported_user.endpoints.exclude(channel="web"))
    return []


def _tell_reported(report: Report, code: str, params: dict[str, str]) -> None:
    """Send a notice to the reported participant on their channel (never who reported)."""
    if report.reported_endpoint is not None:
        recipient = report.reported_endpoint
    elif report.listing is not None:
        recipient = recipient_endpoint_for_seller(report.listing)
    else:
        return
    conversation = report.conversation
    identity = None
    if conversation is not None:
        identity = (
            conversation.buyer_identity
            if report.reported_side == Side.BUYER
            else conversation.seller_identity
        )
    outbound.queue_notice(recipient=recipient, identity=identity, code=code, params=params)


def _require_reason(reason: str) -> None:
    if not reason.strip():
        raise ModerationError(_("Every action needs a reason."))


def _active_suspensions_of(report: Report) -> QuerySet[Sanction]:
    target = (
        Q(endpoint=report.reported_endpoint)
        if report.reported_endpoint
        else Q(user=report.reported_user)
    )
    return Sanction.objects.filter(target, kind=Sanction.Kind.SUSPEND, lifted_at=None)


# --- Moderator actions: one service each, every one ends in _decide() -------------------------


def _decide(
    *,
    report: Report,
    moderator: User,
    action: str,
    reason: str,
    now: dt.datetime,
    status: str = Report.Status.RESOLVED,
    days: int | None = None,
    ends_automatic_suspension: bool = True,
) -> Report:
    """Close the report with the decision, audit it and tell the seller's integrators.

    Must be called inside `transaction.atomic()`, after the action's own effects."""
    report.status = status
    report.resolution = action
    report.resolved_at = now
    report.resolved_by = moderator
    report.urgent = False
    report.save(update_fields=["status", "resolution", "resolved_at", "resolved_by", "urgent"])
    if ends_automatic_suspension:
        # A decision ends any automatic suspension that waited for review.
        Sanction.objects.filter(
            report__in=Report.objects.filter(reported_filter(report)),
            automatic=True,
            lifted_at=None,
        ).update(lifted_at=now)
    snapshot.invalidate()
    audit.record_on_report(
        action=f"relay.report.{action}",
        actor=moderator,
        report=report,
        note=reason,
        data={"days": days} if days else {},
    )
    transaction.on_commit(lambda: integrations.report_resolved(report.pk))
    return report


@transaction.atomic
def dismiss(*, report: Report, moderator: User, reason: str) -> Report:
    """Close the report without acting on anyone."""
    _lock_for(report, Action.DISMISS)
    _require_reason(reason)
    return _decide(
        report=report,
        moderator=moderator,
        action="dismiss",
        reason=reason,
        now=timezone.now(),
        status=Report.Status.DISMISSED,
    )


@transaction.atomic
def warn(*, report: Report, moderator: User, reason: str) -> Report:
    """Tell the reported participant, on their channel, that they were warned; record it."""
    _lock_for(report, Action.WARN)
    _require_reason(reason)
    title = report.listing.public_title if report.listing else ""
    _tell_reported(report, "moderation_warning", {"title": title})
    Sanction.objects.create(
        kind=Sanction.Kind.WARN,
        endpoint=report.reported_endpoint,
        user=report.reported_user,
        report=report,
    )
    return _decide(
        report=report, moderator=moderator, action="warn", reason=reason, now=timezone.now()
    )


@transaction.atomic
def block(*, report: Report, moderator: User, reason: str) -> Report:
    """Block the reported conversation on the relay's behalf."""
    _lock_for(report, Action.BLOCK)
    _require_reason(reason)
    if report.conversation is None:
        raise ModerationError(_("This report has no conversation to block."))
    lifecycle.block(report.conversation, by_side=Side.RELAY)
    return _decide(
        report=report, moderator=moderator, action="block", reason=reason, now=timezone.now()
    )


MAX_SUSPENSION_DAYS = 3650  # ten years; past that a date overflows, and a ban says it better


@transaction.atomic
def suspend(*, report: Report, moderator: User, reason: str, days: int | None) -> Report:
    """Suspend the reported participant for `days` days, replacing any suspension in force."""
    _lock_for(report, Action.SUSPEND)
    _require_reason(reason)
    if not days or days < 1:
        raise ModerationError(_("Say for how many days."))
    if days > MAX_SUSPENSION_DAYS:
        raise ModerationError(
            _("A suspension lasts at most %(days)d days; for longer, ban.")
            % {"days": MAX_SUSPENSION_DAYS}
        )
    now = timezone.now()
    until = now + dt.timedelta(days=days)
    _active_suspensions_of(report).update(lifted_at=now)
    Sanction.objects.create(
        kind=Sanction.Kind.SUSPEND,
        endpoint=report.reported_endpoint,
        user=report.reported_user,
        report=report,
        until=until,
    )
    _tell_reported(report, "suspended_until", {"until": f"{until:%Y-%m-%d %H:%M} UTC"})
    # The new suspension is the decision: automatic ones are replaced above, not lifted.
    return _decide(
        report=report,
        moderator=moderator,
        action="suspend",
        reason=reason,
        now=now,
        days=days,
        ends_automatic_suspension=False,
    )


@transaction.atomic
def ban(*, report: Report, moderator: User, reason: str) -> Report:
    """Ban the reported addresses by blind index and deactivate a reported seller's account."""
    _lock_for(report, Action.BAN)
    _require_reason(reason)
    for endpoint in _reported_endpoints(report):
        Ban.objects.create(blind_index=endpoint.blind_index, report=report)
    if report.reported_user is not None:
        report.reported_user.is_active = False
        report.reported_user.save(update_fields=["is_active"])
    return _decide(
        report=report, moderator=moderator, action="ban", reason=reason, now=timezone.now()
    )


@transaction.atomic
def take_down(*, report: Report, moderator: User, reason: str) -> Report:
    """Take the reported listing down; its seller cannot publish it again."""
    _lock_for(report, Action.TAKEDOWN)
    _require_reason(reason)
    if report.listing is None:
        raise ModerationError(_("This report has no listing."))
    from marketplace.services import take_listing_down

    take_listing_down(listing=report.listing)
    return _decide(
        report=report, moderator=moderator, action="takedown", reason=reason, now=timezone.now()
    )


_WITHOUT_DAYS: dict[str, Callable[..., Report]] = {
    "dismiss": dismiss,
    "warn": warn,
    "block": block,
    "ban": ban,
    "takedown": take_down,
}


def resolve_report(
    *, report: Report, moderator: User, action: str, reason: str, days: int | None = None
) -> Report:
    """Apply the action named `action` (one of ACTIONS), as the queue page and the API ask.

    `days` is for "suspend" only; the other actions ignore it."""
    if action == "suspend":
        return suspend(report=report, moderator=moderator, reason=reason, days=days)
    if action not in _WITHOUT_DAYS:
        raise ModerationError(_("Unknown action."))
    return _WITHOUT_DAYS[action](report=report, moderator=moderator, reason=reason)


@transaction.atomic
def lift_suspension(*, report: Report, moderator: User, reason: str) -> int:
    """End the reported side's suspensions in force (a moderator's or the automatic one)."""
    _lock_for(report, Action.LIFT)
    _require_reason(reason)
    lifted = _active_suspensions_of(report).update(lifted_at=timezone.now())
    if not lifted:
        raise ModerationError(_("The reported side is not suspended: there is nothing to lift."))
    snapshot.invalidate()
    audit.record_on_report(
        action="relay.participant.suspension_lifted", actor=moderator, report=report, note=reason
    )
    return lifted


@transaction.atomic
def unban(*, report: Report, moderator: User, reason: str) -> int:
    """Lift the bans on the reported addresses and reactivate a banned seller's account."""
    _lock_for(report, Action.UNBAN)
    _require_reason(reason)
    indexes = [e.blind_index for e in _reported_endpoints(report)]
    lifted = Ban.objects.filter(blind_index__in=indexes, lifted_at=None).update(
        lifted_at=timezone.now()
    )
    deactivated = report.reported_user is not None and not report.reported_user.is_active
    if not lifted and not deactivated:
        raise ModerationError(_("The reported side is not banned: there is nothing to lift."))
    if report.reported_user is not None and not report.reported_user.is_active:
        report.reported_user.is_active = True
        report.reported_user.save(update_fields=["is_active"])
    snapshot.invalidate()
    audit.record_on_report(
        action="relay.participant.unbanned", actor=moderator, report=report, note=reason
    )
    return lifted


@transaction.atomic
def reopen(*, report: Report, moderator: User, reason: str) -> Report:
    """Put a dismissed report back in the queue, so that it can be acted on after all."""
    _lock_for(report, Action.REOPEN)
    _require_reason(reason)
    report.status = Report.Status.OPEN
    report.resolution = ""
    report.resolved_at = None
    report.resolved_by = None
    report.save(update_fields=["status", "resolution", "resolved_at", "resolved_by"])
    snapshot.invalidate()
    audit.record_on_report(
        action="relay.report.reopened", actor=moderator, report=report, note=reason
    )
    return report


def act(
    *, report: Report, moderator: User, action: str, reason: str, days: int | None = None
) -> None:
    """Apply any moderator action by name (one of `Action`), as the report page and the API ask.

    Raises ActionNotAllowed when the report's state refuses it, ModerationError otherwise."""
    undo: dict[str, Callable[..., object]] = {
        Action.LIFT: lift_suspension,
        Action.UNBAN: unban,
        Action.REOPEN: reopen,
    }
    if action in undo:
        undo[action](report=report, moderator=moderator, reason=reason)
        return
    resolve_report(report=report, moderator=moderator, action=action, reason=reason, days=days)


def unmask_address(*, report: Report, moderator: User, reason: str) -> list[str]:
    """Reveal the reported side's real addresses (legal requests): a separate permission."""
    if not moderator.has_perm("relay.unmask_address"):
        raise ModerationError(_("You do not have permission to reveal addresses."))
    if len(reason.strip()) < 10:
        raise ModerationError(_("Give the reason for revealing this address (a legal request)."))
    audit.record(
        action="relay.participant.address_revealed",
        actor=moderator,
        target_type="report",
        target_code=report.code,
        reason=reason.strip(),
    )
    return [
        f"{e.get_channel_display()}: {contacts.endpoint_address(e)}"
        for e in _reported_endpoints(report)
    ]
