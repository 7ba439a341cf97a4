"""`python -m bench tenants` runs end to end on a few tenants and prints one JSON line (keys, not times)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

TENANTS_KEYS = {
    "tenants",
    "sweep_seconds",
    "per_partition_mean_seconds",
    "per_partition_extrapolated_seconds",
    "extrapolated_from",
    "speedup",
    "sweep_peak_rss_mib",
    "per_partition_peak_rss_mib",
    "concurrency",
    "connections_failed",
    "targets_met",
}


def test_tenants_prints_one_line_with_sweep_and_per_partition_figures() -> None:
    env = dict(os.environ)
    if env.get("TEST_DATABASE_URL") and not env.get("BENCH_DATABASE_URL"):
        env["BENCH_DATABASE_URL"] = env["TEST_DATABASE_URL"]  # the bench makes and drops its own database
    done = subprocess.run(
        [sys.executable, "-m", "bench", "tenants", "--tenants", "3", "--per-partition-sample", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    figures = json.loads(lines[0])
    assert figures["bench"] == "tenants"
    assert not TENANTS_KEYS - figures.keys()
    assert figures["tenants"] == 3
    assert figures["extrapolated_from"] == 1
    assert figures["connections_failed"] == 0
    assert figures["deltas_missing"] == 0
    assert figures["sweep_connections"] == figures["sweep_materialized"] == 3
    assert figures["targets_met"] is False  # one sampled partition is not the measurement
