"""Retention: shred conversations closed more than RELAY_RETENTION_DAYS ago.

Only a closed conversation is shredded: ended and blocked ones can still be resumed, and they
close once idle (relay/services/lifecycle.py), which `purge` applies first.

Shredding deletes the wrapped data key, so every body of the conversation becomes unreadable
(privacy invariant 5) while the rows stay for counts, order and moderation history. Its photos
(relay/services/media.py) go entirely, rows and stored files: a photo has no place in a
history once it cannot be opened.

Reports resolved or dismissed more than RELAY_EVIDENCE_RETENTION_DAYS ago have their evidence,
reporter's note and moderators' notes shredded the same way (their report key is deleted),
unless a legal hold is active (relay/services/legal_holds.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from relay.models import Conversation, Delivery, EarlyStatus, IdempotencyRecord, Report
from relay.services import data_requests, early_statuses, evidence, lifecycle, media

Progress = Callable[[int], None]
ENDED = (Conversation.Status.CLOSED,)


@dataclass
class PurgeSummary:
    cutoff: dt.datetime
    conversations: int = 0
    closed_idle: int = 0  # conversations the lifecycle closed first (due, idle)
    notice_parameters: int = 0
    idempotency_records: int = 0
    early_statuses: int = 0  # status webhooks that never found their delivery
    data_request_codes: int = 0  # buyers' one-time codes, used or expired
    evidence_cutoff: dt.datetime | None = None
    reports_shredded: int = 0  # evidence, notes and moderator notes of old reports
    reports_held: int = 0  # due, but under an active legal hold
    media_files: int = 0  # photos of shredded conversations and unsent uploads, deleted
    orphan_files: int = 0  # stored files no row named any more, deleted
    dry_run: bool = False


def expired_conversations(*, cutoff: dt.datetime) -> QuerySet[Conversation]:
    """Ended conversations still holding a key, ended (closed_at, else last activity) before
    the cutoff."""
    return (
        Conversation.objects.filter(status__in=ENDED, wrapped_key__isnull=False)
        .annotate(ended_at=Coalesce("closed_at", "last_activity_at"))
        .filter(ended_at__lt=cutoff)
    )


def expired_notice_parameters(*, cutoff: dt.datetime) -> QuerySet[Delivery]:
    """Sealed notice parameters (verification codes) of finished notices outside any
    conversation, older than the cutoff: they served their purpose minutes after sending."""
    return Delivery.objects.filter(
        conversation__isnull=True,
        sealed_params__isnull=False,
        state__in=Delivery.FINAL_STATES,
        created_at__lt=cutoff,
    )


def expired_reports(*, cutoff: dt.datetime) -> QuerySet[Report]:
    """Reports resolved or dismissed before the cutoff that still hold something sealed
    (legal holds are applied by evidence.shred_reports)."""
    return Report.objects.filter(
        status__in=(Report.Status.RESOLVED, Report.Status.DISMISSED), resolved_at__lt=cutoff
    ).filter(
        Q(wrapped_key__isnull=False)
        | Q(public_key__isnull=False)
        | Q(evidence_sealed__isnull=False)
        | Q(note_sealed__isnull=False)
    )


def purge_expired(
    *,
    days: int,
    evidence_days: int | None = None,
    dry_run: bool = False,
    batch_size: int = 500,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> PurgeSummary:
    """Shred expired conversations, clear their sealed notice parameters and delete their
    photos (rows and stored files), batch by batch; delete web uploads no message took and
    stored files no row names;
    shred the evidence of reports resolved more than `evidence_days` (default
    RELAY_EVIDENCE_RETENTION_DAYS) ago unless held; delete expired idempotency records and
    status webhooks that never found their delivery.

    Idle conversations are closed first (the lifecycle's schedule). The shredding UPDATE
    repeats the expiry conditions, so a row that changed after it was listed is left alone.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    summary = PurgeSummary(cutoff=cutoff, dry_run=dry_run)
    summary.evidence_cutoff = (now or timezone.now()) - dt.timedelta(
        days=evidence_days or settings.RELAY_EVIDENCE_RETENTION_DAYS
    )
    if dry_run:
        _count_expired(summary, now=now)
        if progress is not None:
            progress(summary.conversations)
        return summary
    summary.closed_idle = lifecycle.close_idle(now=now)
    while True:
        batch = list(
            expired_conversations(cutoff=cutoff)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            break
        with transaction.atomic():
            shredded = list(
                expired_conversations(cutoff=cutoff)
                .select_for_update()
                .filter(pk__in=batch)
                .values_list("pk", flat=True)
            )
            summary.conversations += Conversation.objects.filter(pk__in=shredded).update(
                wrapped_key=None
            )
            summary.notice_parameters += Delivery.objects.filter(
                conversation_id__in=shredded, sealed_params__isnull=False
            ).update(sealed_params=None)
            summary.media_files += media.shred_media(media.of_conversations(shredded))
        if progress is not None:
            progress(len(batch))
    summary.notice_parameters += expired_notice_parameters(cutoff=cutoff).update(sealed_params=None)
    summary.idempotency_records, _by_model = expired_idempotency_records(now=now).delete()
    summary.early_statuses = early_statuses.forget_expired(now=now)
    summary.data_request_codes = data_requests.purge_data_request_codes(now=now)
    summary.media_files += media.shred_media(media.unsent_uploads(now=now))
    summary.orphan_files = media.sweep_orphans(now=now)
    reports = evidence.shred_reports(
        expired_reports(cutoff=summary.evidence_cutoff), now=now or timezone.now()
    )
    summary.reports_shredded, summary.reports_held = reports.shredded, reports.held
    return summary


def _count_expired(summary: PurgeSummary, *, now: dt.datetime | None) -> None:
    """What purge would do, counted (--dry-run)."""
    cutoff = summary.cutoff
    summary.closed_idle = Conversation.objects.filter(lifecycle.idle_conversations(now=now)).count()
    summary.conversations = expired_conversations(cutoff=cutoff).count()
    summary.notice_parameters = (
        Delivery.objects.filter(
            sealed_params__isnull=False,
            conversation__in=expired_conversations(cutoff=cutoff).values("pk"),
        ).count()
        + expired_notice_parameters(cutoff=cutoff).count()
    )
    summary.idempotency_records = expired_idempotency_records(now=now).count()
    summary.media_files = (
        media.of_conversations(
            list(expired_conversations(cutoff=cutoff).values_list("pk", flat=True))
        ).count()
        + media.unsent_uploads(now=now).count()
    )
    summary.early_statuses = EarlyStatus.objects.filter(
        received_at__lt=early_statuses.expired_cutoff(now=now)
    ).count()
    summary.data_request_codes = data_requests.finished_data_request_codes(now=now).count()
    assert summary.evidence_cutoff is not None
    due = expired_reports(cutoff=summary.evidence_cutoff)
    held = evidence.active_holds(now=now).values("report_id")
    summary.reports_held = due.filter(pk__in=held).count()
    summary.reports_shredded = due.count() - summary.reports_held


def expired_idempotency_records(*, now: dt.datetime | None = None) -> QuerySet[IdempotencyRecord]:
    """Stored API responses older than API_IDEMPOTENCY_HOURS: a client retrying later than
    that is sending a new request."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    return IdempotencyRecord.objects.filter(created_at__lt=cutoff)
