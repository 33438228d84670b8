"""The A/B harness and the fixed mix, without starting the stack (fast; no PostgreSQL needed)."""

from __future__ import annotations

import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from bench import ab
from bench.load import MixSequence
from bench.procs import ROOT


def fake_result(relayed_per_s: float, web_ms: float, lost: int = 0) -> dict[str, Any]:
    scenario = {
        "relayed_per_s": relayed_per_s,
        "relayed": int(relayed_per_s * 10),
        "cpu_s_per_1000_messages": {
            "web": web_ms,
            "worker": 2.0,
            "postgres": 3.0,
            "redis": 0.5,
            "sandbox": 1.0,
            "bench": 0.2,
        },
        "queries_per_message": 8.0,
        "webhook_ack_p99_ms": 40.0,
        "lost": lost,
        "duplicated": 0,
    }
    return {"meta": {"cpu_calibration_ms_at_start": 40.0}, "peer_shaped": scenario}


def test_the_runs_interleave_a_b_and_a_failing_run_is_reported_not_dropped() -> None:
    plan = ab.interleave(3)
    assert plan == [("A", 1), ("B", 1), ("A", 2), ("B", 2), ("A", 3), ("B", 3)]
    order: list[str] = []
    faster = {1: 100.0, 2: 110.0, 3: 90.0}

    def runner(side: str, pair: int) -> dict[str, Any]:
        order.append(f"{side}{pair}")
        if (side, pair) == ("B", 2):
            raise RuntimeError("worker died: boom")
        rate = faster[pair] * (2 if side == "B" else 1)
        return fake_result(rate, web_ms=4.0 if side == "A" else 3.0)

    runs = ab.run_plan(plan, runner, log=lambda _text: None)
    assert order == ["A1", "B1", "A2", "B2", "A3", "B3"]
    assert [r["ok"] for r in runs] == [True, True, True, False, True, True]
    assert "worker died: boom" in runs[3]["error"]

    table = ab.compare(runs, ["peer_shaped"])["peer_shaped"]
    rate = table["relayed_per_s"]
    assert rate["a"] == [100.0, 110.0, 90.0]
    assert rate["b"] == [200.0, None, 180.0]
    assert rate["ratios"] == [2.0, None, 2.0]
    assert rate["median_ratio"] == 2.0
    # CPU per message: the relay's own processes summed, the driver's apart.
    relay = table["cpu_ms_relay"]
    assert relay["a"][0] == pytest.approx(9.5) and relay["b"][0] == pytest.approx(8.5)
    assert table["cpu_ms_web"]["median_ratio"] == 0.75
    assert table["cpu_ms_sandbox"]["median_ratio"] == 1.0

    summary = {
        "meta": {"a": {"label": "old"}, "b": {"label": "new"}, "pairs": 3, "child_argv": "x"},
        "comparison": {"peer_shaped": table},
        "runs": [{**r, "calibration": [40.0, 41.0]} for r in runs],
    }
    text = ab.markdown(summary)
    assert "| relayed/s | 100 / 110 / 90 | 200 / failed / 180 | 2 / failed / 2 | **2** |" in text
    assert "**run B2 failed**" in text and "worker died: boom" in text
    # Counts are shown as values, never as a ratio (0 lost against 0 lost is no ratio).
    assert "| lost | 0 / 0 / 0 | 0 / failed / 0 | - | - |" in text


def test_the_mix_is_fixed_by_message_index_whatever_the_speed() -> None:
    buyers = [f"b{i}" for i in range(50)]
    reference = [MixSequence(buyers, seed=17)[i] for i in range(400)]
    # Same seed, read by 4 threads at uneven speed: the same sequence, message by message.
    sequence = MixSequence(buyers, seed=17)
    seen: dict[int, tuple[str, str]] = {}
    counter = iter(range(400))
    lock = threading.Lock()

    def sender(pause: float) -> None:
        while True:
            with lock:
                index = next(counter, None)
            if index is None:
                return
            seen[index] = sequence[index]
            time.sleep(pause)

    threads = [threading.Thread(target=sender, args=(p,)) for p in (0, 0.0005, 0.001, 0.002)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [seen[i] for i in range(400)] == reference
    # One first contact in four (a few more at the start, until `lag` buyers are introduced),
    # every buyer introduced once, and no follow-up before its buyer's first contact.
    firsts = [buyer for buyer, kind in reference if kind == "first"]
    assert firsts == buyers
    assert 0.25 <= sum(kind == "first" for _b, kind in reference[:100]) / 100 <= 0.35
    introduced: set[str] = set()
    for buyer, kind in reference:
        assert kind == "first" or buyer in introduced
        introduced.add(buyer)
    # All buyers introduced: follow-ups only, still seeded.
    assert {kind for _b, kind in reference[300:]} == {"follow"}
    assert [MixSequence(buyers, seed=18)[i] for i in range(400)] != reference


def test_a_snapshot_is_the_rev_without_its_bench_package(tmp_path: Path) -> None:
    sha = ab.resolve("HEAD")
    tree = ab.snapshot(sha, base=tmp_path)
    assert tree == tmp_path / sha
    assert (tree / "manage.py").exists() and (tree / "relay").is_dir()
    assert not (tree / "bench").exists()  # this checkout's harness drives both sides
    shown = subprocess.run(
        ["git", "show", f"{sha}:manage.py"], cwd=ROOT, capture_output=True, check=True
    )
    assert (tree / "manage.py").read_bytes() == shown.stdout
    assert ab.snapshot(sha, base=tmp_path) == tree  # kept for the next A/B
    with pytest.raises(SystemExit, match="is not a commit here"):
        ab.resolve("no-such-rev-xyz")


def test_postgres_cpu_keeps_the_last_value_of_a_backend_that_exited() -> None:
    from bench import procs

    backends = procs.BackendCpu()
    alive = [os.getpid()]
    backends._pids = lambda: list(alive)  # type: ignore[method-assign]
    sum(i * i for i in range(300_000))  # some CPU of this process, standing in for a backend
    seen = backends.sample()
    assert len(seen) == 1 and next(iter(seen)).startswith(f"{os.getpid()}:")
    assert next(iter(seen.values())) > 0
    alive.clear()  # the backend exited: its CPU still counts in later samples
    assert backends.sample() == seen
    before: dict[str, dict[object, float]] = {"postgres": {}}
    assert procs.Monitor.cpu_delta(before, {"postgres": seen})["postgres"] > 0
