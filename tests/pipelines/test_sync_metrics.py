"""A sync's run is recorded (outcome, vendor calls, 429s, retries, rows per stream) and /metrics reports it
per vendor and stream; the dashboard and alert rules only query metrics the code exports (ADR 0019)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import dagster as dg
import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from core_api.db import tenant_session
from pipelines.assets.quickbooks import CUSTOMERS, quickbooks

OBSERVABILITY = Path(__file__).resolve().parents[2] / "deploy" / "observability"


def _materialize(target, instance, resources):
    return dg.materialize(
        quickbooks.assets,
        partition_key=target.key,
        instance=instance,
        resources=resources,
        raise_on_error=False,
    )


def _runs(target) -> list:
    with tenant_session(target.tenant) as session:
        return session.execute(
            text("select * from app.sync_runs where connection_id = :c order by finished_at"),
            {"c": target.connection_id},
        ).all()


def _scrape(settings) -> dict[str, list]:
    from core_api.app import create_app

    with TestClient(create_app(settings)) as client:
        client.get("/healthz")
        body = client.get("/metrics").text
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def _value(samples, name: str, **labels) -> float:
    found = [s.value for s in samples.get(name, []) if all(s.labels.get(k) == v for k, v in labels.items())]
    assert len(found) == 1, (name, labels, samples.get(name))
    return found[0]


@pytest.fixture
def throttled_sync(target, instance, resources, sandbox):
    """The target synced once while QuickBooks answered its first two queries with 429."""
    httpx.post(
        f"{sandbox.quickbooks}/_sandbox/faults",
        json={
            "realm": target.realm["realm_id"],
            "path_contains": "/query",
            "kind": "429",
            "times": 2,
            "retry_after": 0,
        },
    ).raise_for_status()
    result = _materialize(target, instance, resources)
    assert result.success
    return result


def test_a_sync_records_its_vendor_calls_429s_retries_and_rows(target, throttled_sync):
    event = next(e for e in throttled_sync.get_asset_materialization_events() if e.asset_key == CUSTOMERS)
    meta = {k: v.value for k, v in event.materialization.metadata.items()}
    assert (meta["throttled"], meta["retries"]) == (2, 2)
    assert meta["api_calls"] >= 3  # two refused attempts, then the queries that answered

    (run,) = _runs(target)
    assert run.status == "succeeded" and run.provider == "quickbooks" and run.error is None
    assert (run.api_calls, run.throttled, run.retries) == (meta["api_calls"], 2, 2)
    assert run.streams["customers"]["inserted"] == 40 and run.streams["customers"]["deleted"] == 0
    assert run.seconds > 0 and run.finished_at >= run.started_at


def test_a_failed_sync_is_recorded_failed(target, instance, resources, sandbox):
    httpx.post(f"{sandbox.quickbooks}/_sandbox/realms/{target.realm['realm_id']}/revoke").raise_for_status()
    assert not _materialize(target, instance, resources).success
    (run,) = _runs(target)
    assert run.status == "failed" and run.error.startswith("AuthError") and run.streams == {}


def test_metrics_report_syncs_per_vendor_and_stream_without_firm_labels(target, throttled_sync, settings):
    samples = _scrape(settings)
    assert _value(samples, "firmsync_sync_metrics_up") == 1
    assert _value(samples, "firmsync_sync_runs_total", vendor="quickbooks", status="succeeded") >= 1
    inserted = {"vendor": "quickbooks", "stream": "customers", "operation": "inserted"}
    assert _value(samples, "firmsync_sync_records_total", **inserted) >= 40
    assert _value(samples, "firmsync_sync_throttled_total", vendor="quickbooks") >= 2
    assert _value(samples, "firmsync_sync_retries_total", vendor="quickbooks") >= 2
    assert _value(samples, "firmsync_sync_api_calls_total", vendor="quickbooks") >= 3
    assert _value(samples, "firmsync_sync_run_duration_seconds_count", vendor="quickbooks") >= 1
    assert 0 <= _value(samples, "firmsync_sync_lag_seconds", vendor="quickbooks", stream="customers") < 600
    assert _value(samples, "firmsync_sync_requests", status="pending") >= 0
    assert _value(samples, "firmsync_db_pool_size", engine="owner") == 10
    assert _value(samples, "firmsync_http_requests_in_flight") >= 0
    assert _value(
        samples, "firmsync_http_request_duration_seconds_count", method="GET", route="/healthz", status="200"
    )
    # Bounded labels: no firm or connection id appears anywhere in the exposition.
    values = {v for family in samples.values() for s in family for v in s.labels.values()}
    assert str(target.tenant.firm_id) not in values and str(target.connection_id) not in values


def _queried_metrics() -> dict[str, set[str]]:
    """Every firmsync_* series the alert rules and the dashboard query, by file."""
    pattern = re.compile(r"\bfirmsync_[a-z0-9_]+")
    rules = (OBSERVABILITY / "alerts.yml").read_text()
    dashboard = json.loads((OBSERVABILITY / "grafana-dashboard.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    return {
        "alerts.yml": set(pattern.findall(rules)),
        "grafana-dashboard.json": set(pattern.findall(" ".join(exprs))),
    }


def test_dashboard_and_alerts_query_only_exported_metrics(target, throttled_sync, settings):
    exported = set(_scrape(settings))
    queried = _queried_metrics()
    assert all(queried.values()), queried  # the files do query something
    for name, metrics in queried.items():
        assert metrics <= exported, f"{name} queries metrics /metrics does not export: {metrics - exported}"


def _totals(conn) -> tuple[list, list, list]:
    return (
        conn.execute(text("select * from app.sync_run_totals order by 1, 2")).all(),
        conn.execute(text("select * from app.sync_record_totals order by 1, 2")).all(),
        conn.execute(text("select * from app.sync_stream_successes order by 1, 2")).all(),
    )


def test_counters_are_running_totals_that_pruning_old_runs_does_not_lower(
    target, throttled_sync, settings, owner_engine
):
    from pipelines.maintenance import prune_sync_runs
    from pipelines.resources import FirmsyncDatabase

    # The trigger's totals are exactly what summing every recorded run gives (migration 0020's rebuild).
    with owner_engine.begin() as conn:
        kept_by_trigger = _totals(conn)
        conn.execute(text("select app.sync_totals_rebuild()"))
        assert _totals(conn) == kept_by_trigger

    before = _scrape(settings)
    succeeded = {"vendor": "quickbooks", "status": "succeeded"}
    inserted = {"vendor": "quickbooks", "stream": "customers", "operation": "inserted"}

    assert prune_sync_runs(FirmsyncDatabase(), days=1) == 0  # everything here is minutes old
    assert len(_runs(target)) == 1
    assert prune_sync_runs(FirmsyncDatabase(), days=0, batch=1) >= 1  # one row per transaction
    assert _runs(target) == []

    after = _scrape(settings)
    for name, labels in (
        ("firmsync_sync_runs_total", succeeded),
        ("firmsync_sync_records_total", inserted),
        ("firmsync_sync_throttled_total", {"vendor": "quickbooks"}),
        ("firmsync_sync_run_duration_seconds_count", {"vendor": "quickbooks"}),
    ):
        assert _value(after, name, **labels) == _value(before, name, **labels) > 0, name
    assert _value(after, "firmsync_sync_lag_seconds", vendor="quickbooks", stream="customers") < 600


def test_the_api_role_cannot_read_or_write_the_cross_tenant_totals(target, throttled_sync, app_connection):
    from sqlalchemy.exc import ProgrammingError

    for table in ("sync_run_totals", "sync_record_totals", "sync_stream_successes"):
        with pytest.raises(ProgrammingError, match="permission denied"), app_connection.begin_nested():
            app_connection.execute(text(f"select count(*) from app.{table}"))
