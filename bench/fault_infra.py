"""The fault bench's own servers: a private PostgreSQL cluster, a private Redis, a send proxy.

They exist so a test can stop a database or a broker without touching the machine's shared
ones (5432, 6379). Everything listens on 127.0.0.1 on a free port and lives under
`var/faults/`. PostgreSQL runs as the `postgres` user when we are root (it refuses root), with
trust authentication and fsync off: the data is thrown away after each run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

from bench.procs import ROOT, Service, free_port

FAULTS_DIR = Path(os.environ.get("FAULTS_WORK_DIR") or ROOT / "var" / "faults")


def postgres_bin_dir() -> Path | None:
    """The newest PostgreSQL server binaries on this machine, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def missing_prerequisites() -> str | None:
    """Why the fault suite cannot run here, or None when it can."""
    if postgres_bin_dir() is None:
        return "no PostgreSQL server binaries (initdb, pg_ctl) to start a private cluster"
    if shutil.which("redis-server") is None:
        return "no redis-server to start a private Redis"
    if shutil.which("psql") is None:
        return "no psql client"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser to start PostgreSQL as postgres"
    return None


def _as_postgres(argv: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


class PrivatePostgres:
    """A throw-away PostgreSQL cluster that can be stopped and started during load."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.data = base / "data"
        self.port = free_port()
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError(missing_prerequisites())
        self.bin: Path = bin_dir

    def init(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)
        self.base.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.base, "postgres", "postgres")
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
            "-E", "UTF8", "--no-sync", "--no-instructions",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.base}"
            " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            " -c max_connections=300"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.base / "server.log"),
            "-w", "-t", "60", "-o", options, "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; `fast` ends every session at once, as a crash or failover does."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        result = subprocess.run(
            ["pg_isready", "-h", "127.0.0.1", "-p", str(self.port)], capture_output=True
        )
        return result.returncode == 0

    def destroy(self) -> None:
        with contextlib.suppress(RuntimeError):
            if self.running():
                self.stop("immediate")
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        argv = ["psql", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]
        result = subprocess.run(
            [*argv, "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql],
            capture_output=True,
            text=True,
            timeout=60,
        )
        if result.returncode != 0:
            raise RuntimeError(f"psql failed: {result.stderr.strip()}")
        return result.stdout.strip()

    def _run(self, *argv: str) -> None:
        result = subprocess.run(
            _as_postgres(list(argv)), capture_output=True, text=True, timeout=120, cwd="/"
        )
        if result.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed: {result.stdout[-1000:]}{result.stderr[-1000:]}")


class PrivateRedis:
    """A Redis that keeps nothing on disk, so a restart comes back empty."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.service: Service | None = None

    def start(self) -> None:
        self.base.mkdir(parents=True, exist_ok=True)
        argv = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.base),
        ]  # fmt: skip
        self.service = Service("redis", argv, dict(os.environ), work=self.base)
        deadline = time.monotonic() + 20
        while not self.ping():
            if time.monotonic() > deadline or not self.service.alive():
                raise RuntimeError(f"private redis did not start:\n{self.service.tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def url(self, db: int) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"


class SendProxy:
    """A TCP proxy between the relay and the sandbox's send APIs that can refuse connections.

    `refuse()` closes the listening socket and every open connection, so the relay's kept-alive
    connections break and new ones are refused, as when a platform's API is unreachable;
    `accept()` listens again on the same port.
    """

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.port = free_port()
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._listening = threading.Event()
        self._listener: threading.Thread | None = None
        self.accept()

    def accept(self) -> None:
        server = socket.create_server(("127.0.0.1", self.port), backlog=512)
        server.settimeout(0.1)
        self._listening.set()
        self._listener = threading.Thread(target=self._serve, args=(server,), daemon=True)
        self._listener.start()

    def refuse(self) -> None:
        self._listening.clear()
        if self._listener is not None:
            self._listener.join(5)
        with self._lock:
            for sock in self._open:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            self._open.clear()

    def close(self) -> None:
        self.refuse()

    def _serve(self, server: socket.socket) -> None:
        with server:
            while self._listening.is_set():
                try:
                    client, _address = server.accept()
                except TimeoutError:
                    continue
                except OSError:
                    return
                threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
        except OSError:
            client.close()
            return
        upstream.settimeout(None)
        client.settimeout(None)
        with self._lock:
            self._open.update((client, upstream))
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        self._pump(client, upstream)

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            with self._lock:
                self._open.discard(sock)
