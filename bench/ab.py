"""`python -m bench --against REV`: the old code (A) and the new (B) measured side by side.

Both sides are `git archive` snapshots under var/bench-ab/<sha>/ (B is HEAD unless `--b REV`;
`--b .` measures the working tree as it is) and run on the same venv. Each snapshot's own
bench/ is left out, so both sides are driven and instrumented by this checkout's harness.
The runs interleave A B A B ... (`--pairs N`, 3 by default), each a fresh `python -m bench`
process: a freshly recreated bench database, a flushed Redis db 7, fresh web, worker and
sandbox. `--a-env K=V` / `--b-env K=V` add environment to one side only, so the same code can
be compared with two settings (e.g. `--b-env BENCH_DB_QUERY=?server_side_binding=true`).

Every figure is printed for A and B with the ratio B/A pair by pair and the median ratio, and
written to bench/results/ab-<date>.json and .md. A run that fails is reported (its error and
log tail) and its pair gets no ratio; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.procs import ROOT, WORK

SNAPSHOTS = ROOT / "var" / "bench-ab"
RESULTS = Path(__file__).resolve().parent / "results"
RELAY_ROLES = ("web", "worker", "postgres", "redis")
# (key, label); the CPU figures are ms per relayed message (= s per 1,000).
FIGURES = (
    ("relayed_per_s", "relayed/s"),
    ("cpu_ms_relay", "CPU ms/msg: relay total (web+worker+postgres+redis)"),
    ("cpu_ms_web", "CPU ms/msg: web"),
    ("cpu_ms_worker", "CPU ms/msg: worker"),
    ("cpu_ms_postgres", "CPU ms/msg: postgres (bench db backends)"),
    ("cpu_ms_redis", "CPU ms/msg: redis"),
    ("cpu_ms_sandbox", "CPU ms/msg: sandbox (driver side)"),
    ("cpu_ms_bench", "CPU ms/msg: bench driver"),
    ("queries_per_message", "statements/msg"),
    ("pg_transactions_per_message", "transactions/msg"),
    ("webhook_ack_p50_ms", "ack p50 ms"),
    ("webhook_ack_p99_ms", "ack p99 ms"),
    ("relayed", "relayed messages"),
    ("lost", "lost"),
    ("duplicated", "duplicated"),
    ("misrouted", "misrouted"),
    ("order_violations", "out of order"),
    ("webhooks_not_2xx", "webhooks answered non-2xx"),
)
COUNTS = {"relayed", "lost", "duplicated", "misrouted", "order_violations", "webhooks_not_2xx"}


# --- snapshots -------------------------------------------------------------------------------


def resolve(rev: str) -> str:
    found = subprocess.run(
        ["git", "rev-parse", "--verify", f"{rev}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    if found.returncode != 0:
        raise SystemExit(f"bench --against: {rev!r} is not a commit here: {found.stderr.strip()}")
    return found.stdout.strip()


def snapshot(sha: str, base: Path = SNAPSHOTS) -> Path:
    """`git archive <sha>` into base/<sha>/ (kept for the next A/B), without its bench/."""
    target = base / sha
    if (target / ".complete").exists():
        return target
    base.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{sha[:12]}-", dir=base))
    tree = work / "tree"
    tree.mkdir()
    # git's own archive piped into tar (Debian's 3.11.2 tarfile has no extraction filter).
    archive = subprocess.Popen(
        ["git", "archive", "--format=tar", sha], cwd=ROOT, stdout=subprocess.PIPE
    )
    extracted = subprocess.run(["tar", "-x", "-C", str(tree)], stdin=archive.stdout, check=False)
    if archive.stdout:
        archive.stdout.close()
    if archive.wait(120) != 0 or extracted.returncode != 0:
        shutil.rmtree(work, ignore_errors=True)
        raise SystemExit(f"bench --against: git archive {sha} could not be extracted")
    # The harness (this checkout's bench/) drives and instruments both sides alike.
    shutil.rmtree(tree / "bench", ignore_errors=True)
    (tree / ".complete").write_text(sha + "\n")
    shutil.rmtree(target, ignore_errors=True)
    tree.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    return target


# --- the plan and its runs ---------------------------------------------------------------------


def interleave(pairs: int) -> list[tuple[str, int]]:
    """A B A B ...: (side, pair number from 1)."""
    return [(side, pair) for pair in range(1, pairs + 1) for side in ("A", "B")]


def run_plan(
    plan: list[tuple[str, int]],
    runner: Callable[[str, int], dict[str, Any]],
    log: Callable[[str], None] = print,
) -> list[dict[str, Any]]:
    """Run every (side, pair) in order; a run that raises is recorded as failed, not dropped."""
    runs: list[dict[str, Any]] = []
    for side, pair in plan:
        started = time.time()
        log(f"[bench-ab] run {side}{pair} ({len(runs) + 1}/{len(plan)})")
        try:
            results = runner(side, pair)
            run = {"side": side, "pair": pair, "ok": True, "results": results}
        except Exception as error:
            run = {"side": side, "pair": pair, "ok": False, "error": f"{error}"[-4000:]}
            log(f"[bench-ab] run {side}{pair} FAILED: {str(error)[-400:]}")
        run["wall_s"] = round(time.time() - started, 1)
        runs.append(run)
    return runs


def figures(scenario: dict[str, Any]) -> dict[str, float | None]:
    cpu = scenario.get("cpu_s_per_1000_messages") or {}
    out: dict[str, float | None] = {
        key: scenario.get(key)
        for key, _label in FIGURES
        if not key.startswith("cpu_ms_") and key in scenario
    }
    for role in (*RELAY_ROLES, "sandbox", "bench"):
        out[f"cpu_ms_{role}"] = cpu.get(role)
    if all(cpu.get(role) is not None for role in RELAY_ROLES):
        out["cpu_ms_relay"] = round(sum(cpu[role] for role in RELAY_ROLES), 2)
    return out


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or a == 0:
        return None
    return round(b / a, 3)


def compare(runs: list[dict[str, Any]], scenarios: list[str]) -> dict[str, Any]:
    """For each scenario and figure: A's and B's values by pair, B/A by pair, median B/A."""
    by_key = {(r["side"], r["pair"]): r for r in runs}
    pairs = sorted({r["pair"] for r in runs})
    table: dict[str, Any] = {}
    for name in scenarios:

        def value(side: str, pair: int, key: str, name: str = name) -> float | None:
            run = by_key.get((side, pair))
            if not run or not run["ok"] or name not in run["results"]:
                return None
            return figures(run["results"][name]).get(key)

        rows = {}
        for key, label in FIGURES:
            a = [value("A", p, key) for p in pairs]
            b = [value("B", p, key) for p in pairs]
            ratios = [ratio(x, y) for x, y in zip(a, b, strict=True)]
            known = [r for r in ratios if r is not None]
            rows[key] = {
                "label": label,
                "a": a,
                "b": b,
                "ratios": ratios,
                "median_ratio": round(statistics.median(known), 3) if known else None,
                "median_a": _median(a),
                "median_b": _median(b),
            }
        table[name] = rows
    return table


def _median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return round(statistics.median(known), 3) if known else None


def _cell(values: list[Any]) -> str:
    return " / ".join("failed" if v is None else f"{v:g}" for v in values)


def markdown(summary: dict[str, Any]) -> str:
    meta = summary["meta"]
    lines = [
        f"A = {meta['a']['label']}, B = {meta['b']['label']}; "
        f"{meta['pairs']} interleaved pairs (A B A B ...), {meta['child_argv']}",
        "",
    ]
    for name, rows in summary["comparison"].items():
        lines += [
            f"| {name} | A (pair 1 / 2 / ...) | B (pair 1 / 2 / ...) | B/A by pair | median B/A |",
            "|---|---|---|---|---|",
        ]
        for key, row in rows.items():
            ratios = "-" if key in COUNTS else _cell(row["ratios"])
            median = row["median_ratio"]
            shown = "-" if key in COUNTS or median is None else f"**{median:g}**"
            lines.append(
                f"| {row['label']} | {_cell(row['a'])} | {_cell(row['b'])} | {ratios} | {shown} |"
            )
        lines.append("")
    speeds = [
        f"{r['side']}{r['pair']} {_cell(r.get('calibration') or [None, None])}"
        f" (load {r.get('loadavg_at_start', '-')})"
        for r in summary["runs"]
    ]
    lines.append(
        "machine speed, ms of a fixed Python loop at start / end of each run "
        "(1-minute load average at its start): " + ", ".join(speeds)
    )
    failed = [r for r in summary["runs"] if not r["ok"]]
    for run in failed:
        lines.append(f"\n**run {run['side']}{run['pair']} failed**: `{run['error'][-300:]}`")
    return "\n".join(lines)


# --- the command -------------------------------------------------------------------------------


def child_argv(args: argparse.Namespace, output: Path) -> list[str]:
    """The single-run command both sides get: the same flags, resolved (--quick included)."""
    argv = [
        "--scenario", args.scenario,
        "--duration", str(args.duration),
        "--rate", str(args.rate),
        "--latency-ms", str(args.latency_ms),
        "--warmup", str(args.warmup),
        "--first-every", str(args.first_every),
        "--mix-seed", str(args.mix_seed),
        "--web-workers", str(args.web_workers),
        "--web-threads", str(args.web_threads),
        "--worker-processes", str(args.worker_processes),
        "--worker-threads", str(args.worker_threads),
        "--sweep-duration", str(args.sweep_duration),
        "--interpreter", args.interpreter,
        "--no-stages",
        "--latency-sweep" if args.latency_sweep else "--no-latency-sweep",
        "--profile" if args.profile else "--no-profile",
        "--output", str(output),
    ]  # fmt: skip
    if args.buyers:
        argv += ["--buyers", str(args.buyers)]
    return argv


def _env_pairs(items: list[str], flag: str) -> dict[str, str]:
    env = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"bench {flag}: expected KEY=VALUE, got {item!r}")
        env[key] = value
    return env


def main(args: argparse.Namespace) -> int:
    stamp = dt.datetime.now().strftime("%Y-%m-%d-%H%M%S")
    sides: dict[str, dict[str, Any]] = {}
    for side, rev, extra, flag in (
        ("A", args.against or "HEAD", args.a_env, "--a-env"),
        ("B", args.b, args.b_env, "--b-env"),
    ):
        env = _env_pairs(extra, flag)
        if rev == ".":
            root, sha, label = ROOT, "worktree", "the working tree"
        else:
            sha = resolve(rev)
            root, label = snapshot(sha), f"{rev} ({sha[:9]})"
        if env:
            label += " with " + " ".join(f"{k}={v}" for k, v in env.items())
        sides[side] = {"rev": rev, "sha": sha, "root": str(root), "env": env, "label": label}
        print(f"[bench-ab] {side} = {label}: {root}", flush=True)
    work = WORK / f"ab-{stamp}"
    profiles = RESULTS / "profiles" / f"ab-{stamp}"

    def runner(side: str, pair: int) -> dict[str, Any]:
        run_dir = work / f"{side}{pair}"
        run_dir.mkdir(parents=True, exist_ok=True)
        output = run_dir / "result.json"
        env = dict(
            os.environ,
            BENCH_APP_ROOT=sides[side]["root"],
            BENCH_WORK_DIR=str(run_dir),
            BENCH_PROFILE_DIR=str(profiles / f"{side}{pair}"),
            **sides[side]["env"],
        )
        if sides[side]["root"] == str(ROOT):
            env.pop("BENCH_APP_ROOT")
        log_path = run_dir / "bench.log"
        timeout = 900 + 4 * (args.duration + args.warmup)
        with open(log_path, "wb") as log:
            finished = subprocess.run(
                [sys.executable, "-m", "bench", *child_argv(args, output)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=timeout,
            )
        if finished.returncode != 0 or not output.exists():
            tail = log_path.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"exit {finished.returncode}; log {log_path}:\n{tail}")
        return json.loads(output.read_text())

    scenarios = ["peer_shaped", "full_mix"] if args.scenario == "all" else [args.scenario]
    started = time.time()
    runs = run_plan(interleave(args.pairs), runner, log=lambda text: print(text, flush=True))
    for run in runs:
        meta = run.get("results", {}).get("meta", {})
        run["calibration"] = [
            meta.get("cpu_calibration_ms_at_start"),
            meta.get("cpu_calibration_ms_at_end"),
        ]
        run["loadavg_at_start"] = round((meta.get("loadavg_at_start") or [0.0])[0], 1)
    summary: dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now().isoformat(timespec="seconds"),
            "a": sides["A"],
            "b": sides["B"],
            "pairs": args.pairs,
            "child_argv": " ".join(child_argv(args, Path("…"))[:-2]),
            "wall_s": round(time.time() - started, 1),
            "loadavg_at_end": list(os.getloadavg()),
        },
        "comparison": compare(runs, scenarios),
        "runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = (
        Path(args.output) if args.output else _unused(RESULTS / f"ab-{dt.date.today().isoformat()}")
    )
    path.write_text(json.dumps(summary, indent=2, default=str))
    table = markdown(summary)
    path.with_suffix(".md").write_text(table + "\n")
    print()
    print(table)
    print(f"\nwrote {path} and {path.with_suffix('.md')} in {summary['meta']['wall_s']} s")
    return 0 if all(run["ok"] for run in runs) else 1


def _unused(stem: Path) -> Path:
    candidate, number = stem.with_suffix(".json"), 2
    while candidate.exists():
        candidate = stem.parent / f"{stem.name}-{number}.json"
        number += 1
    return candidate
