"""Retention: shred conversations closed more than RELAY_RETENTION_DAYS ago.

Only a closed conversation is shredded: ended and blocked ones can still be resumed, and they
close once idle (relay/services/lifecycle.py), which `purge` applies first.

Shredding deletes the wrapped data key, so every body of the conversation becomes unreadable
(privacy invariant 5) while the rows stay for counts, order and moderation history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from relay.models import Conversation, Delivery, EarlyStatus, IdempotencyRecord
from relay.services import data_requests, early_statuses, lifecycle

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


def purge_expired(
    *,
    days: int,
    dry_run: bool = False,
    batch_size: int = 500,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> PurgeSummary:
    """Shred expired conversations and clear their sealed notice parameters, batch by batch;
    delete expired idempotency records and status webhooks that never found their delivery.

    Idle conversations are closed first (the lifecycle's schedule). The shredding UPDATE
    repeats the expiry conditions, so a row that changed after it was listed is left alone.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    summary = PurgeSummary(cutoff=cutoff, dry_run=dry_run)
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
        if progress is not None:
            progress(len(batch))
    summary.notice_parameters += expired_notice_parameters(cutoff=cutoff).update(sealed_params=None)
    summary.idempotency_records, _by_model = expired_idempotency_records(now=now).delete()
    summary.early_statuses = early_statuses.forget_expired(now=now)
    summary.data_request_codes = data_requests.purge_data_request_codes(now=now)
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
    summary.early_statuses = EarlyStatus.objects.filter(
        received_at__lt=early_statuses.expired_cutoff(now=now)
    ).count()
    summary.data_request_codes = data_requests.finished_data_request_codes(now=now).count()


def expired_idempotency_records(*, now: dt.datetime | None = None) -> QuerySet[IdempotencyRecord]:
    """Stored API responses older than API_IDEMPOTENCY_HOURS: a client retrying later than
    that is sending a new request."""
    cutoff = (now or timezone.now()) - dt.timedelta(hours=settings.API_IDEMPOTENCY_HOURS)
    return IdempotencyRecord.objects.filter(created_at__lt=cutoff)
