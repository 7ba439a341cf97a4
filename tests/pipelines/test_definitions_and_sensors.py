from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg
from sqlalchemy import text

from core_api.connections.repository import ConnectionRepository
from core_api.db import tenant_session
from core_api.models import Connection
from pipelines.assets.quickbooks import FULL_REFRESH_TAG, REQUEST_TAG
from pipelines.definitions import defs
from pipelines.partitions import google_calendar_connections, quickbooks_connections, xero_connections
from pipelines.resources import FirmsyncDatabase
from pipelines.sensors import connection_partitions, sync_requests
from tests.pipelines.conftest import make_target


def test_definitions_load_and_every_job_resolves():
    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {"quickbooks_sync_job", "quickbooks_sweep_job", "reprocess_dead_letters"} <= jobs
    repo = defs.get_repository_def()
    assert {s.name for s in repo.sensor_defs} == {
        "connection_partitions",
        "sync_requests",
        "webhook_inbox",
        "sync_failures",
        "outbox_push",
        "calendar_push",
        "push_failures",
        "crm_outbox_push",
        "slack_notifications",
    }
    assert {
        "quickbooks_push_outbox",
        "xero_push_outbox",
        "google_calendar_push_calendar",
        "salesforce_push_outbox",
        "slack_notify",
        "prune_sync_runs",
    } <= jobs
    # A run is one process: its steps share it (ADR 0010).
    assert all(
        job.executor_def.name == "in_process" for job in defs.resolve_all_job_defs() if job.name in jobs
    )
    assert {s.name for s in repo.schedule_defs} == {
        "quickbooks_sweep",
        "xero_sweep",
        "google_calendar_sweep",
        "active_directory_sweep",
        "active_directory_full_refresh",
        "microsoft_calendar_sweep",
        "salesforce_sweep",
        "stripe_sweep",
        "prune_sync_runs_daily",
    }
    spec = defs.get_assets_def(dg.AssetKey(["quickbooks", "customers"]))
    assert spec.partitions_def == quickbooks_connections
    assert spec.op.pool == "quickbooks"
    assert spec.op.retry_policy is not None


def test_google_calendar_is_declared_with_an_opaque_cursor():
    assert {"google_calendar_sync_job", "google_calendar_sweep_job"} <= {
        job.name for job in defs.resolve_all_job_defs()
    }
    sync = defs.get_assets_def(dg.AssetKey(["google_calendar", "events"]))
    assert sync.partitions_def == google_calendar_connections and sync.op.pool == "google_calendar"
    merge = defs.get_assets_def(dg.AssetKey(["app", "calendar_events_from_google"]))
    assert set(merge.asset_deps[merge.key]) == {dg.AssetKey(["google_calendar", "events"])}
    checks = [
        check
        for check in defs.asset_checks or []
        for spec in check.check_specs
        if spec.asset_key == dg.AssetKey(["google_calendar", "events"])
    ]
    assert checks  # integrity checks, cursor_monotonic among them
    assert "google_calendar" in (defs.resources or {})


def test_xero_is_declared_like_quickbooks():
    assert {"xero_sync_job", "xero_sweep_job"} <= {job.name for job in defs.resolve_all_job_defs()}
    streams = ["contacts", "invoices", "payments", "credit_notes", "items", "accounts"]
    sync = defs.get_assets_def(dg.AssetKey(["xero", "contacts"]))
    assert {key.path[1] for key in sync.keys} == set(streams)
    assert sync.partitions_def == xero_connections and sync.op.pool == "xero"
    assert all(sync.specs_by_key[dg.AssetKey(["xero", s])].group_name == "xero" for s in streams)
    assert {"xero", "postgres"} <= set(sync.specs_by_key[dg.AssetKey(["xero", "invoices"])].kinds)
    merge = defs.get_assets_def(dg.AssetKey(["app", "clients_from_xero"]))
    assert merge.partitions_def == xero_connections
    assert set(merge.asset_deps[merge.key]) == {
        dg.AssetKey(["xero", "contacts"]),
        dg.AssetKey(["xero", "invoices"]),
    }
    # Count checks where Xero says the size in one call (paged collections), integrity checks everywhere.
    counted = {
        spec.asset_key.path[1]
        for check in defs.asset_checks or []
        for spec in check.check_specs
        if spec.name == "row_count_matches_source" and spec.asset_key.path[0] == "xero"
    }
    assert counted == {"contacts", "invoices", "payments", "credit_notes"}


def _request_sync(target, *, full_refresh=False):
    with tenant_session(target.tenant) as session:
        repo = ConnectionRepository(session, target.tenant)
        return repo.request_sync(
            repo.get(target.connection_id), requested_by=None, full_refresh=full_refresh
        ).id


def test_sync_requests_sensor_turns_each_request_into_exactly_one_run(database_url, sandbox, instance):
    target = make_target(sandbox, customers=3)
    first = _request_sync(target)
    second = _request_sync(target, full_refresh=True)
    context = dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()})
    result = sync_requests(context)
    mine = [r for r in result.run_requests if r.partition_key == target.key]
    assert [r.run_key for r in mine] == [str(first), str(second)]
    assert mine[1].tags[FULL_REFRESH_TAG] == "true" and mine[0].tags[REQUEST_TAG] == str(first)
    assert all(r.job_name == "quickbooks_sync_job" for r in mine)
    # The new connection's partition is added in the same result.
    added = {k for req in result.dynamic_partitions_requests for k in req.partition_keys}
    assert target.key in added

    # With the cursor advanced, the same requests are not emitted again.
    later = dg.build_sensor_context(
        instance=instance, cursor=result.cursor, resources={"db": FirmsyncDatabase()}
    )
    again = sync_requests(later)
    emitted = getattr(again, "run_requests", None) or []
    assert not [r for r in emitted if r.partition_key == target.key]


def test_requests_for_deleted_connections_fail_instead_of_running(database_url, sandbox, instance):
    target = make_target(sandbox, customers=1)
    request_id = _request_sync(target)
    with tenant_session(target.tenant) as session:
        session.execute(
            text("update app.connections set deleted_at = now() where id = :c"), {"c": target.connection_id}
        )
    result = sync_requests(dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()}))
    emitted = getattr(result, "run_requests", None) or []
    assert str(request_id) not in {r.run_key for r in emitted}
    with tenant_session(target.tenant) as session:
        status = session.execute(
            text("select status from app.sync_requests where id = :r"), {"r": request_id}
        ).scalar()
    assert status == "failed"


def test_partition_sensor_adds_new_and_removes_deleted_connections(database_url, sandbox, instance):
    keep, drop = make_target(sandbox, customers=1), make_target(sandbox, customers=1)
    instance.add_dynamic_partitions(
        quickbooks_connections.name, [drop.key, "00000000-0000-0000-0000-000000000000"]
    )
    with tenant_session(drop.tenant) as session:
        session.get(Connection, drop.connection_id).deleted_at = datetime.now(UTC)
    result = connection_partitions(
        dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()})
    )
    added = {
        k
        for r in result.dynamic_partitions_requests
        if isinstance(r, dg.AddDynamicPartitionsRequest)
        for k in r.partition_keys
    }
    removed = {
        k
        for r in result.dynamic_partitions_requests
        if isinstance(r, dg.DeleteDynamicPartitionsRequest)
        for k in r.partition_keys
    }
    assert keep.key in added
    assert {drop.key, "00000000-0000-0000-0000-000000000000"} <= removed


def test_every_vendor_shows_its_streams_with_lineage_into_app_tables():
    """The operators' asset graph: each synced vendor's warehouse streams are assets of its group, tagged with
    its kinds, and each leads (through the merges) into at least one `app/*` asset."""
    from pipelines.jobs import VENDORS

    graph = defs.resolve_asset_graph()
    all_keys = set(graph.get_all_asset_keys())
    for vendor_defs in VENDORS:
        vendor = vendor_defs.vendor
        streams = {stream.asset_key for stream in vendor.streams}
        assert streams <= all_keys, vendor.provider
        for key in streams:
            node = graph.get(key)
            assert node.group_name == vendor.group
            assert node.partitions_def == vendor.partitions
        downstream = set()
        frontier = set(streams)
        while frontier:
            key = frontier.pop()
            children = set(graph.get(key).child_keys) - downstream
            downstream |= children
            frontier |= children
        app_assets = {key for key in downstream if key.path[0] == "app"}
        assert app_assets, f"{vendor.provider}: no lineage into an app table"
        # Every merge reads only synced assets (its own vendor's streams or other merges).
        for spec in vendor.canonical:
            assert set(graph.get(spec.asset_key).parent_keys) <= all_keys
