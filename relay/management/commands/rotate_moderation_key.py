"""Re-wrap every live report key to RELAY_MODERATION_KEY_CURRENT."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from relay import evidence_crypto
from relay.management.progress import ProgressBar
from relay.services import evidence


class Command(BaseCommand):
    help = (
        "Re-wrap the key of every report not yet shredded to the current moderation key "
        "(RELAY_MODERATION_KEY_CURRENT). Resumable. Needs the private halves of the old keys "
        "(RELAY_MODERATION_KEYS); remove an old key only after --check shows nothing under it. "
        "Old evidence stays readable until it is shredded."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="only count report keys under each key id"
        )
        parser.add_argument("--batch-size", type=int, default=200, help="rows per transaction")

    def handle(self, *args: Any, **options: Any) -> None:
        current = evidence_crypto.current_moderation_key_id()
        if options["check"]:
            usage = evidence.report_key_usage()
            listed = ", ".join(f"{key_id}: {n}" for key_id, n in sorted(usage.items()))
            self.stdout.write(f"{'report keys':20} {listed or 'none'}")
            left = sum(n for key_id, n in usage.items() if key_id != current)
            self.stdout.write(f"{left} reports are not under the current moderation key {current}.")
            return
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        bar = ProgressBar(self.stderr, evidence.live_report_keys().count(), label="reports")
        result = evidence.rotate_report_keys(batch_size=options["batch_size"], progress=bar.advance)
        bar.finish()
        self.stdout.write(
            f"Re-wrapped {result.rewrapped} report keys to moderation key {current}; "
            f"{result.current} were already current."
        )
        if result.unreadable:
            raise CommandError(
                f"{result.unreadable} report keys do not open with any private key this process "
                "holds; is an old key missing from RELAY_MODERATION_KEYS?"
            )
