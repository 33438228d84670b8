"""Drive load while a timeline injects faults, and judge the outcome from the sandbox's record.

Loss, duplicates, misrouting and order come from `bench.load.analyse` (the sandbox's outbox),
except that here "lost" is strict: an accepted (2xx) message whose token never reached a send
API by the deadline, whatever notices the relay sent instead.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench import load
from bench.fault_stack import FaultStack, log

MIX = {"reply": 0.35, "first": 0.15}  # the full mix of `make bench`
Action = Callable[[], None]


@dataclass
class Phase:
    run: load.Run
    marks: dict[str, float] = field(default_factory=dict)  # event -> wall-clock time it ended
    outbox: list[dict[str, Any]] = field(default_factory=list)
    first_arrival: dict[int, float] = field(default_factory=dict)  # token -> first send
    since: int = 0  # the outbox cursor after `outbox`

    @property
    def accepted(self) -> dict[int, load.Sent]:
        return {t: s for t, s in self.run.sent.items() if 200 <= s.status < 300}

    def undelivered(self) -> list[int]:
        return [token for token in self.accepted if token not in self.first_arrival]


def prepare(stack: FaultStack, *, latency_ms: int = 50, restart: bool = True) -> None:
    """Fresh app processes, an empty sandbox record, and buyers who have not written yet."""
    if restart:
        stack.restart_app()
    client = stack.control()
    client.call("POST", "/control/reset", {})
    client.call("POST", "/control/settings", {"latency_ms": latency_ms, "auto_status": True})
    world = stack.world
    with world.lock:
        # Follow-ups go only to buyers who started in this scenario: a conversation an
        # earlier scenario left stuck must not count here.
        world.active.clear()
        world.active_set.clear()


def drive(
    stack: FaultStack,
    *,
    rate: float,
    duration: float,
    timeline: list[tuple[float, str, Action]],
) -> Phase:
    """Offer `rate` messages/s for `duration` s; run each (offset, label, action) on time."""
    world, port = stack.world, stack.sandbox_port
    watcher = load.OutboxWatcher(world, port)
    watcher.start()
    phase = Phase(load.Run())
    loader = threading.Thread(
        target=load.open_loop, args=(world, phase.run, port, rate, duration, MIX), daemon=True
    )
    started = time.time()
    loader.start()
    for offset, label, action in timeline:
        time.sleep(max(0.0, started + offset - time.time()))
        log(f"  t={time.time() - started:5.1f}s {label}")
        action()
        phase.marks[label] = time.time()
    loader.join(duration + 180)
    watcher.stop()
    phase.outbox = watcher.records
    phase.since = watcher.since
    return phase


def collect(stack: FaultStack, phase: Phase, *, timeout: float) -> None:
    """Wait until every accepted message reached a send API, or `timeout` s have passed."""
    tracker = load.OutboxWatcher(stack.world, stack.sandbox_port)
    tracker.records, tracker.since = phase.outbox, phase.since
    phase.outbox = load.drain(stack.sandbox_port, phase.run, timeout=timeout, watcher=tracker)
    for send in phase.outbox:
        match = load.TOKEN.search(send.get("text") or "")
        if match:
            token = int(match.group(1))
            phase.first_arrival[token] = min(
                send["received_at"], phase.first_arrival.get(token, send["received_at"])
            )


def judge(stack: FaultStack, phase: Phase, *, latency_ms: int) -> dict[str, Any]:
    """The checks every scenario reports: lost, duplicated, misrouted, out of order."""
    found = load.analyse(stack.sandbox_port, phase.run, phase.outbox, latency_ms)
    accepted = phase.accepted
    message_hooks = [s for s in phase.run.sent.values() if not 200 <= s.status < 300]
    return {
        "offered": len(phase.run.sent),
        "accepted": len(accepted),
        "not_accepted": len(message_hooks),
        "kinds": found["kinds"],
        "lost": len(phase.undelivered()),
        "duplicated": found["duplicated"],
        "duplicate_examples": found["duplicate_examples"],
        "misrouted": found["misrouted"],
        "order_violations": found["order_violations"],
        "webhook_attempts_not_2xx": found["webhooks_not_2xx"],
        "post_errors": found["post_errors"],
        "delivery_states": stack.delivery_states(),
    }


def drain_after(phase: Phase, moment: float) -> float | None:
    """Seconds from `moment` until the last accepted message reached its platform (None if one
    never did before the deadline; 0 if all were through before `moment`)."""
    if phase.undelivered():
        return None
    last = max((phase.first_arrival[t] for t in phase.accepted), default=moment)
    return round(max(0.0, last - moment), 2)


def waits_after(phase: Phase, since: float, *, latency_ms: int, deadline: float) -> dict[str, Any]:
    """How long messages accepted from `since` on waited beyond the platform's own latency;
    one not delivered by `deadline` counts as having waited until then (censored)."""
    waits, censored = [], 0
    for token, sent in phase.accepted.items():
        if sent.acked < since:
            continue
        arrived = phase.first_arrival.get(token)
        if arrived is None:
            censored += 1
            arrived = deadline
        waits.append(max(0.0, arrived - sent.acked - latency_ms / 1000))
    return {
        "messages_measured": len(waits),
        "max_wait_s": round(max(waits), 2) if waits else None,
        "p99_wait_s": load.percentile(waits, 99),
        "p50_wait_s": load.percentile(waits, 50),
        "waits_over_30_s": sum(1 for wait in waits if wait > 30),
        "not_delivered_by_deadline": censored,
    }
