"""Keep the phones page's history across restarts: the sandbox's state in one JSON file.

`make run` (run_demo) sets SANDBOX_STATE_FILE to a file under var/; tests and benchmarks leave
it unset and keep everything in memory. What is kept is what the phones page shows: the people
added at run time (new sellers' phones), every message each person sent and received with its
status, and Twilio's opt-out list. The webhook log and rejections are diagnostics for tests and
are not kept.

Writing is done by one background thread, at most every `interval` seconds and only when
something changed, so request threads never wait on the disk; `stop()` writes a last time.
The file is replaced atomically (write a temporary file, then rename), so a crash mid-write
leaves the previous copy, never half a file.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from sandbox.config import person_from_dict
from sandbox.state import SandboxState

FORMAT = 1


def snapshot(state: SandboxState) -> dict[str, Any]:
    """A JSON-ready copy of what the phones page shows, taken under the state's lock."""
    with state.lock:
        return {
            "format": FORMAT,
            "people": [dataclasses.asdict(person) for person in state.people.values()],
            "outbox": [dict(record) for record in state.outbox],
            "inbound": [dict(record) for record in state.inbound],
            "opt_outs": sorted([list(pair) for pair in state.opt_outs]),
        }


def restore(state: SandboxState, data: dict[str, Any]) -> None:
    """Put a snapshot back into a fresh state (people from the fixture are kept, the saved
    copy of a person wins). Raise ValueError if it is not a snapshot this code wrote."""
    if data.get("format") != FORMAT:
        raise ValueError(f"unknown format {data.get('format')!r}")
    for item in data.get("people", []):
        state.add_person(person_from_dict(item))
    with state.lock:
        for record in data.get("outbox", []):
            record["index"] = len(state.outbox)
            state.outbox.append(record)
            state.sends_by_provider_id[record["provider_message_id"]] = record
            if record.get("person"):
                state.inbox.setdefault(record["person"], []).append(record)
        for record in data.get("inbound", []):
            record["index"] = len(state.inbound)
            state.inbound.append(record)
            state.sent_by_person.setdefault(record["person"], []).append(record)
        state.opt_outs.update((str(key), str(number)) for key, number in data.get("opt_outs", []))


def load(state: SandboxState, path: Path) -> None:
    """Restore `path` into `state` if it exists; a damaged file is set aside, not fatal, so
    the demo still starts (with an empty history) and the old file can be looked at."""
    if not path.exists():
        return
    try:
        restore(state, json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, KeyError) as error:
        damaged = path.with_suffix(path.suffix + ".damaged")
        os.replace(path, damaged)
        sys.stderr.write(f"sandbox: could not read {path} ({error}); moved it to {damaged}\n")


def save(state: SandboxState, path: Path) -> None:
    data = snapshot(state)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    os.replace(temporary, path)


class StateSaver:
    """Write the state to `path` whenever it changed, from a daemon thread."""

    def __init__(self, state: SandboxState, path: Path, interval: float = 0.5) -> None:
        self.state = state
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._saved_version = state.version
        self._thread = threading.Thread(target=self._run, name="sandbox-saver", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self) -> None:
        version = self.state.version
        if version != self._saved_version:
            save(self.state, self.path)
            self._saved_version = version

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush()
