"""`python -m bench.faults` (`make faults`): the fault suite of issue #11, long form.

Starts a private PostgreSQL and a private Redis (never the machine's shared ones), the relay
as the README runs it in production (gunicorn gthread, two Celery thread-pool workers, beat)
and the sandbox, drives the full mix on every channel at --rate msgs/s, injects each fault,
checks loss, duplicates and order from the sandbox's own record, prints one table and writes
`bench/results/faults-<date>-<sha>.json`. About 15 minutes with every scenario on the current
code (scenario 2 waits up to 480 s for the sweeper: 5 minutes, then its 60 s grace), 4 once the relay meets
the targets.

--only postgres,worker,redis,slow,web,provider   which scenarios (default all, in that order)
--rate N                                         offered messages/s (default 20)
--output PATH                                    where to write the JSON
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from typing import Any

from bench import fault_stack
from bench.__main__ import _unused_path, cpu_calibration_ms, git_sha
from bench.fault_infra import missing_prerequisites
from bench.fault_scenarios import SCENARIOS
from bench.harness import RESULTS

ORDER = ("provider", "slow", "web", "redis", "worker", "postgres")
COLUMNS = (
    ("scenario", 30),
    ("accepted", 8),
    ("lost", 4),
    ("dup", 4),
    ("order", 5),
    ("drain_s", 8),
    ("measure", 42),
    ("value", 10),
    ("target", 34),
    ("met", 4),
)


def table(rows: list[dict[str, Any]]) -> str:
    """One line per scenario: the common checks, then its own measure against the target."""
    lines = ["  ".join(f"{name:<{width}}" for name, width in COLUMNS)]
    for row in rows:
        cells = {
            **row,
            "dup": row.get("duplicated"),
            "order": row.get("order_violations"),
            "drain_s": "-" if row.get("drain_s") is None else row["drain_s"],
            "met": "yes" if row.get("met") else "NO",
        }
        lines.append("  ".join(f"{cells.get(n, '')!s:<{w}.{w}}" for n, w in COLUMNS))
    return "\n".join(lines)


def run(names: list[str], rate: float) -> list[dict[str, Any]]:
    stack = fault_stack.start()
    rows = []
    try:
        for name in names:
            started = time.time()
            try:
                row = SCENARIOS[name](stack, rate=rate)
            except Exception as error:  # the other scenarios are still worth running
                row = {"scenario": name, "met": False, "error": f"{type(error).__name__}: {error}"}
                fault_stack.log(f"{name} raised: {row['error']}")
            row["wall_s"] = round(time.time() - started, 1)
            rows.append(row)
    finally:
        stack.stop()
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.faults",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--only", default=",".join(ORDER))
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--output", default="")
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = sorted(set(names) - set(SCENARIOS))
    if unknown:
        parser.error(f"unknown scenario {', '.join(unknown)}; choose from {', '.join(ORDER)}")
    missing = missing_prerequisites()
    if missing:
        print(f"cannot run the fault suite: {missing}", file=sys.stderr)
        return 2
    started = time.time()
    meta = {
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "git_sha": git_sha(),
        "argv": sys.argv[1:],
        "rate": args.rate,
        "loadavg_at_start": list(os.getloadavg()),
        "cpu_calibration_ms_at_start": cpu_calibration_ms(),
    }
    rows = run(names, args.rate)
    meta["wall_s"] = round(time.time() - started, 1)
    meta["cpu_calibration_ms_at_end"] = cpu_calibration_ms()
    RESULTS.mkdir(parents=True, exist_ok=True)
    stem = f"faults-{dt.date.today().isoformat()}-{meta['git_sha']}"
    path = args.output or _unused_path(stem)
    with open(path, "w") as handle:
        json.dump({"meta": meta, "scenarios": rows}, handle, indent=2, default=str)
    print()
    print(table(rows))
    print(f"\nwrote {path} in {meta['wall_s']} s")
    return 0 if all(row.get("met") for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
