"""One private stack for the fault tests: PostgreSQL, Redis, gunicorn, two workers, beat, sandbox.

Started once for the module (about 15 s) in `var/faults-test-<pid>/` (not pytest's tmp: the
PostgreSQL server runs as `postgres` and must reach its data directory) and torn down after;
the process logs stay in its `logs/`. The machine's shared PostgreSQL and Redis are never touched.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

from bench import fault_stack
from bench.fault_infra import FAULTS_DIR, missing_prerequisites


@pytest.fixture(scope="module")
def stack() -> Iterator[fault_stack.FaultStack]:
    missing = missing_prerequisites()
    if missing:
        pytest.skip(f"the fault suite needs a private PostgreSQL and Redis: {missing}")
    work = FAULTS_DIR.parent / f"faults-test-{os.getpid()}"
    running = fault_stack.start(buyers=1500, work=work)
    yield running
    running.stop()
    for path in work.iterdir():  # the process logs stay, to read after a failure
        if path.is_dir() and path.name != "logs":
            shutil.rmtree(path, ignore_errors=True)
        elif path.is_file():
            path.unlink()
