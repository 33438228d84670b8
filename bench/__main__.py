"""`python -m bench` (`make bench`): run the scenarios, print one table, write the JSON.

--scenario peer_shaped|full_mix|all   which scenarios (default all)
--mode open|search                    full mix at a fixed rate, or search the highest rate
--rate N                              offered messages/s for the full mix (open loop)
--duration S                          seconds each measured phase offers load
--latency-sweep                       full mix at 10/50/100/300 ms provider latency
--quick                               a ~1 minute smoke run
--stages                              run bench/stages.py too (in-process micro-benchmarks)
--profile                             py-spy flame graphs of web and worker (both scenarios)
--latency-ms N --warmup S             peer_shaped: provider latency, seconds of uncounted warm-up
--first-every N --mix-seed N          peer_shaped: the fixed mix, one first contact in N messages
--against REV [--b REV] [--pairs N]   A/B: REV against HEAD, interleaved (bench/ab.py)
--interpreter venv|system             run the services with the venv's or Debian's python3.11
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import time
from typing import Any

from bench import load
from bench.harness import RESULTS, Scenario, headline
from bench.procs import APP, ROOT

SWEEP = (10, 50, 100, 300)


WARMUP_BUYERS = 200


def peer_shaped(args: argparse.Namespace) -> dict[str, Any]:
    sellers = load.make_people("s", 1, ("sms",))
    count = args.buyers or 2000
    buyers = load.make_people("b", count, ("sms",))
    # The warm-up writes from buyers of its own, so the measured phase starts at message 0 of
    # its sequence whatever the warm-up managed to send.
    warm_buyers = load.make_people("b", WARMUP_BUYERS, ("sms",), start=count)
    latency = args.latency_ms
    scenario = Scenario(
        "peer_shaped",
        sellers=sellers,
        buyers=buyers + warm_buyers,
        listings_per_seller=10,
        latency_ms=latency,
        auto_status=False,
        web_workers=2,
        web_threads=1,
        worker_processes=args.worker_processes,
        worker_threads=32,
        interpreter=args.interpreter,
    )
    mix = {"first_every": args.first_every, "seed": args.mix_seed}
    try:
        scenario.start()
        world = scenario.world
        assert world is not None
        if args.warmup > 0:
            warm = load.MixSequence(
                [b["key"] for b in warm_buyers], seed=args.mix_seed + 1, first_every=2
            )
            scenario.phase(
                "warmup",
                lambda run: load.closed_loop(
                    world, run, scenario.port, senders=4, duration=args.warmup, sequence=warm
                ),
                latency_ms=latency,
                auto_status=False,
            )
        sequence = load.MixSequence(
            [b["key"] for b in buyers], seed=args.mix_seed, first_every=args.first_every
        )
        result = scenario.phase(
            "closed4",
            lambda run: load.closed_loop(
                world, run, scenario.port, senders=4, duration=args.duration, sequence=sequence
            ),
            latency_ms=latency,
            auto_status=False,
            profile_seconds=min(20, args.duration) if args.profile else 0,
        )
    finally:
        scenario.stop()
    result["config"] = {
        "web": "gunicorn 2 sync workers",
        "senders": 4,
        "buyers": len(buyers),
        "worker": f"{args.worker_processes} x celery threads 32",
        "latency_ms": latency,
        "warmup_s": args.warmup,
        "mix": mix,
    }
    return {**headline(result), **result}


MIX = {"reply": 0.35, "first": 0.15}


def full_mix(args: argparse.Namespace) -> dict[str, Any]:
    rate = args.rate
    phases = 1 + (len(SWEEP) if args.latency_sweep else 0)
    needed = int(rate * args.duration * (MIX["first"] + 0.1) * phases) + 600
    channels = ("whatsapp", "messenger", "instagram", "sms")
    sellers = load.make_people("s", 8, channels)
    buyers = load.make_people("b", needed, channels)
    scenario = Scenario(
        "full_mix",
        sellers=sellers,
        buyers=buyers,
        listings_per_seller=5,
        latency_ms=50,
        auto_status=True,
        web_workers=args.web_workers,
        web_threads=args.web_threads,
        worker_processes=args.worker_processes,
        worker_threads=args.worker_threads,
        interpreter=args.interpreter,
    )
    out: dict[str, Any] = {}
    try:
        scenario.start()
        world = scenario.world
        assert world is not None
        port = scenario.port
        # Conversations to answer: 400 buyers write first (not measured).
        warm_rate = min(rate, 30.0)
        scenario.phase(
            "warm",
            lambda run: load.open_loop(
                world, run, port, rate=warm_rate, duration=5.0, mix={"reply": 0.0, "first": 1.0}
            ),
            latency_ms=50,
            auto_status=True,
            watcher=True,
        )

        def drive(run: load.Run, duration: float = args.duration) -> None:
            load.open_loop(world, run, port, rate=rate, duration=duration, mix=MIX)

        if args.mode == "search":
            out["search"] = search(scenario, args)
        result = scenario.phase(
            "main",
            drive,
            latency_ms=50,
            auto_status=True,
            watcher=True,
            profile_seconds=min(20, args.duration) if args.profile else 0,
        )
        out.update({**headline(result), **result})
        if args.latency_sweep:
            # At 80% of what the main phase sustained (or --sweep-rate): a rate the stack can
            # carry at 50 ms, so the sweep shows what provider latency alone does to it.
            sweep_rate = args.sweep_rate or max(
                5.0, round(0.8 * min(rate, result["relayed_per_s"]), 1)
            )
            out["latency_sweep_rate"] = sweep_rate
            sweep = []
            for latency in SWEEP:
                swept = scenario.phase(
                    f"latency{latency}",
                    lambda run: load.open_loop(
                        world, run, port, rate=sweep_rate, duration=args.sweep_duration, mix=MIX
                    ),
                    latency_ms=latency,
                    auto_status=True,
                    watcher=True,
                )
                sweep.append(
                    {
                        "latency_ms": latency,
                        **headline(swept),
                        "offered_per_s": swept["offered_per_s"],
                        "e2e_p95_ms": swept["e2e_p95_ms"],
                        "backlog_at_end_of_offer": swept["backlog_at_end_of_offer"],
                    }
                )
            out["latency_sweep"] = sweep
    finally:
        scenario.stop()
    out["config"] = {
        "rate": rate,
        "mix": MIX,
        "web": f"gunicorn {args.web_workers} workers x {args.web_threads} threads",
        "worker": f"{args.worker_processes} x celery threads {args.worker_threads}",
        "sellers": 8,
        "listings": 40,
        "latency_ms": 50,
        "interpreter": args.interpreter,
    }
    return out


def search(scenario: Scenario, args: argparse.Namespace) -> dict[str, Any]:
    """Raise the offered rate until webhook p99 >= 200 ms or the backlog grows; keep the best."""
    world = scenario.world
    assert world is not None
    rate, best, steps = args.search_start, None, []
    for _ in range(8):
        result = scenario.phase(
            f"search{int(rate)}",
            lambda run, rate=rate: load.open_loop(
                world, run, scenario.port, rate=rate, duration=args.search_duration, mix=MIX
            ),
            latency_ms=50,
            auto_status=True,
            watcher=True,
        )
        keeps_up = (
            result["relayed_per_s"] >= 0.95 * rate
            and result["skipped_offers"] == 0
            and result["backlog_at_end_of_offer"].get("broker_queue", 0) < rate
        )
        ok = (result["webhook_ack_p99_ms"] or 1e9) < 200 and keeps_up and result["lost"] == 0
        steps.append(
            {
                "rate": rate,
                "ok": ok,
                "offered_per_s": result["offered_per_s"],
                "skipped_offers": result["skipped_offers"],
                "unrouted_answered_with_notice": result["unrouted_answered_with_notice"],
                **headline(result),
            }
        )
        if not ok:
            break
        best = rate
        rate = round(rate * 1.25)
    return {"best_rate": best, "steps": steps}


def table(results: dict[str, Any]) -> str:
    rows = [("figure", "peer_shaped", "full_mix")]
    keys = [
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
        "pg_transactions_per_message",
        "lost",
        "duplicated",
        "misrouted",
        "order_violations",
    ]
    for key in keys:
        rows.append(
            (key, *(str(results.get(s, {}).get(key, "-")) for s in ("peer_shaped", "full_mix")))
        )
    for role in ("web", "worker", "postgres", "redis", "sandbox"):
        rows.append(
            (
                f"cpu_s/1000 msg {role}",
                *(
                    str(results.get(s, {}).get("cpu_s_per_1000_messages", {}).get(role, "-"))
                    for s in ("peer_shaped", "full_mix")
                ),
            )
        )
    for role in ("web", "worker"):
        rows.append(
            (
                f"rss MB {role} start->end",
                *(
                    f"{results.get(s, {}).get('rss_mb_start', {}).get(role, '-')}->"
                    f"{results.get(s, {}).get('rss_mb_end', {}).get(role, '-')}"
                    for s in ("peer_shaped", "full_mix")
                ),
            )
        )
    width = [max(len(r[i]) for r in rows) for i in range(3)]
    lines = [" | ".join(cell.ljust(width[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in width))
    sweep = results.get("full_mix", {}).get("latency_sweep")
    if sweep:
        lines.append("")
        lines.append("latency sweep (full mix): latency_ms relayed/s ack_p99 e2e_p99 lost dup")
        for row in sweep:
            lines.append(
                f"  {row['latency_ms']:>4} {row['relayed_per_s']:>8} {row['webhook_ack_p99_ms']:>8} "
                f"{row['e2e_p99_ms']:>8} {row['lost']:>4} {row['duplicated']:>4}"
            )
    meta = results.get("meta", {})
    if "cpu_calibration_ms_at_start" in meta:
        lines.append("")
        lines.append(
            "machine speed (fixed Python loop, lower is faster): "
            f"{meta['cpu_calibration_ms_at_start']} ms at start, "
            f"{meta.get('cpu_calibration_ms_at_end', '-')} ms at end"
        )
    return "\n".join(lines)


def git_sha() -> str:
    try:
        return (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout.strip()
            or "nogit"
        )
    except OSError:
        return "nogit"


def _unused_path(stem: str) -> str:
    """`<date>-<sha>.json`, or `-2`, `-3`… when that commit was already measured today."""
    candidate = RESULTS / f"{stem}.json"
    number = 2
    while candidate.exists():
        candidate = RESULTS / f"{stem}-{number}.json"
        number += 1
    return str(candidate)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--scenario", choices=("peer_shaped", "full_mix", "all"), default="all")
    parser.add_argument("--mode", choices=("open", "search"), default="open")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=30.0)
    # Default: on for a single run, off in an A/B (its runs compare one phase each).
    parser.add_argument("--latency-sweep", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--sweep-duration", type=float, default=15.0)
    parser.add_argument("--sweep-rate", type=float, default=0.0)
    parser.add_argument("--search-start", type=float, default=100.0)
    parser.add_argument("--search-duration", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--stages", action=argparse.BooleanOptionalAction, default=True)
    # Default: on for a single run, off in an A/B (py-spy's sampling costs CPU of its own).
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--buyers", type=int, default=0)
    parser.add_argument("--latency-ms", type=int, default=50, help="peer_shaped: provider latency")
    parser.add_argument("--warmup", type=float, default=5.0, help="peer_shaped: s not counted")
    parser.add_argument("--first-every", type=int, default=4, help="peer_shaped: 1 first in N")
    parser.add_argument("--mix-seed", type=int, default=17)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--web-threads", type=int, default=1)
    parser.add_argument("--worker-processes", type=int, default=1)
    parser.add_argument("--worker-threads", type=int, default=32)
    parser.add_argument("--interpreter", choices=("venv", "system"), default="venv")
    parser.add_argument("--output", default="")
    parser.add_argument("--against", default="", help="A/B: the old rev (A); see bench/ab.py")
    parser.add_argument("--b", default="HEAD", help="A/B: the new rev (B); '.' = working tree")
    parser.add_argument("--pairs", type=int, default=3, help="A/B: interleaved A B pairs")
    parser.add_argument("--a-env", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--b-env", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    ab = bool(args.against or args.a_env or args.b_env)
    for flag in ("latency_sweep", "profile"):
        if getattr(args, flag) is None:
            setattr(args, flag, not ab)
    if args.quick:
        args.duration, args.sweep_duration, args.search_duration = 10.0, 5.0, 10.0
        args.buyers = args.buyers or 500
        args.warmup = min(args.warmup, 2.0)
    if ab:
        if args.mode != "open" or args.pairs < 1:
            parser.error("an A/B (--against, --a-env, --b-env) runs --mode open, --pairs >= 1")
        from bench import ab as ab_runs

        return ab_runs.main(args)
    started = time.time()
    results: dict[str, Any] = {
        "meta": {
            "date": dt.datetime.now().isoformat(timespec="seconds"),
            "git_sha": git_sha(),
            "argv": sys.argv[1:],
            "python": sys.version.split()[0],
            "app_root": str(APP),
            "loadavg_at_start": list(os.getloadavg()),
            "cpu_calibration_ms_at_start": cpu_calibration_ms(),
        },
    }
    if args.scenario in ("peer_shaped", "all"):
        results["peer_shaped"] = peer_shaped(args)
    if args.scenario in ("full_mix", "all"):
        results["full_mix"] = full_mix(args)
    if args.stages:
        from bench import stages

        try:
            results["stages"] = stages.run_all(quick=args.quick, compare=not args.quick)
        except Exception as error:  # the scenarios' figures are still worth writing
            results["stages"] = {"error": f"{type(error).__name__}: {error}"[:3000]}
    results["meta"]["cpu_calibration_ms_at_end"] = cpu_calibration_ms()
    results["meta"]["wall_s"] = round(time.time() - started, 1)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = args.output or _unused_path(
        f"{dt.date.today().isoformat()}-{results['meta']['git_sha']}"
    )
    with open(path, "w") as handle:
        json.dump(results, handle, indent=2, default=str)
    print()
    print(table(results))
    print(f"\nwrote {path} in {results['meta']['wall_s']} s")
    return 0


def cpu_calibration_ms() -> float:
    """CPU time of a fixed pure-Python loop (best of 3): how fast this machine's cores were
    during the run. Shared 2-core machines vary by 25 % or more between hours, which moves
    every figure; compare runs against this before comparing code."""
    best = float("inf")
    for _round in range(3):
        start = time.process_time()
        total = 0
        for number in range(1_000_000):
            total += number * number % 7
        best = min(best, time.process_time() - start)
    return round(best * 1000, 1)


if __name__ == "__main__":
    sys.exit(main())
