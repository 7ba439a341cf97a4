"""The generic engine, through factory-built assets: dead letters, re-processing, cursor expiry, sweeps."""

from __future__ import annotations

import dataclasses

import dagster as dg
import httpx
from sqlalchemy import text

from connectors.base import CursorExpiredError
from core_api.db import tenant_session
from pipelines.assets.quickbooks import QUICKBOOKS, quickbooks
from pipelines.factory import build_vendor_definitions
from pipelines.resources import FirmsyncDatabase, QuickBooksApi
from pipelines.sync_engine import reprocess_dead_letters
from tests.pipelines.conftest import make_target

RESOURCES = {
    "db": FirmsyncDatabase(),
    "quickbooks": QuickBooksApi(timeout_seconds=5, max_attempts=3, page_size=25),
}


def _vendor_with(**stream_changes):
    stream = dataclasses.replace(QUICKBOOKS.streams[0], **stream_changes)
    # The per-stream path (the replaced `pages`), not the vendor's one-call read of every stream.
    return dataclasses.replace(QUICKBOOKS, streams=(stream,), read_changes=None)


def _scalar(target, sql, **params):
    with tenant_session(target.tenant) as session:
        return session.execute(text(sql), {"c": target.connection_id, **params}).scalar()


def test_a_record_that_fails_mapping_is_dead_lettered_and_the_rest_loads(target, instance):
    broken_ids: set[str] = set()
    original = QUICKBOOKS.streams[0].map_record

    def flaky_mapping(payload):
        if payload["Id"] in broken_ids or int(payload["Id"]) % 10 == 3:
            broken_ids.add(payload["Id"])
            raise ValueError("unsupported currency")
        return original(payload)

    vendor = _vendor_with(map_record=flaky_mapping)
    assets = build_vendor_definitions(vendor).assets
    assert dg.materialize(assets, partition_key=target.key, instance=instance, resources=RESOURCES).success
    loaded = _scalar(target, "select count(*) from warehouse.quickbooks_customers where connection_id = :c")
    letters = _scalar(
        target, "select count(*) from app.dead_letters where connection_id = :c and status = 'open'"
    )
    assert letters == len(broken_ids) > 0 and loaded == 40 - len(broken_ids)
    sample = _scalar(
        target, "select payload->>'Id' || ' ' || error from app.dead_letters where connection_id = :c limit 1"
    )
    assert "unsupported currency" in sample

    # After the fix (the real mapping), the re-processing job resolves every letter and loads the rows.
    counts = reprocess_dead_letters(FirmsyncDatabase(), QUICKBOOKS, target.connection_id)
    assert counts == {"resolved": len(broken_ids), "still_failing": 0}
    assert (
        _scalar(target, "select count(*) from warehouse.quickbooks_customers where connection_id = :c") == 40
    )
    assert (
        _scalar(target, "select count(*) from app.dead_letters where status = 'open' and connection_id = :c")
        == 0
    )


def test_an_expired_cursor_falls_back_to_a_full_refresh_with_soft_deletes(target, instance, sandbox):
    assert dg.materialize(
        quickbooks.assets, partition_key=target.key, instance=instance, resources=RESOURCES
    ).success
    # A row the source no longer has (merged away at the vendor, say) must be soft-deleted by a full refresh.
    with tenant_session(target.tenant) as session:
        session.execute(
            text(
                "insert into warehouse.quickbooks_customers "
                "(firm_id, connection_id, external_id, active, raw, synced_at) "
                "values (:f, :c, 'ghost', true, '{}', now() - interval '1 day')"
            ),
            {"f": target.tenant.firm_id, "c": target.connection_id},
        )
    real_pages = QUICKBOOKS.streams[0].pages

    def pages_refusing_cursors(client, cursor, page_size):
        if cursor is not None:
            raise CursorExpiredError("quickbooks", "cursor older than the change window")
        return real_pages(client, cursor, page_size)

    vendor = _vendor_with(pages=pages_refusing_cursors)
    result = dg.materialize(
        build_vendor_definitions(vendor).assets,
        partition_key=target.key,
        instance=instance,
        resources=RESOURCES,
    )
    assert result.success
    meta = next(e for e in result.get_asset_materialization_events()).materialization.metadata
    assert meta["fell_back_to_full_refresh"].value is True and meta["rows_marked_deleted"].value == 1
    assert (
        _scalar(
            target,
            "select deleted_at is not null from warehouse.quickbooks_customers "
            "where connection_id = :c and external_id = 'ghost'",
        )
        is True
    )


def test_the_sweep_syncs_many_connections_in_one_run_and_reports_each(database_url, sandbox, instance):
    targets = [make_target(sandbox, customers=5 + i, seed=i) for i in range(4)]
    httpx.post(
        f"{sandbox.quickbooks}/_sandbox/realms/{targets[2].realm['realm_id']}/revoke"
    ).raise_for_status()
    job = quickbooks.sweep_job
    result = job.execute_in_process(
        instance=instance,
        resources=RESOURCES,
        run_config={
            "ops": {
                "quickbooks_sweep": {
                    "config": {"connection_ids": [t.key for t in targets], "max_concurrency": 2}
                }
            }
        },
        raise_on_error=False,
    )
    assert not result.success  # one connection was revoked: the run says so…
    materialized = {
        e.materialization.partition
        for e in result.all_events
        if e.event_type_value == "ASSET_MATERIALIZATION"
        and e.materialization.asset_key == quickbooks.vendor.streams[0].asset_key
    }
    # …while every other connection was synced and reported in the same run.
    assert materialized == {t.key for i, t in enumerate(targets) if i != 2}
    for i, target in enumerate(targets):
        status = _scalar(
            target, "select status || '/' || last_sync_status from app.connections where id = :c"
        )
        assert status == ("needs_reauth/failed" if i == 2 else "active/succeeded")
        if i != 2:
            assert _scalar(target, "select count(*) from app.clients") == 5 + i


def test_a_time_range_backfill_reloads_that_range_and_leaves_the_cursor_alone(target, instance):
    assert dg.materialize(
        quickbooks.assets, partition_key=target.key, instance=instance, resources=RESOURCES
    ).success
    cursor_sql = "select cursor from app.sync_state where connection_id = :c and stream = 'customers'"
    cursor = _scalar(target, cursor_sql)
    with tenant_session(target.tenant) as session:
        times = (
            session.execute(
                text(
                    "select updated_at from warehouse.quickbooks_customers "
                    "where connection_id = :c order by 1"
                ),
                {"c": target.connection_id},
            )
            .scalars()
            .all()
        )
        session.execute(
            text("delete from warehouse.quickbooks_customers where connection_id = :c"),
            {"c": target.connection_id},
        )
    start, end = times[10], times[30]
    expected = sum(1 for t in times if start <= t < end)
    result = dg.materialize(
        quickbooks.assets,
        partition_key=target.key,
        instance=instance,
        resources=RESOURCES,
        run_config={
            "ops": {"quickbooks_sync": {"config": {"start": start.isoformat(), "end": end.isoformat()}}}
        },
    )
    assert result.success
    assert (
        _scalar(target, "select count(*) from warehouse.quickbooks_customers where connection_id = :c")
        == expected
    )
    assert _scalar(target, cursor_sql) == cursor


def _sweep(instance, targets, **config):
    return quickbooks.sweep_job.execute_in_process(
        instance=instance,
        resources=RESOURCES,
        run_config={
            "ops": {
                "quickbooks_sweep": {
                    "config": {"connection_ids": [t.key for t in targets], "max_concurrency": 2, **config}
                }
            }
        },
        raise_on_error=False,
    )


def _materialized(result) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for e in result.all_events:
        if e.event_type_value == "ASSET_MATERIALIZATION":
            m = e.materialization
            out.setdefault(m.asset_key.to_user_string(), set()).add(m.partition)
    return out


def _merge_marks(target) -> dict[str, str]:
    with tenant_session(target.tenant) as session:
        rows = session.execute(
            text(
                "select stream, cursor from app.sync_state where connection_id = :c and stream like 'merge:%'"
            ),
            {"c": target.connection_id},
        )
        return dict(rows.all())


def test_a_repeat_sweep_reports_and_merges_only_what_changed(database_url, sandbox, instance):
    targets = [make_target(sandbox, customers=4, seed=40 + i) for i in range(3)]
    first = _sweep(instance, targets)
    assert first.success
    assert _materialized(first)["quickbooks/customers"] == {t.key for t in targets}
    marks = {t.key: _merge_marks(t) for t in targets}
    assert all(len(m) == len(QUICKBOOKS.canonical) for m in marks.values())

    edited = targets[1]
    httpx.post(
        f"{sandbox.quickbooks}/_sandbox/realms/{edited.realm['realm_id']}/customers/touch",
        json={"count": 1, "seed": 5},
    ).raise_for_status()
    # A merge that failed after its rows were loaded leaves its old mark: due again although nothing changed.
    stale = targets[2]
    with tenant_session(stale.tenant) as session:
        session.execute(
            text(
                "update app.sync_state set cursor = '2000-01-01T00:00:00+00:00' "
                "where connection_id = :c and stream = 'merge:app/invoices_from_quickbooks'"
            ),
            {"c": stale.connection_id},
        )

    second = _sweep(instance, targets)
    assert second.success
    seen = _materialized(second)
    assert seen["quickbooks/customers"] == {edited.key}
    assert seen["app/clients_from_quickbooks"] == {edited.key}
    # A client's own fields changed, no link: the invoices merge is not due for it (nor payments after it);
    # it runs where its mark is stale, and changing nothing there, payments stay put.
    assert seen["app/invoices_from_quickbooks"] == {stale.key}
    assert "app/payments_from_quickbooks" not in seen
    # Streams nobody changed still get one materialization each: the asset was synced (freshness).
    for stream in QUICKBOOKS.streams[1:]:
        assert len(seen[stream.asset_key.to_user_string()]) == 1
    assert _merge_marks(targets[0]) == marks[targets[0].key]  # untouched: no merge ran
    assert (
        _merge_marks(edited)["merge:app/clients_from_quickbooks"]
        > marks[edited.key]["merge:app/clients_from_quickbooks"]
    )
    output = next(e for e in second.all_events if e.event_type_value == "STEP_OUTPUT")
    meta = {k: v.value for k, v in output.event_specific_data.metadata.items()}
    # edited: clients and contacts (its customers changed); stale: invoices.
    assert (meta["synced"], meta["changed"], meta["merges_run"], meta["check_failures"]) == (3, 1, 3, 0)
    for target in targets:
        assert _scalar(target, "select last_sync_status from app.connections where id = :c") == "succeeded"


def test_a_sweep_blocks_the_merge_of_a_connection_failing_an_integrity_check(database_url, sandbox, instance):
    from core_api.db import owner_engine

    targets = [make_target(sandbox, customers=3, seed=60 + i) for i in range(2)]
    assert _sweep(instance, targets).success
    bad = targets[0]
    other_firm = targets[1].tenant.firm_id
    with owner_engine().begin() as conn:  # the owner bypasses RLS: a row of the wrong firm
        conn.execute(
            text(
                "insert into warehouse.quickbooks_customers "
                "(firm_id, connection_id, external_id, active, raw, synced_at) "
                "values (:f, :c, 'intruder', true, '{}', now())"
            ),
            {"f": other_firm, "c": bad.connection_id},
        )
    result = _sweep(instance, targets)
    assert not result.success
    failed = [e for e in result.get_asset_check_evaluations() if not e.passed]
    assert [(e.check_name, e.partition) for e in failed] == [("firm_matches_connection", bad.key)]
    assert failed[0].metadata["rows_with_wrong_firm"].value == 1
    assert "firm_matches_connection" in _scalar(
        bad, "select last_sync_error from app.connections where id = :c"
    )
    # The intruder row made the clients merge due, but it was blocked: no client was merged from it.
    assert "app/clients_from_quickbooks" not in _materialized(result)
    assert _scalar(targets[1], "select last_sync_status from app.connections where id = :c") == "succeeded"
