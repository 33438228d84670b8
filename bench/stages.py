"""Stage micro-benchmarks: what each step of the message path costs, in-process.

`python -m bench.stages` recreates the bench database, seeds one SMS seller, starts the sandbox
(latency 0, no status webhooks) and runs, in a child process with Django set up against that
database:

  encrypt_decrypt   unwrap the conversation key, encrypt and decrypt one body (PyNaCl)
  route             routing.route() of a follow-up (identity-pool rule), rolled back
  accept_first      Django test Client posts a signed Twilio webhook: a buyer's first message
  accept_follow     the same for a follow-up; the deliver task goes to the real Redis broker
  deliver           deliver_delivery(delivery_id) of those messages against the sandbox
  floor_bare_view   a bare Django view through the project's middleware (test Client)
  floor_drf_insert  a DRF view doing one INSERT (test Client)
  floor_celery_noop one Celery worker process (solo pool) draining no-op tasks from Redis

Each prints per second and ms per message, and SQL statements per message where it touches the
database. `--compare-interpreters` runs accept/route/floor stages under the venv's python and
Debian's /usr/bin/python3.11 too.
"""

from __future__ import annotations

import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
N_BUYERS = 300
PROFILED = 50  # extra operations per stage run under cProfile, after the timed ones


def _timed(label: str, count: int, fn: Any, queries: Any = None) -> dict[str, Any]:
    start = time.perf_counter()
    for i in range(count):
        fn(i)
    seconds = time.perf_counter() - start
    result = {
        "stage": label,
        "n": count,
        "per_s": round(count / seconds, 1),
        "ms_per_op": round(seconds / count * 1000, 3),
    }
    if queries is not None:
        result["queries_per_op"] = round(queries() / count, 2)
    return result


# --- inside the child: Django set up ---------------------------------------------------------


def inner(only: set[str], sandbox_port: int, profile_dir: str) -> list[dict[str, Any]]:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    results: list[dict[str, Any]] = []
    if "encrypt_decrypt" in only:
        results.append(_encrypt_decrypt_stage())
    if {"accept_first", "accept_follow", "route", "deliver"} & only:
        results.extend(_message_path_stages(only, profile_dir))
    if "floor_bare_view" in only or "floor_drf_insert" in only:
        results.extend(_floor_stages(profile_dir))
    return results


def _run_with_queries(
    label: str, count: int, fn: Any, profile_dir: str, profile_extra: int = 0
) -> dict[str, Any]:
    """Time fn(0..count-1); then, untimed, profile fn(count..count+profile_extra-1).

    (A profiler running during the timing roughly doubles what it measures.)"""
    from django.db import connection

    executed = [0]

    def counting(execute: Any, sql: Any, params: Any, many: bool, context: Any) -> Any:
        executed[0] += 1
        return execute(sql, params, many, context)

    backend_cpu = _backend_cpu_clock()
    cpu_before, pg_before = time.process_time(), backend_cpu()
    with connection.execute_wrapper(counting):
        result = _timed(label, count, fn, queries=lambda: executed[0])
    # CPU split: this process (Python: Django, psycopg, crypto) and its PostgreSQL backend.
    result["python_cpu_ms_per_op"] = round((time.process_time() - cpu_before) / count * 1000, 3)
    result["pg_cpu_ms_per_op"] = round((backend_cpu() - pg_before) / count * 1000, 3)
    if profile_extra:
        _profile(label, range(count, count + profile_extra), fn, profile_dir)
    return result


def _backend_cpu_clock() -> Any:
    """A function returning the CPU seconds used so far by this connection's PostgreSQL backend."""
    import psutil
    from django.db import connection

    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = psutil.Process(cursor.fetchone()[0])

    def backend_cpu() -> float:
        times = backend.cpu_times()
        return float(times.user + times.system)

    return backend_cpu


def _profile(label: str, indexes: range, fn: Any, profile_dir: str) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    for i in indexes:
        fn(i)
    profiler.disable()
    buffer = io.StringIO()
    stats = pstats.Stats(profiler, stream=buffer)
    stats.sort_stats("cumulative").print_stats(60)
    stats.sort_stats("tottime").print_stats(40)
    Path(profile_dir).mkdir(parents=True, exist_ok=True)
    Path(profile_dir, f"stage-{label}.txt").write_text(buffer.getvalue())


def _encrypt_decrypt_stage() -> dict[str, Any]:
    import uuid

    from relay import crypto

    wrapped = crypto.new_wrapped_key("benchcode")
    uid = uuid.uuid4()

    def roundtrip(i: int) -> None:
        key = crypto.unwrap_key(wrapped, "benchcode")
        crypto.decrypt_body(
            key, uid, crypto.encrypt_body(key, uid, "what is the lowest price m_1_")
        )

    return _timed("encrypt_decrypt", 20000, roundtrip)


def _sms_poster() -> Any:
    """post(person, text): the sandbox's signed Twilio webhook for a message, through the
    Django test Client, asserting a 200."""
    from django.test import Client

    from sandbox import webhooks as sandbox_webhooks
    from sandbox.config import Identity, Person, SandboxConfig

    client = Client()
    config = SandboxConfig(relay_url="http://testserver")
    sms = Identity("sms-main", "sms", "+15550002222", "+15550002222")

    def post(person: Person, text: str) -> None:
        hook = sandbox_webhooks.inbound_message(
            config,
            identity=sms,
            person=person,
            provider_message_id=sandbox_webhooks.new_twilio_sid(),
            text=text,
            reply_to=None,
            media_url=None,
            now=time.time(),
        )
        response = client.post(
            "/webhooks/sms/",
            data=hook.body,
            content_type=hook.headers["Content-Type"],
            HTTP_X_TWILIO_SIGNATURE=hook.headers["X-Twilio-Signature"],
        )
        assert response.status_code == 200, response.content

    return post


def _message_path_stages(only: set[str], profile_dir: str) -> list[dict[str, Any]]:
    """accept_first and accept_follow for half the buyers each, then route and deliver."""
    import redis

    from marketplace.handles import live_handle
    from marketplace.models import Listing
    from sandbox.config import Person

    listings = list(Listing.objects.all()[:10])
    handles = [live_handle(listing).display for listing in listings]  # type: ignore[union-attr]
    people = [
        Person(f"b{i}", f"b{i}", "sms", f"+628135{i:07d}") for i in range(N_BUYERS + PROFILED)
    ]
    post_sms = _sms_poster()
    half = N_BUYERS // 2
    results = [
        _run_with_queries(
            "accept_first",
            half,
            lambda i: post_sms(people[i], f"{handles[i % len(handles)]} still there? m_{i}_"),
            profile_dir,
            profile_extra=PROFILED,
        ),
        _run_with_queries(
            "accept_follow",
            half,
            lambda i: post_sms(people[i], f"lowest price please m_{i}_"),
            profile_dir,
            profile_extra=PROFILED,
        ),
        _route_stage(people[:half], profile_dir),
    ]
    if "deliver" in only:
        results.extend(_deliver_stage(profile_dir))
    redis.Redis.from_url(os.environ["CELERY_BROKER_URL"]).delete("celery")
    return results


def _route_stage(people: list[Any], profile_dir: str) -> dict[str, Any]:
    """routing.route() of a follow-up from each person (identity-pool rule), rolled back."""
    from django.db import transaction

    from contacts import services as contacts
    from relay.models import RelayIdentity
    from relay.pipeline import Road, Submission, routing
    from relay.pipeline.types import Context

    identity = RelayIdentity.objects.get(channel="sms")
    senders = [contacts.find_endpoint(channel="sms", address=p.address) for p in people]

    def route_one(i: int) -> None:
        with transaction.atomic():
            text = "ok m_1_"
            ctx = Context(Submission(road=Road.SMS, text=text), senders[i], identity, text=text)
            assert routing.route(ctx) is None and ctx.conversation is not None
            transaction.set_rollback(True)

    return _run_with_queries("route", len(people), route_one, profile_dir)


def _deliver_stage(profile_dir: str) -> list[dict[str, Any]]:
    """deliver_delivery() of every pending relay delivery against the sandbox (none if none)."""
    from relay.models import Delivery
    from relay.services.delivery import deliver_delivery

    pending = list(
        Delivery.objects.filter(state="pending", kind="relay")
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not pending:
        return []
    return [
        _run_with_queries(
            "deliver",
            len(pending) - PROFILED,
            lambda i: deliver_delivery(delivery_id=pending[i]),
            profile_dir,
            profile_extra=PROFILED,
        )
    ]


def _floor_stages(profile_dir: str) -> list[dict[str, Any]]:
    """A bare view and a one-INSERT DRF view through the middleware: the framework's floor."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS bench_floor (id bigserial PRIMARY KEY, body text)"
        )
    with override_settings(ROOT_URLCONF="bench.floor_urls"):
        floor_client = Client()
        return [
            _timed("floor_bare_view", 3000, lambda i: floor_client.get("/bare/")),
            _run_with_queries(
                "floor_drf_insert",
                1000,
                lambda i: floor_client.post(
                    "/insert/", {"body": "x"}, content_type="application/json"
                ),
                profile_dir,
            ),
        ]


# --- the parent: database, sandbox, interpreters ---------------------------------------------


def celery_noop_floor(env: dict[str, str], python: str, count: int = 3000) -> dict[str, Any]:
    import redis

    from bench import procs

    client = redis.Redis.from_url(procs.BROKER)
    client.delete("bench_floor")
    code = (
        "from config.celery import app\nfor i in range(%d):\n"
        "    app.send_task('relay.ping', args=('x',), queue='bench_floor', ignore_result=True)\n"
        % count
    )
    subprocess.run([python, "-c", code], cwd=procs.APP, env=env, check=True, timeout=120)
    worker = procs.Service(
        "floor-worker",
        [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-Q",
            "bench_floor",
            "--pool",
            "solo",
            "-l",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            "floor@%h",
        ],
        env,
    )
    try:
        deadline = time.time() + 120
        start = None
        while time.time() < deadline:
            left = client.llen("bench_floor")
            if start is None and left < count:
                start, start_left = time.perf_counter(), left
            if left == 0:
                break
            time.sleep(0.01)
        seconds = time.perf_counter() - start if start else float("nan")
        drained = start_left if start else 0
    finally:
        worker.stop()
    return {
        "stage": "floor_celery_noop",
        "n": drained,
        "per_s": round(drained / seconds, 1),
        "ms_per_op": round(seconds / max(1, drained) * 1000, 3),
    }


def run_all(quick: bool = False, compare: bool = True) -> dict[str, Any]:
    from bench import load, procs

    procs.ensure_postgres_and_redis()
    procs.recreate_database()
    procs.flush_broker()
    ports = procs.Ports()
    python, _ = procs.python_for("venv")
    env = procs.base_env(ports, "venv")
    env["ALLOWED_HOSTS"] = "127.0.0.1,localhost,testserver"
    procs.run_manage(env, "manage.py", "migrate", "--noinput", python=python)
    seller = load.make_people("s", 1, ("sms",))[0]
    spec = {
        "sellers": [
            {"key": seller["key"], "channel": "sms", "address": seller["address"], "listings": 10}
        ]
    }
    procs.run_manage(env, "-m", "bench.seed", json.dumps(spec), python=python)
    fixture = json.loads((procs.APP / "sandbox" / "demo.json").read_text())
    fixture["people"] = [seller]
    fixture_path = procs.WORK / "fixture-stages.json"
    fixture_path.write_text(json.dumps(fixture))
    sandbox = procs.Service(
        "stages-sandbox",
        [python, "-m", "sandbox"],
        dict(
            env, SANDBOX_LATENCY_MS="0", SANDBOX_AUTO_STATUS="0", SANDBOX_FIXTURE=str(fixture_path)
        ),
    )
    profile_dir = str(Path(__file__).resolve().parent / "results" / "profiles")
    out: dict[str, Any] = {}
    try:
        procs.wait_http(f"http://127.0.0.1:{ports.sandbox}/healthz", service=sandbox)
        everything = "encrypt_decrypt,accept_first,accept_follow,route,deliver,floor_bare_view,floor_drf_insert"
        out["venv"] = _child(python, env, everything, ports.sandbox, profile_dir)
        out["venv"].append(celery_noop_floor(env, python))
        if compare and os.path.exists("/usr/bin/python3.11"):
            system_python, extra = procs.python_for("system")
            system_env = dict(env, **extra)
            procs.recreate_database()
            procs.run_manage(system_env, "manage.py", "migrate", "--noinput", python=system_python)
            procs.run_manage(system_env, "-m", "bench.seed", json.dumps(spec), python=system_python)
            out["system_python3.11"] = _child(
                system_python,
                system_env,
                "encrypt_decrypt,accept_first,accept_follow,route,floor_bare_view",
                ports.sandbox,
                "/tmp/perantara-bench/profiles-system",
            )
            out["interpreters"] = {
                "venv": subprocess.run(
                    [
                        python,
                        "-c",
                        "import sys, sysconfig; print(sys.version, sysconfig.get_config_var('CONFIG_ARGS'))",
                    ],
                    capture_output=True,
                    text=True,
                ).stdout.strip(),
                "system": subprocess.run(
                    [
                        system_python,
                        "-c",
                        "import sys, sysconfig; print(sys.version, sysconfig.get_config_var('CONFIG_ARGS'))",
                    ],
                    capture_output=True,
                    text=True,
                ).stdout.strip(),
            }
    finally:
        sandbox.stop()
    _print(out)
    return out


def _child(
    python: str, env: dict[str, str], only: str, port: int, profile_dir: str
) -> list[dict[str, Any]]:
    from bench import procs

    result = subprocess.run(
        [python, "-m", "bench.stages", "--inner", only, str(port), profile_dir],
        cwd=procs.APP,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"stages child failed:\n{result.stdout[-2000:]}\n{result.stderr[-4000:]}"
        )
    return json.loads(result.stdout.split("BENCH-STAGES ", 1)[1])


def _print(out: dict[str, Any]) -> None:
    print(
        "\nstage               interpreter        per_s      ms/op  queries/op"
        "  python_cpu_ms  pg_cpu_ms"
    )
    for interpreter, rows in out.items():
        if not isinstance(rows, list):
            continue
        for row in rows:
            print(
                f"{row['stage']:<19} {interpreter:<17} {row['per_s']:>8} {row['ms_per_op']:>10} "
                f"{row.get('queries_per_op', ''):>10} {row.get('python_cpu_ms_per_op', ''):>14} "
                f"{row.get('pg_cpu_ms_per_op', ''):>10}"
            )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--inner":
        rows = inner(set(sys.argv[2].split(",")), int(sys.argv[3]), sys.argv[4])
        print("BENCH-STAGES " + json.dumps(rows))
    else:
        sys.path.insert(0, str(ROOT))
        result = run_all(compare="--no-compare" not in sys.argv)
        path = (
            Path(__file__).resolve().parent / "results" / f"stages-{time.strftime('%Y-%m-%d')}.json"
        )
        path.write_text(json.dumps(result, indent=2))
        print(f"wrote {path}")
