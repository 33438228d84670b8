"""`make bench` still runs end to end: a few seconds of each scenario against the real stack.

The bench drops and recreates its own database (`perantara_bench`) on the machine's
PostgreSQL and uses Redis db 7, so it runs where CI runs (PostgreSQL and Redis up), not on a
bare `make test`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not (
        str(settings.DATABASES["default"]["ENGINE"]).endswith("postgresql")
        and settings.CELERY_BROKER_URL.startswith("redis")
    ),
    reason="the bench needs the machine's PostgreSQL and Redis (CI sets DATABASE_URL and "
    "CELERY_BROKER_URL to them)",
)


def test_a_short_bench_relays_everything_once_and_prints_the_table(tmp_path: Path) -> None:
    output = tmp_path / "smoke.json"
    env = dict(os.environ, BENCH_WORK_DIR=str(tmp_path / "work"))
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--scenario",
            "all",
            "--duration",
            "8",
            "--rate",
            "20",
            "--buyers",
            "60",
            "--no-latency-sweep",
            "--no-profile",
            "--no-stages",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert "relayed_per_s" in finished.stdout and "machine speed" in finished.stdout
    results = json.loads(output.read_text())
    for name in ("peer_shaped", "full_mix"):
        scenario = results[name]
        assert scenario["relayed_per_s"] > 0, name
        assert (scenario["lost"], scenario["duplicated"], scenario["misrouted"]) == (0, 0, 0)
        assert scenario["order_violations"] == 0
        assert 1 <= scenario["queries_per_message"] < 20, scenario["queries_per_message"]
        assert scenario["webhook_ack_p99_ms"] is not None
    full = results["full_mix"]
    # Every kind of message was offered, replies included, and each reached its recipient.
    assert set(full["kinds"]) == {"first", "follow", "reply"}
    assert full["unrouted_answered_with_notice"] == 0
    assert full["status_webhooks"] > 0
    assert results["meta"]["cpu_calibration_ms_at_start"] > 0


def test_an_ab_run_snapshots_both_sides_and_prints_their_ratio(tmp_path: Path) -> None:
    output = tmp_path / "ab.json"
    env = dict(os.environ, BENCH_WORK_DIR=str(tmp_path / "work"))
    finished = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--against",
            "HEAD~1",
            "--pairs",
            "1",
            "--scenario",
            "peer_shaped",
            "--duration",
            "4",
            "--warmup",
            "1",
            "--buyers",
            "40",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert "| relayed/s |" in finished.stdout and "median B/A" in finished.stdout
    summary = json.loads(output.read_text())
    assert [(r["side"], r["ok"]) for r in summary["runs"]] == [("A", True), ("B", True)]
    rate = summary["comparison"]["peer_shaped"]["relayed_per_s"]
    assert rate["median_ratio"] == pytest.approx(rate["b"][0] / rate["a"][0], rel=0.01)
    for side in summary["runs"]:
        scenario = side["results"]["peer_shaped"]
        assert scenario["relayed_per_s"] > 0 and scenario["lost"] == 0
        assert side["results"]["meta"]["app_root"].startswith(str(ROOT / "var" / "bench-ab"))
    assert output.with_suffix(".md").read_text().startswith("A = HEAD~1")
