"""Shred conversations that ended more than the retention window ago."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from relay.management.progress import ProgressBar
from relay.services import retention


class Command(BaseCommand):
    help = (
        "Shred (delete the keys of) closed and blocked conversations that ended more than "
        "--days ago, making their bodies unreadable, clear their sealed notice parameters and "
        "delete their photos (and uploads no message took, and stored files no row names); "
        "shred the evidence, reporters' notes and moderators' notes of reports resolved more "
        "than --evidence-days ago, except under an active legal hold."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--days",
            type=int,
            default=settings.RELAY_RETENTION_DAYS,
            help="retention window in days (default RELAY_RETENTION_DAYS)",
        )
        parser.add_argument(
            "--evidence-days",
            type=int,
            default=settings.RELAY_EVIDENCE_RETENTION_DAYS,
            help="report evidence window in days (default RELAY_EVIDENCE_RETENTION_DAYS)",
        )
        parser.add_argument("--dry-run", action="store_true", help="count, change nothing")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days < 1 or options["evidence_days"] < 1:
            raise CommandError("--days and --evidence-days must be at least 1")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        now = timezone.now()
        cutoff = now - dt.timedelta(days=days)
        total = retention.expired_conversations(cutoff=cutoff).count()
        bar = ProgressBar(self.stderr, total, label="conversations")
        summary = retention.purge_expired(
            days=days,
            evidence_days=options["evidence_days"],
            now=now,
            dry_run=options["dry_run"],
            batch_size=options["batch_size"],
            progress=bar.advance,
        )
        bar.finish()
        verb = "Would shred" if summary.dry_run else "Shredded"
        orphans = "" if summary.dry_run else f" and {summary.orphan_files} stray stored files"
        self.stdout.write(
            f"{'Would close' if summary.dry_run else 'Closed'} {summary.closed_idle} idle "
            "conversations (RELAY_CLOSE_AFTER_DAYS / RELAY_IDLE_CLOSE_DAYS). "
            f"{verb} {summary.conversations} conversations closed before "
            f"{summary.cutoff:%Y-%m-%d %H:%M} UTC ({days} days) and "
            f"{'would clear' if summary.dry_run else 'cleared'} "
            f"{summary.notice_parameters} sealed notice parameters; "
            f"{'would delete' if summary.dry_run else 'deleted'} "
            f"{summary.idempotency_records} stored API responses past their retry window and "
            f"{summary.early_statuses} status webhooks that never matched a message and "
            f"{summary.data_request_codes} used or expired data-request codes. "
            f"{'Would delete' if summary.dry_run else 'Deleted'} {summary.media_files} photos "
            f"of shredded conversations or never sent{orphans}. "
            f"{verb} the evidence and notes of {summary.reports_shredded} reports resolved "
            f"before {summary.evidence_cutoff:%Y-%m-%d %H:%M} UTC "
            f"({options['evidence_days']} days); {summary.reports_held} more are under a "
            "legal hold."
        )
