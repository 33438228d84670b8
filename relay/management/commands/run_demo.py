"""`make run`: the web server, a Celery worker (with beat) and the platform sandbox together.

Ctrl-C stops everything this command started.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run web, worker and sandbox for the demo; Ctrl-C stops them all."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--sandbox-port", type=int, default=8100)

    def handle(self, *args: Any, **options: Any) -> None:
        port, sandbox_port = options["port"], options["sandbox_port"]
        env = dict(os.environ)
        env.setdefault("SANDBOX_RELAY_URL", f"http://127.0.0.1:{port}")
        env.setdefault("SANDBOX_PORT", str(sandbox_port))
        # The phones page keeps its history across restarts, next to the demo's database
        # (`make clean` removes both together, so they never disagree).
        env.setdefault("SANDBOX_STATE_FILE", str(settings.VAR_DIR / "sandbox-state.json"))
        python = sys.executable
        commands = {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--beat",
                "--pool",
                "threads",
                "--concurrency",
                "8",
                "--loglevel",
                "WARNING",
                "--schedule",
                str(settings.VAR_DIR / "celerybeat-schedule"),
            ],
            "sandbox": [python, "-m", "sandbox"],
        }
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            for name, command in commands.items():
                processes[name] = subprocess.Popen(command, env=env, cwd=settings.BASE_DIR)
            time.sleep(2)
            self.stdout.write(self.style.SUCCESS("\nPerantara is running."))
            self.stdout.write(
                f"  Open        http://127.0.0.1:{port}/   (seller: sari / perantara-demo)"
            )
            self.stdout.write(
                f"  Phones      http://127.0.0.1:{sandbox_port}/   (the sandbox's simulated phones)"
            )
            self.stdout.write(
                "  Sign up     a new seller gets a simulated WhatsApp and Instagram on that page"
            )
            self.stdout.write("  Stop        Ctrl-C\n")
            while True:
                for name, process in processes.items():
                    if process.poll() is not None:
                        self.stderr.write(
                            f"{name} exited with code {process.returncode}; stopping."
                        )
                        return
                time.sleep(0.5)
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for process in processes.values():
                try:
                    process.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    process.kill()
