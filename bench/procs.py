"""Start and stop what a deployment runs: PostgreSQL/Redis (if down), sandbox, web, worker, beat.

Every process the bench starts gets its own session, so stopping it ends its whole tree by
process-group id; nothing is ever killed by name. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import glob
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

ROOT = Path(__file__).resolve().parent.parent
# The code under test: the working tree by default, or a snapshot (e.g. `git archive HEAD`)
# so a measurement is not disturbed by edits in progress. The bench package comes from ROOT.
APP = Path(os.environ.get("BENCH_APP_ROOT") or ROOT).resolve()
WORK = Path(os.environ.get("BENCH_WORK_DIR", "/tmp/perantara-bench"))
DB_NAME = "perantara_bench"
BROKER = "redis://127.0.0.1:6379/7"
PSQL = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def psql(sql: str, db: str = "postgres") -> str:
    result = subprocess.run(
        [*PSQL, "-d", db, "-c", sql], capture_output=True, text=True, timeout=60
    )
    if result.returncode != 0:
        raise RuntimeError(f"psql failed: {result.stderr.strip()}")
    return result.stdout.strip()


def ensure_postgres_and_redis() -> None:
    if subprocess.run(
        ["pg_isready", "-h", "127.0.0.1", "-p", "5432"], capture_output=True
    ).returncode:
        version = sorted(os.listdir("/etc/postgresql"))[-1]
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], check=True
        )
        for _ in range(50):
            if not subprocess.run(
                ["pg_isready", "-h", "127.0.0.1"], capture_output=True
            ).returncode:
                break
            time.sleep(0.2)
    try:
        import redis

        redis.Redis.from_url(BROKER).ping()
    except Exception:
        subprocess.run(
            [
                "redis-server",
                "--daemonize",
                "yes",
                "--bind",
                "127.0.0.1",
                "-::1",
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                "/var/lib/redis",
                "--logfile",
                "/var/log/redis/ci.log",
            ],
            check=True,
        )
        time.sleep(0.5)


def recreate_database() -> None:
    psql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{DB_NAME}' AND pid <> pg_backend_pid()"
    )
    psql(f"DROP DATABASE IF EXISTS {DB_NAME}")
    psql(f"CREATE DATABASE {DB_NAME}")


def flush_broker() -> None:
    import redis

    redis.Redis.from_url(BROKER).flushdb()  # db 7 belongs to the bench


def python_for(interpreter: str) -> tuple[str, dict[str, str]]:
    """The interpreter to run services with; the system one borrows the venv's packages."""
    venv_python = str(ROOT / ".venv" / "bin" / "python")
    if interpreter == "system" and os.path.exists("/usr/bin/python3.11"):
        site = glob.glob(str(ROOT / ".venv" / "lib" / "python3.11" / "site-packages"))
        # Debian's 3.11.2 predates asyncio.timeout, so redis-py needs the async-timeout backport.
        extra = WORK / "syspkgs"
        if not (extra / "async_timeout").exists():
            subprocess.run(
                [
                    str(ROOT / ".venv" / "bin" / "pip"),
                    "install",
                    "--quiet",
                    "--target",
                    str(extra),
                    "async-timeout==5.0.1",
                ],
                check=True,
                capture_output=True,
            )
        return "/usr/bin/python3.11", {
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(extra), *site])
        }
    return venv_python if os.path.exists(venv_python) else sys.executable, {}


@dataclass
class Ports:
    web: int = field(default_factory=free_port)
    sandbox: int = field(default_factory=free_port)


def bench_keys() -> dict[str, str]:
    """Fixed keys for the bench's own database, passed like an operator's (DEMO_KEYS is refused
    with DEBUG off, and the bench measures production settings). Fixed so that a seeded bench
    database opens in every later run."""

    from config.public_keys import derive_b64, secret_key

    def key(purpose: str) -> str:
        return derive_b64(b"perantara-bench", purpose)

    return {
        "SECRET_KEY": secret_key(b"perantara-bench"),
        "RELAY_KEYRING": "bench1:" + key("keyring"),
        "RELAY_INDEX_KEY": key("blind-index"),
        "RELAY_MODERATION_KEYS": "m1:" + key("moderation"),
    }


def base_env(ports: Ports, interpreter: str = "venv") -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="0",
        **bench_keys(),
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{DB_NAME}"
        + os.environ.get("BENCH_DB_QUERY", ""),
        CELERY_BROKER_URL=BROKER,
        BENCH_COUNTER_URL=BROKER,
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        SECURE_COOKIES="0",
        PLATFORM_SANDBOX_URL=f"http://127.0.0.1:{ports.sandbox}",
        RELAY_PUBLIC_URL=f"http://127.0.0.1:{ports.web}",
        CONN_MAX_AGE="600",
        LOG_LEVEL="WARNING",
        PERANTARA_VAR_DIR=str(WORK / "var"),
        SANDBOX_RELAY_URL=f"http://127.0.0.1:{ports.web}",
        SANDBOX_PORT=str(ports.sandbox),
        SANDBOX_HOST="127.0.0.1",
        PYTHONUNBUFFERED="1",
    )
    extra = python_for(interpreter)[1]
    bench_path = str(ROOT)
    if APP != ROOT:
        # Only the bench package from ROOT: the application must come from APP alone.
        link_dir = WORK / "benchpath"
        link_dir.mkdir(parents=True, exist_ok=True)
        if not (link_dir / "bench").exists():
            (link_dir / "bench").symlink_to(ROOT / "bench")
        bench_path = str(link_dir)
    paths = [str(APP), bench_path] + [
        p for p in extra.get("PYTHONPATH", "").split(os.pathsep) if p and p != str(ROOT)
    ]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


class Service:
    def __init__(
        self, name: str, argv: list[str], env: dict[str, str], work: Path | None = None
    ) -> None:
        self.name = name
        self.argv, self.env = argv, env  # kept so the fault bench can start it again
        work = work or WORK
        work.mkdir(parents=True, exist_ok=True)
        self.log_path = work / f"{name}.log"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            argv,
            cwd=APP,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._log.close()

    def kill(self) -> None:
        """SIGKILL the whole process tree at once: a crash, not a shutdown."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)
        self._log.close()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def run_manage(env: dict[str, str], *args: str, python: str) -> str:
    result = subprocess.run(
        [python, *args], cwd=APP, env=env, capture_output=True, text=True, timeout=300
    )
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(args)} failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
        )
    return result.stdout


def wait_http(url: str, timeout: float = 30.0, service: Service | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if service is not None and not service.alive():
            raise RuntimeError(f"{service.name} exited:\n{service.tail()}")
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except urllib.error.HTTPError:
            return  # it answered
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


@dataclass
class Stack:
    ports: Ports
    env: dict[str, str]
    python: str
    sandbox: Service
    web: Service
    workers: list[Service]
    beat: Service

    def services(self) -> list[Service]:
        return [self.sandbox, self.web, *self.workers, self.beat]

    def stop(self) -> None:
        for service in reversed(self.services()):
            service.stop()


def start_stack(
    *,
    latency_ms: int,
    auto_status: bool,
    web_workers: int,
    web_threads: int,
    worker_processes: int,
    worker_threads: int,
    interpreter: str,
    fixture: Path,
) -> Stack:
    ports = Ports()
    python, _extra = python_for(interpreter)
    env = base_env(ports, interpreter)
    sandbox_env = dict(
        env,
        SANDBOX_LATENCY_MS=str(latency_ms),
        SANDBOX_AUTO_STATUS="1" if auto_status else "0",
        # Platforms post status callbacks over many connections at once; 8 posting threads
        # fell behind at 100+ sends/s and the statuses arrived after the measured window.
        SANDBOX_WEBHOOK_WORKERS="48",
        SANDBOX_FIXTURE=str(fixture),
    )
    sandbox = Service("sandbox", [python, "-m", "sandbox"], sandbox_env)
    wait_http(f"http://127.0.0.1:{ports.sandbox}/healthz", service=sandbox)
    web_argv = [
        python,
        "-m",
        "gunicorn",
        "config.wsgi:application",
        "--bind",
        f"127.0.0.1:{ports.web}",
        "--workers",
        str(web_workers),
        "--config",
        "python:bench.gunicorn_conf",
        "--backlog",
        "2048",
    ]
    if web_threads > 1:
        web_argv += ["--worker-class", "gthread", "--threads", str(web_threads)]
    web = Service("web", web_argv, env)
    # N separate worker processes, each a thread pool: threads keep many sends in flight
    # (I/O bound), processes let the Python work use more than one core.
    workers = [
        Service(
            f"worker{number}",
            [
                python,
                "-m",
                "celery",
                "-A",
                "bench.celery_app",
                "worker",
                "-l",
                "WARNING",
                "-n",
                f"bench{number}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--pool",
                "threads",
                "--concurrency",
                str(worker_threads),
            ],
            env,
        )
        for number in range(worker_processes)
    ]
    WORK.mkdir(parents=True, exist_ok=True)
    beat = Service(
        "beat",
        [
            python,
            "-m",
            "celery",
            "-A",
            "config",
            "beat",
            "-l",
            "WARNING",
            "-s",
            str(WORK / "celerybeat-schedule"),
            "--pidfile",
            "",
        ],
        env,
    )
    wait_http(f"http://127.0.0.1:{ports.web}/webhooks/sms/", service=web)
    return Stack(ports, env, python, sandbox, web, workers, beat)


# --- Resource accounting -------------------------------------------------------------------


def tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def postgres_shared_processes() -> list[psutil.Process]:
    """The cluster's shared background writers: they also work for every other database on
    this machine's PostgreSQL, so they are reported apart (`postgres_shared`), for reference."""
    pids = {
        int(p)
        for p in psql(
            "SELECT pid FROM pg_stat_activity WHERE backend_type IN ('walwriter', "
            "'checkpointer', 'background writer', 'autovacuum launcher')"
        ).split()
        if p
    }
    found = []
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            found.append(psutil.Process(pid))
    return found


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_stat_cpu(pid: int) -> tuple[int, float] | None:
    """(start time in ticks, user+system CPU seconds) of a process, from /proc/<pid>/stat."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # fields[0] is field 3 (state): utime is field 14, stime 15, starttime 22.
    return int(fields[19]), (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


class BackendCpu:
    """CPU seconds of the bench database's own PostgreSQL backends, exited ones included.

    Sampled every 0.5 s by the monitor (and at each phase edge): the backends whose
    pg_stat_activity.datname is the bench database, read from /proc/<pid>/stat. The last value
    seen of every backend is kept after it exits, keyed by (pid, start time) so a recycled pid
    starts afresh; a backend's work after its last sample before exiting (at most 0.5 s of it)
    is the only part missed, and with CONN_MAX_AGE=600 the web's and worker's connections live
    through a phase. pg_stat_statements is not preloaded on this shared cluster (and its
    total_exec_time is wall time of execution alone, without parse, commit or protocol work)."""

    def __init__(self, db: str = DB_NAME) -> None:
        self.db = db
        self.seen: dict[str, float] = {}
        self._lock = threading.Lock()
        self._conn: Any = None

    def _pids(self) -> list[int]:
        sql = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
        try:
            import psycopg

            if self._conn is None or self._conn.closed:
                self._conn = psycopg.connect(
                    host="127.0.0.1", user="postgres", dbname="postgres", autocommit=True
                )
            return [int(row[0]) for row in self._conn.execute(sql, (self.db,)).fetchall()]
        except Exception:
            self._conn = None
            return [int(p) for p in psql(sql.replace("%s", f"'{self.db}'")).split() if p]

    def sample(self) -> dict[str, float]:
        with self._lock:
            for pid in self._pids():
                stat = proc_stat_cpu(pid)
                if stat is not None:
                    self.seen[f"{pid}:{stat[0]}"] = stat[1]
            return dict(self.seen)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            if self._conn is not None:
                self._conn.close()


def redis_processes() -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        try:
            if proc.info["name"] == "redis-server" and "6379" in " ".join(
                proc.info["cmdline"] or []
            ):
                found.append(proc)
        except psutil.Error:
            pass
    return found


def cpu_of(procs: list[psutil.Process]) -> dict[int, float]:
    times: dict[int, float] = {}
    for proc in procs:
        try:
            cpu = proc.cpu_times()
            times[proc.pid] = cpu.user + cpu.system
        except psutil.Error:
            pass
    return times


def rss_of(procs: list[psutil.Process]) -> dict[int, int]:
    sizes: dict[int, int] = {}
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            sizes[proc.pid] = proc.memory_info().rss
    return sizes


class Monitor:
    """Samples CPU seconds and RSS of each role's process tree once a second."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.roles = {
            "web": lambda: tree(stack.web.pid),
            "worker": lambda: (
                [p for w in stack.workers for p in tree(w.pid)] + tree(stack.beat.pid)
            ),
            "postgres_shared": postgres_shared_processes,
            "redis": redis_processes,
            "sandbox": lambda: tree(stack.sandbox.pid),
            "bench": lambda: [psutil.Process(os.getpid())],
        }
        self.backends = BackendCpu()
        self.peak_rss: dict[str, dict[int, int]] = {role: {} for role in self.roles}
        self.rss_samples: dict[str, list[tuple[float, int]]] = {role: [] for role in self.roles}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def cpu(self) -> dict[str, dict[Any, float]]:
        found: dict[str, dict[Any, float]] = {
            role: cpu_of(get()) for role, get in self.roles.items()
        }
        found["postgres"] = self.backends.sample()
        return found

    def sample_rss(self) -> None:
        now = time.time()
        for role, get in self.roles.items():
            procs = get()
            sizes = rss_of(procs)
            for pid, size in sizes.items():
                self.peak_rss[role][pid] = max(size, self.peak_rss[role].get(pid, 0))
            if sizes:
                self.rss_samples[role].append((now, sum(sizes.values())))

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample_rss()
            for _half in range(2):
                with contextlib.suppress(Exception):
                    self.backends.sample()
                if self._stop.wait(0.5):
                    break
        self.backends.close()

    @staticmethod
    def cpu_delta(
        before: dict[str, dict[Any, float]], after: dict[str, dict[Any, float]]
    ) -> dict[str, float]:
        return {
            role: round(sum(t - before.get(role, {}).get(pid, 0.0) for pid, t in procs.items()), 3)
            for role, procs in after.items()
        }


def machine_cpu() -> dict[str, Any]:
    return {"cpus": psutil.cpu_count(), "loadavg": os.getloadavg()}
