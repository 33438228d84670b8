"""Serve the sandbox over HTTP from a background thread: `start_sandbox(config)`.

HTTP/1.1 with keep-alive, one thread per connection, so the relay's connection pool can reuse
sockets at a few hundred requests a second.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from sandbox import app, persistence
from sandbox.config import SandboxConfig
from sandbox.runtime import Runtime
from sandbox.state import SandboxState
from sandbox.web import Request


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], runtime: Runtime) -> None:
        self.runtime = runtime
        super().__init__(address, SandboxRequestHandler)


class SandboxRequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PerantaraSandbox/1.0"
    timeout = 60  # close idle keep-alive connections
    # Headers and body go out in two writes; with Nagle's algorithm on, the client's delayed
    # ACK would hold the body back ~40 ms per request.
    disable_nagle_algorithm = True
    server: SandboxHTTPServer

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        target = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=target.path,
            query=dict(parse_qsl(target.query, keep_blank_values=True)),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        response = app.handle(self.server.runtime, request)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet: at benchmark rates a line per request drowns everything else."""


class RunningSandbox:
    """A sandbox serving in a background thread."""

    def __init__(
        self,
        server: SandboxHTTPServer,
        thread: threading.Thread,
        saver: persistence.StateSaver | None = None,
    ) -> None:
        self._server = server
        self._thread = thread
        self._saver = saver
        self.runtime = server.runtime
        self.url = server.runtime.base_url

    @property
    def state(self) -> SandboxState:
        return self.runtime.state

    @property
    def config(self) -> SandboxConfig:
        return self.runtime.config

    def stop(self) -> None:
        """Stop serving, wake held requests and end the status workers."""
        self.runtime.stopping.set()
        self.runtime.poster.stop()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self._saver is not None:
            self._saver.stop()  # after the last request, so its change is written too

    def __enter__(self) -> RunningSandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def start_sandbox(config: SandboxConfig) -> RunningSandbox:
    """Bind `config.host:config.port` (0 picks a free port) and serve in a daemon thread.

    With `config.state_file`, start from the history saved there and keep it up to date.
    """
    runtime = Runtime.create(config)
    saver = None
    if config.state_file is not None:
        persistence.load(runtime.state, config.state_file)
        saver = persistence.StateSaver(runtime.state, config.state_file)
        saver.start()
    server = SandboxHTTPServer((config.host, config.port), runtime)
    host, port = server.server_address[:2]
    shown_host = host if isinstance(host, str) else host.decode()
    if shown_host in ("0.0.0.0", "::"):
        shown_host = "127.0.0.1"  # listening everywhere; loopback is one address that works
    if ":" in shown_host:
        shown_host = f"[{shown_host}]"
    runtime.base_url = f"http://{shown_host}:{port}"
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.05},
        name="sandbox-http",
        daemon=True,
    )
    thread.start()
    return RunningSandbox(server, thread, saver)
