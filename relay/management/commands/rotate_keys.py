"""Re-seal addresses, conversation keys and notice parameters under RELAY_KEY_CURRENT."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts import vault
from relay.management.progress import ProgressBar
from relay.services import keys


class Command(BaseCommand):
    help = (
        "Re-seal everything under the current key id (RELAY_KEY_CURRENT). Resumable: rows "
        "already under it are skipped. Keep old keys in RELAY_KEYRING until --check shows "
        "nothing left under them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check", action="store_true", help="only count rows under each key id"
        )
        parser.add_argument("--batch-size", type=int, default=200, help="rows per transaction")
        parser.add_argument(
            "--limit", type=int, default=None, help="stop after re-sealing this many rows"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        current = vault.current_key_id()
        if options["check"]:
            usage = keys.key_usage()
            left = 0
            for kind, counts in usage.items():
                listed = ", ".join(f"{key_id}: {n}" for key_id, n in sorted(counts.items()))
                self.stdout.write(f"{kind:20} {listed or 'none'}")
                left += sum(n for key_id, n in counts.items() if key_id != current)
            self.stdout.write(f"{left} rows are not under the current key {current}.")
            return
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1")
        bar = ProgressBar(self.stderr, keys.rows_to_scan(), label="rows")
        summary = keys.rotate_keys(
            batch_size=options["batch_size"], limit=options["limit"], progress=bar.advance
        )
        bar.finish()
        parts = ", ".join(f"{kind} {n}" for kind, n in summary.resealed.items()) or "nothing"
        line = (
            f"Re-sealed {summary.total_resealed} rows under key {current} ({parts}); "
            f"{summary.current} were already current"
        )
        if summary.stopped_at_limit:
            line += f"; stopped at --limit {options['limit']}, run again to continue"
        self.stdout.write(line + ".")
        if summary.unreadable:
            broken = ", ".join(f"{kind} {n}" for kind, n in summary.unreadable.items())
            raise CommandError(
                f"{sum(summary.unreadable.values())} rows do not open with any key in the ring "
                f"({broken}); is an old key missing from RELAY_KEYRING?"
            )
