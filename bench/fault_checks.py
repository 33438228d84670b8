"""Drive load while a timeline injects faults, and judge the outcome from the sandbox's record.

Loss, duplicates, misrouting and order come from `bench.load.analyse` (the sandbox's outbox),
except that here "lost" is strict: an accepted (2xx) message whose token never reached a send
API by the deadline, whatever notices the relay sent instead.

With one exception, counted apart (`replies_to_unstored_copy`): a seller's reply quoting the
first copy of a send the relay made twice. A worker killed mid-send leaves a request the
platform still completes; the relay never sees its answer, so it never stores that copy's
message id, and its second (at-least-once) send is the copy it knows. The simulated seller
answers every copy it receives, so one reply quotes an id no relay could know: the relay has
nothing to route it by and, when the seller has several conversations, answers "reply to one
of their messages, or start with its #TAG" (the ambiguous notice). Such a reply is not lost by
the relay: its sender is told at once what to do. It is excused only when all of that is
checked: it quotes a copy of a token the outbox holds twice, the relay's database holds no
delivery with that id (bench/fault_probe.py), and its sender got a notice after posting it.
"""

from __future__ import annotations

import collections
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
    excused: set[int] = field(default_factory=set)  # replies to an unstored copy (docstring)

    @property
    def accepted(self) -> dict[int, load.Sent]:
        return {t: s for t, s in self.run.sent.items() if 200 <= s.status < 300}

    @property
    def judged(self) -> dict[int, load.Sent]:
        """Accepted messages, but the replies that quoted a copy the relay could not know."""
        return {t: s for t, s in self.accepted.items() if t not in self.excused}

    def undelivered(self) -> list[int]:
        return [token for token in self.judged if token not in self.first_arrival]


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
    phase.excused = replies_to_unstored_copies(stack, phase)


def _token(send: dict[str, Any]) -> int | None:
    match = load.TOKEN.search(send.get("text") or "")
    return int(match.group(1)) if match else None


def replies_to_unstored_copies(stack: FaultStack, phase: Phase) -> set[int]:
    """Undelivered replies that quoted one copy of a token sent twice, a copy whose id the
    relay never stored, and whose sender the relay answered with a notice (module docstring)."""
    by_id = {send.get("provider_message_id"): send for send in phase.outbox}
    copies = collections.Counter(_token(send) for send in phase.outbox)
    quoted = {
        token: sent.reply_to
        for token, sent in phase.accepted.items()
        if token not in phase.first_arrival
        and sent.reply_to
        and sent.reply_to in by_id
        and copies[_token(by_id[sent.reply_to])] > 1
        and _noticed(phase.outbox, sent)
    }
    if not quoted:
        return set()
    ids = list(quoted.values())
    stored = {ids[row["send"]] for row in stack.probe({"sends": ids})["deliveries"]}
    return {token for token, provider_id in quoted.items() if provider_id not in stored}


def _noticed(outbox: list[dict[str, Any]], sent: load.Sent) -> bool:
    """The relay sent the message's sender a notice (a text without a token) after it."""
    return any(
        send["person"] == sent.sender
        and send["received_at"] >= sent.started
        and _token(send) is None
        for send in outbox
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
        "replies_to_unstored_copy": len(phase.excused),
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
    last = max((phase.first_arrival[t] for t in phase.judged), default=moment)
    return round(max(0.0, last - moment), 2)


def waits_after(phase: Phase, since: float, *, latency_ms: int, deadline: float) -> dict[str, Any]:
    """How long messages accepted from `since` on waited beyond the platform's own latency;
    one not delivered by `deadline` counts as having waited until then (censored)."""
    waits, censored = [], 0
    for token, sent in phase.judged.items():
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
