"""Triggers beyond sync requests: webhook events, per-connection cadence, failure notifications."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import dagster as dg
from sqlalchemy import text

from core_api.db import tenant_session
from pipelines.factory import due_connections
from pipelines.notifications import notify_failure
from pipelines.resources import FirmsyncDatabase
from pipelines.schedules import SCHEDULES
from pipelines.sensors import webhook_inbox
from tests.pipelines.conftest import make_target


def _inbox_event(target, event_id: str) -> None:
    with tenant_session(target.tenant) as session:
        session.execute(
            text(
                "insert into app.webhook_inbox (id, firm_id, connection_id, provider, event_id, payload) "
                "values (gen_random_uuid(), :f, :c, 'quickbooks', :e, '{}')"
            ),
            {"f": target.tenant.firm_id, "c": target.connection_id, "e": event_id},
        )


def test_webhook_events_launch_one_incremental_sync_per_connection(database_url, sandbox, instance):
    a, b = make_target(sandbox, customers=1), make_target(sandbox, customers=1)
    for i in range(3):
        _inbox_event(a, f"a-{i}")
    _inbox_event(b, "b-0")
    context = dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()})
    result = webhook_inbox(context)
    mine = {r.partition_key: r for r in result.run_requests if r.partition_key in (a.key, b.key)}
    assert set(mine) == {a.key, b.key}  # three events of one connection → one run
    assert all(
        r.job_name == "quickbooks_sync_job" and r.tags["firmsync/trigger"] == "webhook" for r in mine.values()
    )
    later = webhook_inbox(
        dg.build_sensor_context(instance=instance, cursor=result.cursor, resources={"db": FirmsyncDatabase()})
    )
    assert not [r for r in getattr(later, "run_requests", []) or [] if r.partition_key in (a.key, b.key)]


def test_the_schedule_sweeps_only_connections_due_by_their_own_cadence(database_url, sandbox, instance):
    fresh, stale, never = (make_target(sandbox, customers=1) for _ in range(3))
    now = datetime.now(UTC)
    with tenant_session(fresh.tenant) as session:
        session.execute(
            text("update app.connections set last_sync_at = :t, sync_interval_minutes = 60 where id = :c"),
            {"t": now - timedelta(minutes=10), "c": fresh.connection_id},
        )
    with tenant_session(stale.tenant) as session:
        session.execute(
            text("update app.connections set last_sync_at = :t, sync_interval_minutes = 15 where id = :c"),
            {"t": now - timedelta(minutes=20), "c": stale.connection_id},
        )
    due = set(due_connections(FirmsyncDatabase(), "quickbooks"))
    assert stale.key in due and never.key in due and fresh.key not in due

    schedule = SCHEDULES[0]
    context = dg.build_schedule_context(
        instance=instance, resources={"db": FirmsyncDatabase()}, scheduled_execution_time=now
    )
    requests = list(schedule.evaluate_tick(context).run_requests or [])
    swept = {
        cid for r in requests for cid in r.run_config["ops"]["quickbooks_sweep"]["config"]["connection_ids"]
    }
    assert stale.key in swept and never.key in swept and fresh.key not in swept


def test_a_failed_run_is_recorded_and_queued_for_the_firms_slack(database_url, sandbox):
    target = make_target(sandbox, customers=1)
    db = FirmsyncDatabase()
    assert (
        notify_failure(
            db,
            partition_key=target.key,
            request_id=None,
            job_name="quickbooks_sync_job",
            run_id="0123456789ab",
            message="boom",
        )
        is False
    )  # no Slack connection: recorded only
    with tenant_session(target.tenant) as session:
        assert session.execute(
            text("select last_sync_status, last_sync_error from app.connections where id = :c"),
            {"c": target.connection_id},
        ).one() == ("failed", "boom")
        session.execute(
            text(
                "insert into app.connections (id, firm_id, provider, account_id, display_name, config) "
                "values (gen_random_uuid(), :f, 'slack', 'T123', 'Slack', '{}')"
            ),
            {"f": target.tenant.firm_id},
        )
    assert (
        notify_failure(
            db,
            partition_key=target.key,
            request_id=None,
            job_name="quickbooks_sync_job",
            run_id="0123456789ab",
            message="boom again",
        )
        is True
    )
    with tenant_session(target.tenant) as session:
        payload = session.execute(
            text("select payload from app.outbox where entity = 'notification' and entity_id = :c"),
            {"c": target.connection_id},
        ).scalar()
    assert payload["provider"] == "slack" and "boom again" in payload["text"]
