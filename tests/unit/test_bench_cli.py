"""`python -m bench <name>` prints exactly one JSON line of figures on stdout (behaviour, never timing).

Each bench starts what it needs (a scratch database: BENCH_DATABASE_URL's server, else an embedded one;
the sandbox on a free port) and removes it again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

LOAD_KEYS = {
    "rows",
    "loader_insert_rows_per_s",
    "loader_update_rows_per_s",
    "raw_insert_rows_per_s",
    "raw_update_rows_per_s",
    "executemany_insert_rows_per_s",
    "executemany_update_rows_per_s",
    "ratio_insert",
    "ratio_update",
    "loader_peak_mib_per_page",
    "peak_rss_mib",
}
INCREMENTAL_KEYS = {
    "full_seconds",
    "full_api_calls",
    "incremental_seconds",
    "incremental_api_calls",
    "incremental_share_of_full",
    "changed_records",
    "pages_changed_records_fill",
    "api_calls_target",
    "api_calls_target_met",
    "share_target_met",
    "rate_limit_per_minute",
}


def bench(*args: str) -> dict:
    env = dict(os.environ)
    if env.get("TEST_DATABASE_URL") and not env.get("BENCH_DATABASE_URL"):
        env["BENCH_DATABASE_URL"] = env["TEST_DATABASE_URL"]  # the bench makes and drops its own database
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert len(lines) == 1, done.stdout
    figures = json.loads(lines[0])
    assert figures["bench"] == args[0]
    return figures


def test_load_prints_one_line_of_loader_figures() -> None:
    figures = bench("load", "--rows", "2000")
    assert not LOAD_KEYS - figures.keys()
    assert figures["rows"] == 2000
    assert all(figures[k] > 0 for k in LOAD_KEYS)


def test_incremental_loads_every_change_through_the_connector() -> None:
    figures = bench("incremental", "--records", "300", "--changed", "0.05")
    assert not INCREMENTAL_KEYS - figures.keys()
    assert figures["changed_records"] == 15
    assert figures["warehouse_rows"] == 300
    assert figures["changed_rows_loaded"] == 15
    assert figures["pages_changed_records_fill"] == 1
    assert figures["api_calls_target"] == 2
    assert figures["full_api_calls"] >= 1 and figures["incremental_api_calls"] >= 1


def test_incremental_for_xero_reads_only_the_changes_under_a_time_scaled_limit() -> None:
    figures = bench("incremental", "--vendor", "xero", "--records", "300", "--changed", "0.05")
    assert not INCREMENTAL_KEYS - figures.keys() - {"rate_limit_per_minute"}
    assert figures["vendor"] == "xero" and figures["time_scale"] == 60
    assert figures["warehouse_rows"] == 300 and figures["full_rows_inserted"] == 300
    assert figures["changed_records"] == figures["changed_rows_loaded"] == 15
    assert figures["incremental_api_calls"] <= figures["api_calls_target"] == 2


@pytest.mark.parametrize("args", [["nope"], ["load", "--rows", "x"]])
def test_bad_arguments_fail_without_figures(args: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bench", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stdout == ""
