"""Asset checks on the synced QuickBooks customers: each passes on a correct sync and fails when the table
(or the source, or the cursor) is tampered with.

Tampering is done with the owner role, which bypasses row-level security. Checks are then evaluated on
their own (a run of the checks alone, tagged with the partition), so that no sync repairs the damage
first — except where a test shows what the full run does (the blocking firm check stops the app merge).
"""

from __future__ import annotations

import uuid
from datetime import timedelta

import dagster as dg
import httpx
import pytest
import sqlalchemy as sa
from dagster._core.event_api import PartitionKeyFilter
from sqlalchemy import text

from connectors.base import StreamCursor
from core_api.db import owner_engine
from core_api.models import QuickBooksCustomer
from pipelines.assets.quickbooks import APP_CLIENTS, CUSTOMERS, quickbooks
from pipelines.checks import (
    CURSOR_MONOTONIC,
    FIRM_MATCHES,
    ROW_COUNT,
    UNIQUE_KEYS,
    StreamChecks,
)
from pipelines.partitions import quickbooks_connections
from pipelines.resources import FirmsyncDatabase

ALL = {UNIQUE_KEYS, FIRM_MATCHES, CURSOR_MONOTONIC, ROW_COUNT}


quickbooks_checks = quickbooks.checks
quickbooks_stream_checks = quickbooks.stream_checks


def _sync(target, instance, resources, checks=quickbooks_checks, tags=None):
    """The sync job's shape: the vendor's assets with their checks, for one connection."""
    return dg.materialize(
        [*quickbooks.assets, *checks],
        partition_key=target.key,
        instance=instance,
        resources=resources,
        tags=tags,
        raise_on_error=False,
    )


def _checks_only(target, instance, resources, checks=quickbooks_checks):
    """Only the checks, for one partition (Dagster resolves a checks-only run's partition from its tag)."""
    job = dg.define_asset_job("checks_only", selection=dg.AssetSelection.checks_for_assets(CUSTOMERS))
    defs = dg.Definitions(assets=quickbooks.assets, asset_checks=checks, jobs=[job], resources=resources)
    return defs.resolve_job_def("checks_only").execute_in_process(
        instance=instance, tags={"dagster/partition": target.key}, raise_on_error=False
    )


def _evaluations(result, key=CUSTOMERS) -> dict[str, dg.AssetCheckEvaluation]:
    """The checks of one stream (the customers, unless told), by name."""
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.asset_key == key}


def _meta(evaluation: dg.AssetCheckEvaluation) -> dict:
    return {k: v.value for k, v in evaluation.metadata.items()}


def _owner(sql: str, **params):
    with owner_engine().begin() as conn:
        result = conn.execute(text(sql), params)
        return result.all() if result.returns_rows else None


def _earliest_customer(target) -> str:
    """A row an incremental sync will not re-read (the boundary re-read is the latest timestamp)."""
    return _owner(
        "select external_id from warehouse.quickbooks_customers where connection_id = :c "
        "order by updated_at, external_id limit 1",
        c=target.connection_id,
    )[0][0]


def test_every_check_passes_on_a_correct_sync_and_after_incremental_changes(
    target, instance, resources, sandbox
):
    result = _sync(target, instance, resources)
    assert result.success
    evaluations = _evaluations(result)
    assert set(evaluations) == ALL and all(e.passed for e in evaluations.values())
    # Every stream's checks (invoices, payments, credit memos, items, accounts too) pass as well.
    every = result.get_asset_check_evaluations()
    assert len(every) == 4 * 6 and all(e.passed for e in every), [e for e in every if not e.passed]
    assert all(e.partition == target.key for e in evaluations.values())
    count = _meta(evaluations[ROW_COUNT])
    assert count["source_count"] == count["warehouse_counted_rows"] == 40
    first_cursor = _meta(evaluations[CURSOR_MONOTONIC])["cursor"]
    assert first_cursor

    # Deactivations are QuickBooks' deletes: soft-deleted here, still counted by the source, still equal.
    httpx.post(
        f"{sandbox.quickbooks}/_sandbox/realms/{target.realm['realm_id']}/customers/touch",
        json={"count": 2, "deactivate": 3, "seed": 11},
    ).raise_for_status()
    again = _evaluations(_sync(target, instance, resources))
    assert all(e.passed for e in again.values()), {n: e.description for n, e in again.items()}
    assert _meta(again[ROW_COUNT])["warehouse_soft_deleted_rows"] >= 3
    cursor = _meta(again[CURSOR_MONOTONIC])
    assert cursor["previous_cursor"] == first_cursor and cursor["cursor"] > first_cursor


def test_an_extra_row_in_the_warehouse_fails_the_count(target, instance, resources):
    assert _sync(target, instance, resources).success
    _owner(
        "insert into warehouse.quickbooks_customers (firm_id, connection_id, external_id, active, raw) "
        "values (:f, :c, 'ghost-1', true, '{}')",
        f=target.tenant.firm_id,
        c=target.connection_id,
    )
    result = _checks_only(target, instance, resources)
    evaluations = _evaluations(result)
    assert not evaluations[ROW_COUNT].passed
    assert evaluations[ROW_COUNT].severity == dg.AssetCheckSeverity.ERROR
    assert _meta(evaluations[ROW_COUNT])["difference"] == -1
    assert all(evaluations[n].passed for n in (UNIQUE_KEYS, FIRM_MATCHES, CURSOR_MONOTONIC))
    assert result.success  # the count does not block: the run itself is fine


def test_customers_the_sync_cannot_see_fail_the_count_until_a_full_refresh(
    target, instance, resources, sandbox
):
    assert _sync(target, instance, resources).success
    # The sandbox's bulk seeding backdates LastUpdatedTime, so the change feed never shows these three:
    # exactly the kind of gap between source and warehouse the count exists to catch.
    httpx.post(
        f"{sandbox.quickbooks}/_sandbox/realms/{target.realm['realm_id']}/customers/bulk",
        json={"count": 3, "seed": 5},
    ).raise_for_status()
    count = _evaluations(_checks_only(target, instance, resources))[ROW_COUNT]
    assert not count.passed
    assert _meta(count)["source_count"] == 43 and _meta(count)["warehouse_counted_rows"] == 40
    assert not _evaluations(_sync(target, instance, resources))[ROW_COUNT].passed  # incremental: still 40
    full = _sync(target, instance, resources, tags={"firmsync/full_refresh": "true"})
    assert _evaluations(full)[ROW_COUNT].passed


def test_a_row_of_another_firm_fails_the_firm_check_and_blocks_the_app_merge(target, instance, resources):
    assert _sync(target, instance, resources).success
    other = uuid.uuid4()
    _owner(
        "insert into app.firms (id, name, slug) values (:f, 'Other LLP', :s)",
        f=other,
        s=f"o-{other.hex[:12]}",
    )
    _owner(
        "update warehouse.quickbooks_customers set firm_id = :f "
        "where connection_id = :c and external_id = :e",
        f=other,
        c=target.connection_id,
        e=_earliest_customer(target),
    )
    result = _sync(target, instance, resources)
    firm = _evaluations(result)[FIRM_MATCHES]
    assert not firm.passed and firm.blocking
    assert _meta(firm)["rows_with_wrong_firm"] == 1 and str(other) in _meta(firm)["wrong_firms"]
    assert not result.success  # a blocking ERROR fails the check step…
    merged = {e.asset_key for e in result.get_asset_materialization_events()}
    assert CUSTOMERS in merged and APP_CLIENTS not in merged  # …and the merge into app.clients never ran


def test_a_cursor_moved_backwards_or_lost_fails_and_a_sync_recovers(target, instance, resources):
    first = _evaluations(_sync(target, instance, resources))[CURSOR_MONOTONIC]
    synced = _meta(first)["cursor"]
    earlier = (StreamCursor.parse(synced).value - timedelta(days=1)).isoformat()
    state = "from app.sync_state where connection_id = :c and stream = 'customers'"
    _owner(
        f"update app.sync_state set cursor = :v {state.removeprefix('from app.sync_state')}",
        v=earlier,
        c=target.connection_id,
    )

    back = _evaluations(_checks_only(target, instance, resources))[CURSOR_MONOTONIC]
    assert not back.passed and "backwards" in back.description
    assert _meta(back)["previous_cursor"] == synced and _meta(back)["cursor"] == earlier

    # The next sync re-reads from the earlier cursor and ends at the latest change again: monotonic.
    assert _evaluations(_sync(target, instance, resources))[CURSOR_MONOTONIC].passed

    _owner(f"delete {state}", c=target.connection_id)
    lost = _evaluations(_checks_only(target, instance, resources))[CURSOR_MONOTONIC]
    assert not lost.passed and "vanished" in lost.description


@pytest.fixture
def doubled_view(database_url):
    """Duplicate keys cannot exist in the table (its primary key is the stream key), so uniqueness is shown
    failing on a view that doubles one customer of each connection, checked with the same factory."""
    name = f"customers_doubled_{uuid.uuid4().hex[:8]}"
    _owner(
        f"create view warehouse.{name} as select * from warehouse.quickbooks_customers "
        "union all (select distinct on (connection_id) * from warehouse.quickbooks_customers "
        "order by connection_id, external_id)"
    )
    columns = [sa.Column(c.name, c.type) for c in QuickBooksCustomer.__table__.columns]
    yield sa.Table(name, sa.MetaData(), *columns, schema="warehouse")
    _owner(f"drop view warehouse.{name}")


def test_duplicate_keys_fail_the_uniqueness_check(target, instance, resources, doubled_view):
    assert _sync(target, instance, resources).success
    on_view = StreamChecks(
        asset_key=CUSTOMERS,
        table=doubled_view,
        key_columns=("connection_id", "external_id"),
        partitions_def=quickbooks_connections,
        stream="customers",
    )
    result = _checks_only(target, instance, resources, checks=on_view.definitions)
    unique = _evaluations(result)[UNIQUE_KEYS]
    assert not unique.passed and unique.blocking
    assert _meta(unique)["duplicated_keys"] == 1
    assert not result.success  # blocking


def test_an_unreachable_source_is_a_warning_not_a_failed_run(target, instance, resources, sandbox):
    assert _sync(target, instance, resources).success
    httpx.post(f"{sandbox.quickbooks}/_sandbox/realms/{target.realm['realm_id']}/revoke").raise_for_status()
    result = _checks_only(target, instance, resources)
    count = _evaluations(result)[ROW_COUNT]
    assert not count.passed and count.severity == dg.AssetCheckSeverity.WARN
    assert "unavailable" in count.description
    assert result.success


def test_sweeps_get_the_same_checks_as_events_with_the_partition(target, instance, resources):
    assert _sync(target, instance, resources).success
    customers = next(c for c in quickbooks_stream_checks if c.asset_key == CUSTOMERS)

    @dg.op
    def sweep(context):
        # What a sweep op yields after syncing a connection (the sweep does not run asset checks itself).
        yield from customers.evaluate(
            context.instance, FirmsyncDatabase(), resources["quickbooks"], target.connection_id
        )
        yield dg.Output(None)

    result = (
        dg.GraphDefinition(name="sweep_like", node_defs=[sweep])
        .to_job()
        .execute_in_process(instance=instance)
    )
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert set(evaluations) == ALL
    assert all(e.passed and e.partition == target.key for e in evaluations.values())
    assert {n for n, e in evaluations.items() if e.blocking} == {UNIQUE_KEYS, FIRM_MATCHES}
    # Stored per partition, like the checks' own runs: the cursor history spans both.
    history = instance.event_log_storage.get_asset_check_execution_history(
        dg.AssetCheckKey(CUSTOMERS, CURSOR_MONOTONIC),
        limit=10,
        partition_filter=PartitionKeyFilter(key=target.key),
    )
    assert len(history) == 2
