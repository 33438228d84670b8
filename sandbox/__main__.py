"""`python -m sandbox`: serve the sandbox configured from the environment until stopped."""

from __future__ import annotations

import signal
import sys
import threading

from sandbox.config import SandboxConfig
from sandbox.server import start_sandbox


def main() -> int:
    try:
        config = SandboxConfig.from_env()
    except ValueError as error:
        sys.stderr.write(f"sandbox: {error}\n")
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sandbox = start_sandbox(config)
    print(f"Perantara sandbox at {sandbox.url} (relay {config.relay_url})", flush=True)
    stop.wait()
    sandbox.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
