"""The six faults of issue #11, each under the full mix of `make bench` on every channel.

Each function takes the running `FaultStack`, starts from fresh app processes, drives bounded
load while its timeline injects the fault, waits a bounded time for the backlog and returns a
result: the common checks (lost, duplicated, misrouted, out of order, drain time) plus the
scenario's own measure against the issue's target. Defaults are the long form (`make faults`);
the CI subset (tests/faults/) passes shorter durations.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from bench import load
from bench.fault_checks import Phase, collect, drain_after, drive, judge, prepare, waits_after
from bench.fault_stack import FaultStack, log

CHANNELS = ("whatsapp", "messenger", "instagram", "sms")


def _wait(stack: FaultStack, phase: Phase, fault_end: float, deadline: float) -> None:
    """Collect the outbox until `deadline` s after the fault ended (at least 5 s more)."""
    collect(stack, phase, timeout=max(5.0, fault_end + deadline - time.time()))


def _result(
    name: str, checks: dict[str, Any], measure: dict[str, Any], met: bool, **details: Any
) -> dict[str, Any]:
    clean = checks["lost"] == 0 and checks["order_violations"] == 0 and checks["misrouted"] == 0
    outcome = {"scenario": name, **measure, "met": bool(met and clean), **checks, **details}
    log(
        f"{name}: accepted {checks['accepted']}, lost {checks['lost']}, dup "
        f"{checks['duplicated']}, order {checks['order_violations']}, replies to an unstored copy "
        f"{checks['replies_to_unstored_copy']}, {measure['measure']} = "
        f"{measure['value']} (target {measure['target']}) -> {'met' if outcome['met'] else 'NOT met'}"
    )
    return outcome


def postgres_outage(
    stack: FaultStack, *, rate: float = 20, before: float = 5, outage: float = 10,
    after: float = 10, deadline: float = 120,
) -> dict[str, Any]:  # fmt: skip
    """1. PostgreSQL stopped (fast: sessions cut) for `outage` s during load, then started."""
    prepare(stack)
    postgres = stack.postgres
    phase = drive(
        stack,
        rate=rate,
        duration=before + outage + after,
        timeline=[
            (before, "postgres stopped", lambda: postgres.stop("fast")),
            (before + outage, "postgres started", postgres.start),
        ],
    )
    restarted = phase.marks["postgres started"]
    _wait(stack, phase, restarted, deadline)
    drain = drain_after(phase, restarted)
    measure = {
        "measure": "drain_s after restart",
        "value": drain if drain is not None else f"> {deadline:g}",
        "target": "<= 60 s, no manual step",
    }
    checks = judge(stack, phase, latency_ms=50)
    return _result(
        "1 postgres outage", checks, measure, drain is not None and drain <= 60,
        outage_s=outage, drain_s=drain, load_after_restart_s=after,
    )  # fmt: skip


def worker_killed(
    stack: FaultStack, *, rate: float = 20, before: float = 6, after: float = 14,
    latency_ms: int = 1000, replace_after: float = 5, deadline: float = 480,
) -> dict[str, Any]:  # fmt: skip
    """2. One of two workers SIGKILLed while its sends wait on a slow platform; a replacement
    starts `replace_after` s later; the other worker runs on throughout."""
    prepare(stack, latency_ms=latency_ms)
    victim, in_flight = stack.workers[0], {}

    def kill() -> None:
        in_flight.update(stack.delivery_states())
        victim.kill()

    def replace() -> None:
        stack.start_worker()

    phase = drive(
        stack,
        rate=rate,
        duration=before + after,
        timeline=[
            (before, "worker SIGKILLed", kill),
            (before + replace_after, "replaced", replace),
        ],
    )
    killed = phase.marks["worker SIGKILLed"]
    _wait(stack, phase, killed, deadline)
    waits = waits_after(
        phase, killed - latency_ms / 1000, latency_ms=latency_ms, deadline=time.time()
    )
    over = waits["not_delivered_by_deadline"] > 0
    value = waits["max_wait_s"]
    measure = {
        "measure": "max wait of a message behind the kill (s)",
        "value": f"> {value:g}" if over and value is not None else value,
        "target": "<= 30 s",
    }
    checks = judge(stack, phase, latency_ms=latency_ms)
    met = not over and value is not None and value <= 30
    return _result(
        "2 worker SIGKILL mid-send", checks, measure, met,
        platform_latency_ms=latency_ms, deliveries_sending_at_kill=in_flight.get("sending", 0),
        drain_s=drain_after(phase, killed), **waits,
    )  # fmt: skip


def redis_restart(
    stack: FaultStack, *, rate: float = 20, before: float = 5, down: float = 3.0,
    after: float = 10, deadline: float = 150,
) -> dict[str, Any]:  # fmt: skip
    """3. The Redis that is broker and cache restarted empty during load (down `down` s)."""
    prepare(stack)
    redis = stack.redis

    def restart() -> None:
        redis.stop()
        time.sleep(down)
        redis.start()

    phase = drive(
        stack, rate=rate, duration=before + down + after,
        timeline=[(before, "redis restarted empty", restart)],
    )  # fmt: skip
    restarted = phase.marks["redis restarted empty"]
    refused = [s for s in phase.run.sent.values() if not 200 <= s.status < 300]
    ids = [s.provider_message_id for s in refused if s.provider_message_id]
    committed = stack.probe({"messages": ids})["committed"]
    _wait(stack, phase, restarted, deadline)
    statuses: dict[str, int] = {}
    for index in committed:
        status = str(next(s.status for s in refused if s.provider_message_id == ids[index]))
        statuses[status] = statuses.get(status, 0) + 1
    measure = {
        "measure": "non-2xx answers to committed messages",
        "value": len(committed),
        "target": "0",
    }
    checks = judge(stack, phase, latency_ms=50)
    return _result(
        "3 redis restart", checks, measure, not committed,
        redis_down_s=down, non_2xx_answers=len(refused), committed_by_status=statuses,
        drain_s=drain_after(phase, restarted),
    )  # fmt: skip


def slow_platform(
    stack: FaultStack, *, rate: float = 20, before: float = 4, slow: float = 3,
    after: float = 8, answer_after_ms: int = 12000, deadline: float = 90,
) -> dict[str, Any]:  # fmt: skip
    """4. For `slow` s every platform takes the send and answers after 12 s (the relay's
    timeout is 10 s): the relay sends again. Count the duplicates and whether the relay recorded
    that those sends may have reached the platform."""
    prepare(stack)
    client = stack.control()

    def latency(ms: int) -> Any:
        return lambda: client.call("POST", "/control/settings", {"latency_ms": ms})

    phase = drive(
        stack, rate=rate, duration=before + slow + after,
        timeline=[(before, "platforms answer after 12 s", latency(answer_after_ms)),
                  (before + slow, "platforms fast again", latency(50))],
    )  # fmt: skip
    fast_again = phase.marks["platforms fast again"]
    _wait(stack, phase, fast_again + answer_after_ms / 1000, deadline)
    checks = judge(stack, phase, latency_ms=50)
    recorded = _maybe_sent_records(stack, phase)
    duplicated = checks["duplicated"]
    measure = {
        "measure": "duplicates recorded as may-have-reached",
        "value": f"{recorded['recorded']}/{duplicated}",
        "target": "every duplicate counted and recorded",
    }
    return _result(
        "4 platform answers after 12 s", checks, measure, recorded["recorded"] == duplicated,
        drain_s=drain_after(phase, fast_again), **recorded,
    )  # fmt: skip


def _maybe_sent_records(stack: FaultStack, phase: Phase) -> dict[str, Any]:
    """What the relay's rows say about the sends the platform received twice."""
    arrivals: dict[int, list[str]] = {}
    for send in phase.outbox:
        match = load.TOKEN.search(send.get("text") or "")
        if match:
            arrivals.setdefault(int(match.group(1)), []).append(send["provider_message_id"])
    twice = [ids for ids in arrivals.values() if len(set(ids)) > 1]
    sends = [value for ids in twice for value in ids]
    rows = stack.probe({"sends": sends})["deliveries"]
    columns = sorted({name for row in rows for name in row["maybe_sent_columns"]})
    flagged = {row["send"] for row in rows if any(row["maybe_sent_columns"].values())}
    recorded = sum(1 for ids in twice if any(sends.index(v) in flagged for v in ids))
    return {
        "recorded": recorded,
        "maybe_sent_columns_found": columns,
        "duplicate_delivery_rows": rows[:5],
    }


def web_killed(
    stack: FaultStack, *, rate: float = 20, before: float = 5, down: float = 2.0,
    after: float = 8, deadline: float = 90,
) -> dict[str, Any]:  # fmt: skip
    """5. gunicorn SIGKILLed (master and every worker) mid-load and started again; the sandbox
    posts each unanswered message webhook again with the same id, as platforms do."""
    prepare(stack)
    stack.control().call(
        "POST", "/control/settings", {"webhook_retries": 20, "webhook_retry_ms": 1000}
    )

    def crash_and_restart() -> None:
        assert stack.web is not None
        stack.web.kill()
        time.sleep(down)
        stack.start_web()

    phase = drive(
        stack, rate=rate, duration=before + down + after,
        timeline=[(before, "gunicorn SIGKILLed and restarted", crash_and_restart)],
    )  # fmt: skip
    restarted = phase.marks["gunicorn SIGKILLed and restarted"]
    _wait(stack, phase, restarted, deadline)
    checks = judge(stack, phase, latency_ms=50)
    measure = {
        "measure": "lost + duplicated",
        "value": checks["lost"] + checks["duplicated"],
        "target": "0",
    }
    return _result(
        "5 gunicorn SIGKILL", checks, measure, measure["value"] == 0,
        web_down_s=down, never_acknowledged_after_retries=checks["not_accepted"],
        drain_s=drain_after(phase, restarted),
    )  # fmt: skip


def provider_errors(
    stack: FaultStack, *, rate: float = 20, duration: float = 22, deadline: float = 150
) -> dict[str, Any]:
    """6. Platforms answer 5xx, 429 with Retry-After, time out (11 s, over the relay's 10 s),
    then refuse connections for 3 s."""
    prepare(stack)
    client, proxy = stack.control(), stack.proxy
    assert proxy is not None
    failed_before = stack.delivery_states().get("failed", 0)

    def fail(mode: str, count: int, **extra: float) -> Any:
        def plan() -> None:
            for channel in CHANNELS:
                body = {"channel": channel, "mode": mode, "count": count, **extra}
                client.call("POST", "/control/fail", body)

        return plan

    phase = drive(
        stack, rate=rate, duration=duration,
        timeline=[(2, "5xx x4 per channel", fail("http500", 4)),
                  (6, "429 Retry-After 2 x4 per channel", fail("http429", 4, retry_after=2)),
                  (10, "11 s timeouts x2 per channel", fail("timeout", 2, seconds=11)),
                  (14, "connections refused", proxy.refuse),
                  (17, "connections accepted", proxy.accept)],
    )  # fmt: skip
    recovered = phase.marks["connections accepted"]
    _wait(stack, phase, recovered, deadline)
    checks = judge(stack, phase, latency_ms=50)
    failed = checks["delivery_states"].get("failed", 0) - failed_before
    rejections = len(client.call("GET", "/control/rejections"))
    measure = {"measure": "lost (deliveries failed)", "value": f"{checks['lost']} ({failed})"}
    measure["target"] = "0 lost, every message delivered"
    return _result(
        "6 provider errors", checks, measure, checks["lost"] == 0,
        platform_rejections=rejections, deliveries_failed=failed,
        drain_s=drain_after(phase, recovered),
    )  # fmt: skip


SCENARIOS: dict[str, Callable[..., dict[str, Any]]] = {
    "postgres": postgres_outage,
    "worker": worker_killed,
    "redis": redis_restart,
    "slow": slow_platform,
    "web": web_killed,
    "provider": provider_errors,
}
