"""The Prometheus alert rules pass promtool's checks and their unit tests (every alert fires on a bad series,
not on a healthy one); a broken rule file and a rule that no longer fires are both caught (ADR 0019).
promtool comes from Debian's `prometheus` package (`make promtool`)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

OBSERVABILITY = Path(__file__).resolve().parents[2] / "deploy" / "observability"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"

if not Path(PROMTOOL).exists():  # pragma: no cover - `make test` installs it first
    pytest.fail("promtool is missing: run `make promtool`", pytrace=False)


def _promtool(*args: str, cwd: Path = OBSERVABILITY) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_rules_pass_promtool_check():
    result = _promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 8 rules found" in result.stdout


def test_every_alert_fires_in_the_unit_tests_and_healthy_series_do_not():
    result = _promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    tested = (OBSERVABILITY / "alerts.test.yml").read_text()
    rules = (OBSERVABILITY / "alerts.yml").read_text()
    alerts = [
        line.split(":", 1)[1].strip() for line in rules.splitlines() if line.strip().startswith("- alert:")
    ]
    for alert in alerts:  # each alert has a test where it fires (exp_labels) and one where it does not
        blocks = tested.split(f"alertname: {alert}\n")[1:]
        assert any("exp_labels" in b.split("alertname:")[0] for b in blocks), f"{alert} never fires"
        assert any(b.lstrip().startswith("exp_alerts: []") for b in blocks), f"{alert} has no quiet case"


def test_a_broken_rule_file_is_rejected(tmp_path):
    broken = (
        (OBSERVABILITY / "alerts.yml")
        .read_text()
        .replace(
            "max by (vendor, stream) (firmsync_sync_lag_seconds)",
            "max by (vendor, stream (firmsync_sync_lag_seconds)",
        )
    )
    (tmp_path / "alerts.yml").write_text(broken)
    result = _promtool("check", "rules", "alerts.yml", cwd=tmp_path)
    assert result.returncode != 0 and "FAILED" in result.stdout + result.stderr


def test_a_rule_that_stopped_firing_fails_its_unit_test(tmp_path):
    weakened = (
        (OBSERVABILITY / "alerts.yml")
        .read_text()
        .replace("(firmsync_sync_lag_seconds) > 3 * 3600", "(firmsync_sync_lag_seconds) > 30 * 3600")
    )
    assert weakened != (OBSERVABILITY / "alerts.yml").read_text()
    (tmp_path / "alerts.yml").write_text(weakened)
    shutil.copy(OBSERVABILITY / "alerts.test.yml", tmp_path / "alerts.test.yml")
    result = _promtool("test", "rules", "alerts.test.yml", cwd=tmp_path)
    assert result.returncode != 0 and "FirmsyncSyncStale" in result.stdout + result.stderr


def test_every_dashboard_query_is_valid_promql(tmp_path):
    """promtool parses each Grafana panel query (as a recording rule); a broken one is caught."""
    import json

    dashboard = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    assert len(exprs) >= 10

    def check(queries: list[str]) -> subprocess.CompletedProcess:
        rules = [{"record": f"firmsync:panel_{i}", "expr": q} for i, q in enumerate(queries)]
        (tmp_path / "panels.yml").write_text(json.dumps({"groups": [{"name": "panels", "rules": rules}]}))
        return _promtool("check", "rules", "panels.yml", cwd=tmp_path)

    good = check(exprs)
    assert good.returncode == 0, good.stdout + good.stderr
    assert check([*exprs, "sum by (vendor (firmsync_sync_runs_total)"]).returncode != 0
