"""The stack the fault bench breaks: the relay as the README runs it in production.

gunicorn (`config.wsgi`, gthread), two Celery thread-pool workers and celery beat, on a private
PostgreSQL and a private Redis (broker and cache), with the sandbox as every platform. The
relay reaches the sandbox's send APIs through `SendProxy`, so a scenario can make them refuse
connections. Every process has its own process group; a scenario kills or restarts one role
by its id, never by name.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import load, procs
from bench.fault_infra import FAULTS_DIR, PrivatePostgres, PrivateRedis, SendProxy
from bench.procs import APP, Service

DB_NAME = "perantara_faults"
WORKERS = 2
WORKER_THREADS = 32  # README: `--pool threads --concurrency 32`
WEB_WORKERS = 2  # README runs 4; this machine has 2 cores
WEB_THREADS = 8
CHANNELS = ("whatsapp", "messenger", "instagram", "sms")
# The abuse limits count per sender, listing and hour in the cache; the bench's buyers write
# faster than any person would. They are not what this suite measures, so they are raised.
LIMITS = {
    "RELAY_LIMIT_NEW_CONVERSATIONS_PER_HOUR": "100000",
    "RELAY_LIMIT_MESSAGES_PER_MINUTE": "100000",
    "RELAY_LIMIT_FIRST_CONTACTS_PER_LISTING_PER_HOUR": "100000",
    "RELAY_DUPLICATE_LISTINGS_PER_HOUR": "100000",
}


def log(text: str) -> None:
    print(f"[faults {time.strftime('%H:%M:%S')}] {text}", flush=True)


@dataclass
class FaultStack:
    work: Path
    postgres: PrivatePostgres
    redis: PrivateRedis
    ports: procs.Ports
    python: str
    env: dict[str, str]
    world: load.World
    sandbox: Service | None = None
    proxy: SendProxy | None = None
    web: Service | None = None
    workers: list[Service] = field(default_factory=list)
    beat: Service | None = None
    started: int = 0  # app processes started so far, for unique log names

    @property
    def sandbox_port(self) -> int:
        return self.ports.sandbox

    def control(self) -> load.Control:
        return load.Control(self.sandbox_port)

    # -- the app's processes -------------------------------------------------------------------

    def _service(self, role: str, argv: list[str]) -> Service:
        self.started += 1
        return Service(f"{role}-{self.started}", argv, self.env, work=self.work / "logs")

    def start_web(self) -> None:
        argv = [
            self.python, "-m", "gunicorn", "config.wsgi:application",
            "--bind", f"127.0.0.1:{self.ports.web}", "--workers", str(WEB_WORKERS),
            "--worker-class", "gthread", "--threads", str(WEB_THREADS), "--backlog", "2048",
            "--config", "python:config.gunicorn",
        ]  # fmt: skip
        self.web = self._service("web", argv)
        procs.wait_http(f"http://127.0.0.1:{self.ports.web}/healthz", 60, service=self.web)

    def start_worker(self) -> Service:
        name = f"faults{self.started + 1}@%h"
        # As the README runs it: without gossip, mingle and event heartbeats. Gossip's restart
        # after a lost Redis connection raises AttributeError ('NoneType' has no 'hostname',
        # kombu #582) and Celery stops the whole worker as an "unrecoverable error".
        argv = [
            self.python, "-m", "celery", "-A", "config", "worker", "--pool", "threads",
            "--concurrency", str(WORKER_THREADS), "--loglevel", "WARNING", "-n", name,
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ]  # fmt: skip
        worker = self._service("worker", argv)
        self.workers.append(worker)
        return worker

    def start_beat(self) -> None:
        schedule = str(self.work / "celerybeat-schedule")
        argv = [
            self.python, "-m", "celery", "-A", "config", "beat", "--loglevel", "WARNING",
            "-s", schedule, "--pidfile", "",
        ]  # fmt: skip
        self.beat = self._service("beat", argv)

    def start_app(self) -> None:
        self.start_web()
        for _ in range(WORKERS):
            self.start_worker()
        self.start_beat()
        self.wait_ready()

    def stop_app(self) -> None:
        for service in [self.beat, *self.workers, self.web]:
            if service is not None and service.alive():
                service.stop()
        self.workers, self.web, self.beat = [], None, None

    def restart_app(self) -> None:
        """Every scenario starts on fresh web, worker and beat processes."""
        self.stop_app()
        self.start_app()

    def live_workers(self) -> list[Service]:
        return [worker for worker in self.workers if worker.alive()]

    def wait_ready(self, timeout: float = 60) -> None:
        """Until one message goes through: every seller writes "hello" and hears back."""
        client = self.control()
        client.call("POST", "/control/reset", {})
        for seller in self.world.sellers.values():
            person = seller["person"]
            client.inbound(person["key"], load.IDENTITY_FOR[person["channel"]], "hello")
        deadline = time.monotonic() + timeout
        while len(client.call("GET", "/control/outbox")) < len(self.world.sellers):
            if time.monotonic() > deadline:
                tails = "\n".join(w.tail(20) for w in self.workers)
                raise RuntimeError(f"the stack did not answer the warm-up:\n{tails}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.stop_app()
        if self.proxy is not None:
            self.proxy.close()
        if self.sandbox is not None:
            self.sandbox.stop()
        self.redis.stop()
        self.postgres.destroy()

    # -- the database ----------------------------------------------------------------------

    def delivery_states(self) -> dict[str, int]:
        rows = self.postgres.psql(
            "SELECT state, count(*) FROM relay_delivery GROUP BY state", DB_NAME
        )
        return {line.split("|")[0]: int(line.split("|")[1]) for line in rows.splitlines()}

    def probe(self, request: dict[str, Any]) -> dict[str, Any]:
        """Ask the relay's database (through Django, in a subprocess) about provider ids."""
        path = self.work / "probe-request.json"
        path.write_text(json.dumps(request))
        output = procs.run_manage(
            self.env, "-m", "bench.fault_probe", str(path), python=self.python
        )
        answer: dict[str, Any] = json.loads(output.split("FAULT-PROBE ", 1)[1].splitlines()[0])
        return answer


def make_world(buyers: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return load.make_people("s", 8, CHANNELS), load.make_people("b", buyers, CHANNELS)


def app_env(ports: procs.Ports, postgres: PrivatePostgres, redis: PrivateRedis, work: Path):  # type: ignore[no-untyped-def]
    env = procs.base_env(ports)
    env.update(
        DATABASE_URL=postgres.url(DB_NAME),
        CELERY_BROKER_URL=redis.url(0),
        CACHE_URL=redis.url(1),
        BENCH_COUNTER_URL=redis.url(2),
        PERANTARA_VAR_DIR=str(work / "var"),
        **LIMITS,
    )
    return env


def start(buyers: int = 3000, work: Path = FAULTS_DIR) -> FaultStack:
    """Start everything; the caller must call `stop()` (also when this raises)."""
    work.mkdir(parents=True, exist_ok=True)
    postgres, redis = PrivatePostgres(work / "pg"), PrivateRedis(work / "redis")
    postgres.init()
    postgres.start()
    redis.start()
    postgres.psql(f"CREATE DATABASE {DB_NAME}")
    ports = procs.Ports()
    python, _ = procs.python_for("venv")
    env = app_env(ports, postgres, redis, work)
    sellers, people = make_world(buyers)
    stack = FaultStack(work, postgres, redis, ports, python, env, load.World({}, []))
    try:
        stack.world = _migrate_and_seed(stack, sellers, people)
        _start_platforms(stack, sellers + people)
        stack.start_app()
    except BaseException:
        stack.stop()
        raise
    return stack


def _migrate_and_seed(
    stack: FaultStack, sellers: list[dict[str, Any]], buyers: list[dict[str, Any]]
) -> load.World:
    started = time.monotonic()
    procs.run_manage(stack.env, "manage.py", "migrate", "--noinput", python=stack.python)
    spec = {
        "sellers": [
            {"key": p["key"], "channel": p["channel"], "address": p["address"], "listings": 5}
            for p in sellers
        ]
    }
    out = procs.run_manage(stack.env, "-m", "bench.seed", json.dumps(spec), python=stack.python)
    seeded = json.loads(out.split("BENCH-SEED ", 1)[1].splitlines()[0])
    log(f"private database migrated and seeded in {time.monotonic() - started:.1f}s")
    world_sellers = {
        p["key"]: {"person": p, "handles": [item["handle"] for item in seeded[p["key"]]]}
        for p in sellers
    }
    return load.World(world_sellers, buyers)


def _start_platforms(stack: FaultStack, people: list[dict[str, Any]]) -> None:
    fixture = json.loads((APP / "sandbox" / "demo.json").read_text())
    fixture["people"] = people
    fixture_path = stack.work / "fixture.json"
    fixture_path.write_text(json.dumps(fixture))
    sandbox_env = dict(
        stack.env,
        SANDBOX_LATENCY_MS="50",
        SANDBOX_AUTO_STATUS="1",
        SANDBOX_WEBHOOK_WORKERS="48",
        SANDBOX_FIXTURE=str(fixture_path),
    )
    stack.sandbox = Service("sandbox", [stack.python, "-m", "sandbox"], sandbox_env, stack.work)
    procs.wait_http(f"http://127.0.0.1:{stack.sandbox_port}/healthz", service=stack.sandbox)
    stack.proxy = SendProxy(stack.sandbox_port)
    # The relay's sends go through the proxy; the sandbox still posts webhooks straight to web.
    stack.env["PLATFORM_SANDBOX_URL"] = f"http://127.0.0.1:{stack.proxy.port}"
