"""The median of several `make bench` results, as the Markdown tables bench/README.md shows.

`python -m bench.median bench/results/A.json bench/results/B.json bench/results/C.json`

Shared machines vary between runs (bench/README.md, "Machine speed"), so the README reports
the median of three runs for every figure, each run's value beside it.
"""

from __future__ import annotations

import json
import statistics
import sys
from typing import Any

SCENARIO_FIGURES = [
    "relayed_per_s",
    "offered_per_s",
    "webhook_ack_p50_ms",
    "webhook_ack_p95_ms",
    "webhook_ack_p99_ms",
    "e2e_p50_ms",
    "e2e_p95_ms",
    "e2e_p99_ms",
    "status_webhooks_per_s",
    "queries_per_message",
    "queries_per_message_web",
    "queries_per_message_worker",
    "pg_transactions_per_message",
    "lost",
    "duplicated",
    "misrouted",
    "order_violations",
    "unrouted_answered_with_notice",
]
ROLES = ("web", "worker", "postgres", "redis", "sandbox", "bench")


def _median(values: list[Any]) -> Any:
    numbers = [v for v in values if isinstance(v, int | float)]
    if len(numbers) != len(values) or not numbers:
        return "-"
    middle = statistics.median(numbers)
    return round(middle, 2) if isinstance(middle, float) else middle


def _row(label: str, values: list[Any]) -> str:
    cells = ["-" if v is None else str(v) for v in values]
    return f"| {label} | **{_median(values)}** | " + " | ".join(cells) + " |"


def scenario_table(runs: list[dict[str, Any]], scenario: str) -> str:
    names = [run["meta"]["git_sha"] for run in runs]
    lines = [
        f"| {scenario} | median | " + " | ".join(f"run {i + 1}" for i in range(len(runs))) + " |",
        "|---|---|" + "---|" * len(runs),
    ]
    parts = [run.get(scenario, {}) for run in runs]
    for key in SCENARIO_FIGURES:
        lines.append(_row(key, [part.get(key) for part in parts]))
    for role in ROLES:
        lines.append(
            _row(
                f"CPU s / 1,000 msgs: {role}",
                [part.get("cpu_s_per_1000_messages", {}).get(role) for part in parts],
            )
        )
    for role in ("web", "worker"):
        lines.append(
            _row(
                f"RSS MB {role} at end (start)",
                [
                    f"{part.get('rss_mb_end', {}).get(role)} ({part.get('rss_mb_start', {}).get(role)})"
                    for part in parts
                ],
            )
        )
    lines.append(
        "| machine speed ms (start/end) | | "
        + " | ".join(
            f"{run['meta'].get('cpu_calibration_ms_at_start')}/"
            f"{run['meta'].get('cpu_calibration_ms_at_end')}"
            for run in runs
        )
        + " |"
    )
    lines.append("| commit | | " + " | ".join(names) + " |")
    return "\n".join(lines)


def sweep_table(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| latency ms | median relayed/s | relayed/s per run | offered/s per run "
        "| ack p99 ms per run | e2e p99 ms per run | lost | dup |",
        "|---|---|---|---|---|---|---|---|",
    ]
    sweeps = [run.get("full_mix", {}).get("latency_sweep", []) for run in runs]
    for index, row in enumerate(sweeps[0] if sweeps else []):
        same = [sweep[index] for sweep in sweeps if len(sweep) > index]

        def column(key: str, rows: list[dict[str, Any]] = same) -> str:
            return " / ".join(str(r.get(key)) for r in rows)

        lines.append(
            f"| {row['latency_ms']} | **{_median([r['relayed_per_s'] for r in same])}** "
            f"| {column('relayed_per_s')} | {column('offered_per_s')} "
            f"| {column('webhook_ack_p99_ms')} | {column('e2e_p99_ms')} "
            f"| {sum(r['lost'] for r in same)} | {sum(r['duplicated'] for r in same)} |"
        )
    return "\n".join(lines)


def stages_table(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| stage | median ms/op | median per s | statements/op | Python CPU ms/op "
        "| PostgreSQL CPU ms/op |",
        "|---|---|---|---|---|---|",
    ]
    tables = [run.get("stages", {}).get("venv", []) for run in runs]
    for index, row in enumerate(tables[0] if tables else []):
        same = [table[index] for table in tables if len(table) > index]
        lines.append(
            f"| {row['stage']} | {_median([r['ms_per_op'] for r in same])} "
            f"| {_median([r['per_s'] for r in same])} | {row.get('queries_per_op', '')} "
            f"| {_median([r.get('python_cpu_ms_per_op') for r in same]) if 'python_cpu_ms_per_op' in row else ''} "
            f"| {_median([r.get('pg_cpu_ms_per_op') for r in same]) if 'pg_cpu_ms_per_op' in row else ''} |"
        )
    return "\n".join(lines)


def main(paths: list[str]) -> str:
    runs = [json.loads(open(path).read()) for path in paths]
    return "\n\n".join(
        [
            scenario_table(runs, "peer_shaped"),
            scenario_table(runs, "full_mix"),
            sweep_table(runs),
            stages_table(runs),
        ]
    )


if __name__ == "__main__":
    print(main(sys.argv[1:]))
