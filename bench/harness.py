"""The scenarios: start the stack, seed it, drive it, read the sandbox's record, report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import redis

from bench import load, procs
from bench.procs import APP, ROOT, WORK

RESULTS = Path(__file__).resolve().parent / "results"
HEADLINE = (
    "relayed_per_s",
    "webhook_ack_p50_ms",
    "webhook_ack_p99_ms",
    "e2e_p50_ms",
    "e2e_p99_ms",
    "queries_per_message",
    "lost",
    "duplicated",
)


def log(text: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {text}", flush=True)


def counters() -> dict[str, int]:
    client = redis.Redis.from_url(procs.BROKER)
    values = {}
    for role in ("web", "worker"):
        values[role] = int(client.get(f"bench:queries:{role}") or 0)
    values["xact"] = int(
        procs.psql(
            f"SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '{procs.DB_NAME}'"
        )
        or 0
    )
    return values


def backlog() -> dict[str, int]:
    client = redis.Redis.from_url(procs.BROKER)
    states = procs.psql(
        "SELECT state, count(*) FROM relay_delivery GROUP BY state", db=procs.DB_NAME
    )
    result = {"broker_queue": int(client.llen("celery"))}
    for line in states.splitlines():
        state, count = line.split("|")
        result[f"deliveries_{state}"] = int(count)
    return result


class Scenario:
    def __init__(
        self,
        name: str,
        *,
        sellers: list[dict[str, Any]],
        buyers: list[dict[str, Any]],
        listings_per_seller: int,
        latency_ms: int,
        auto_status: bool,
        web_workers: int,
        web_threads: int,
        worker_processes: int,
        worker_threads: int,
        interpreter: str,
    ) -> None:
        self.name = name
        self.sellers_people = sellers
        self.buyers = buyers
        self.listings_per_seller = listings_per_seller
        self.latency_ms = latency_ms
        self.auto_status = auto_status
        self.config = {
            "web_workers": web_workers,
            "web_threads": web_threads,
            "worker_processes": worker_processes,
            "worker_threads": worker_threads,
            "interpreter": interpreter,
        }
        self.stack: procs.Stack | None = None
        self.monitor: procs.Monitor | None = None
        self.world: load.World | None = None
        self.drain_timeout = 40.0

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        procs.ensure_postgres_and_redis()
        procs.recreate_database()
        procs.flush_broker()
        WORK.mkdir(parents=True, exist_ok=True)
        fixture = json.loads((APP / "sandbox" / "demo.json").read_text())
        fixture["people"] = self.sellers_people + self.buyers
        fixture_path = WORK / f"fixture-{self.name}.json"
        fixture_path.write_text(json.dumps(fixture))
        ports = procs.Ports()
        python, _ = procs.python_for(self.config["interpreter"])
        env = procs.base_env(ports, self.config["interpreter"])
        t0 = time.time()
        procs.run_manage(env, "manage.py", "migrate", "--noinput", python=python)
        spec = {
            "sellers": [
                {
                    "key": p["key"],
                    "channel": p["channel"],
                    "address": p["address"],
                    "listings": self.listings_per_seller,
                }
                for p in self.sellers_people
            ]
        }
        out = procs.run_manage(env, "-m", "bench.seed", json.dumps(spec), python=python)
        seeded = json.loads(out.split("BENCH-SEED ", 1)[1].splitlines()[0])
        log(f"{self.name}: database migrated and seeded in {time.time() - t0:.1f}s")
        sellers = {
            p["key"]: {"person": p, "handles": [item["handle"] for item in seeded[p["key"]]]}
            for p in self.sellers_people
        }
        self.world = load.World(sellers, self.buyers)
        self.stack = procs.start_stack(
            latency_ms=self.latency_ms,
            auto_status=self.auto_status,
            fixture=fixture_path,
            **self.config,
        )
        # The stack's ports differ from the ones used to migrate; only the DB matters there.
        self.monitor = procs.Monitor(self.stack)
        self.monitor.start()
        self.warm_up()

    def stop(self) -> None:
        if self.monitor:
            self.monitor.stop()
        if self.stack:
            self.stack.stop()

    @property
    def port(self) -> int:
        assert self.stack is not None
        return self.stack.ports.sandbox

    def warm_up(self) -> None:
        """Every seller writes once (opens their 24-hour window); wait until the relay answers."""
        assert self.world is not None
        client = load.Control(self.port)
        for seller in self.world.sellers.values():
            person = seller["person"]
            client.inbound(person["key"], load.IDENTITY_FOR[person["channel"]], "hello")
        deadline = time.time() + 60
        while time.time() < deadline:
            if len(client.call("GET", "/control/outbox")) >= len(self.world.sellers):
                break
            for service in self.stack.services():
                if not service.alive():
                    raise RuntimeError(f"{service.name} died:\n{service.tail()}")
            time.sleep(0.2)
        else:
            raise RuntimeError(
                "the worker never answered the warm-up messages:\n"
                + "\n".join(w.tail(20) for w in self.stack.workers)
            )

    # -- one measured phase --------------------------------------------------------------------

    def phase(
        self,
        label: str,
        drive: Any,
        *,
        latency_ms: int,
        auto_status: bool,
        watcher: bool = False,
        profile_seconds: float = 0,
    ) -> dict[str, Any]:
        assert self.stack and self.monitor and self.world
        client = load.Control(self.port)
        client.call("POST", "/control/reset", {})
        client.call(
            "POST", "/control/settings", {"latency_ms": latency_ms, "auto_status": auto_status}
        )
        outbox_watcher = load.OutboxWatcher(self.world, self.port) if watcher else None
        if outbox_watcher:
            outbox_watcher.start()
        run = load.Run()
        before_q, before_cpu = counters(), self.monitor.cpu()
        rss_start = {
            role: samples[-1][1] if samples else 0
            for role, samples in self.monitor.rss_samples.items()
        }
        profilers = self.start_profilers(label, profile_seconds) if profile_seconds else []
        phase_start = time.time()
        log(f"{self.name}/{label}: driving (latency {latency_ms} ms)")
        drive(run)
        backlog_at_end = backlog()
        if outbox_watcher:
            outbox_watcher.stop()  # before draining: both read the same outbox cursor
        outbox = load.drain(self.port, run, timeout=self.drain_timeout, watcher=outbox_watcher)
        if auto_status:
            load.settle_statuses(self.port)
        time.sleep(0.6)  # the statement counters flush every 0.25 s
        after_q, after_cpu = counters(), self.monitor.cpu()
        for profiler in profilers:
            profiler.wait(120)
        self.monitor.sample_rss()
        rss_end = {
            role: samples[-1][1] for role, samples in self.monitor.rss_samples.items() if samples
        }
        result = load.analyse(self.port, run, outbox, latency_ms)
        # A message still queued in the relay when the drain deadline passed is late, not lost.
        drained = result["backlog_after_drain"] = backlog()
        still_queued = sum(
            drained.get(f"deliveries_{state}", 0) for state in ("pending", "sending", "waiting")
        )
        result["not_arrived_by_drain_deadline"] = result["lost"]
        result["still_queued_in_relay"] = still_queued
        result["lost"] = max(
            0, result["lost"] - still_queued - result["unrouted_answered_with_notice"]
        )
        relayed = max(1, result["relayed"])
        statements = {role: after_q[role] - before_q[role] for role in ("web", "worker")}
        cpu = procs.Monitor.cpu_delta(before_cpu, after_cpu)
        result.update(
            queries_per_message=round(sum(statements.values()) / relayed, 2),
            queries_per_message_web=round(statements["web"] / relayed, 2),
            queries_per_message_worker=round(statements["worker"] / relayed, 2),
            pg_transactions_per_message=round((after_q["xact"] - before_q["xact"]) / relayed, 2),
            cpu_s_per_1000_messages={
                role: round(seconds / relayed * 1000, 2) for role, seconds in cpu.items()
            },
            cpu_s_total=cpu,
            rss_mb_start={role: round(v / 2**20, 1) for role, v in rss_start.items()},
            rss_mb_end={role: round(v / 2**20, 1) for role, v in rss_end.items()},
            # For the memory-flat check: each process tree's RSS at every whole minute of the
            # phase (the sampler runs every second).
            rss_mb_by_minute={
                role: [
                    round(size / 2**20, 1)
                    for minute in range(int((time.time() - phase_start) // 60) + 1)
                    for size in [_sample_at(samples, phase_start + 60 * minute)]
                    if size is not None
                ]
                for role, samples in self.monitor.rss_samples.items()
                if role in ("web", "worker")
            },
            peak_rss_mb={
                role: {str(pid): round(v / 2**20, 1) for pid, v in sizes.items()}
                for role, sizes in self.monitor.peak_rss.items()
                if role not in ("postgres", "postgres_shared")
            },
            backlog_at_end_of_offer=backlog_at_end,
            latency_ms=latency_ms,
            loadavg=os.getloadavg(),
        )
        log(
            f"{self.name}/{label}: relayed {result['relayed_per_s']}/s, ack p99 "
            f"{result['webhook_ack_p99_ms']} ms, e2e p99 {result['e2e_p99_ms']} ms, "
            f"{result['queries_per_message']} q/msg, lost {result['lost']}, dup {result['duplicated']}"
        )
        return result

    def start_profilers(self, label: str, seconds: float) -> list[subprocess.Popen[bytes]]:
        assert self.stack
        # The venv's py-spy: the tree's own .venv, or the one this interpreter runs from.
        spies = [ROOT / ".venv" / "bin" / "py-spy", Path(sys.executable).parent / "py-spy"]
        spy = next((path for path in spies if path.exists()), None)
        if spy is None:
            log("py-spy not found: no profiles")
            return []
        # An A/B run gives each run a folder of its own (BENCH_PROFILE_DIR).
        out = Path(os.environ.get("BENCH_PROFILE_DIR") or RESULTS / "profiles")
        out.mkdir(parents=True, exist_ok=True)
        stamp = f"{self.name}-{label}"
        targets = [("web", self.stack.web.pid), ("worker", self.stack.workers[0].pid)]
        started = []
        # Wall-clock samples (every thread, waiting included: where requests spend their time)
        # as a flame graph and collapsed stacks, and CPU samples (only threads holding the GIL:
        # where the CPU goes) as collapsed stacks, `*-cpu.txt`.
        variants: tuple[tuple[str, str, list[str]], ...] = (
            ("flamegraph", "svg", []),
            ("raw", "txt", []),
            ("raw", "cpu.txt", ["--gil"]),
        )
        for role, pid in targets:
            for fmt, ext, extra in variants:
                started.append(
                    subprocess.Popen(
                        [
                            str(spy),
                            "record",
                            "--pid",
                            str(pid),
                            "--subprocesses",
                            "--nonblocking",
                            *extra,
                            "--rate",
                            "97",
                            "--duration",
                            str(int(seconds)),
                            "--format",
                            fmt,
                            "--output",
                            str(out / f"{stamp}-{role}.{ext}"),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        start_new_session=True,
                    )
                )
        return started


def _sample_at(samples: list[tuple[float, int]], moment: float) -> int | None:
    """The first RSS sample taken at or after `moment`."""
    for taken, size in samples:
        if taken >= moment:
            return size
    return None


def headline(result: dict[str, Any]) -> dict[str, Any]:
    return {key: result.get(key) for key in HEADLINE}
