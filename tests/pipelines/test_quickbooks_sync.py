"""The QuickBooks assets, materialised for real: sandbox over HTTP → warehouse → app.clients."""

from __future__ import annotations

import dagster as dg
import httpx
from sqlalchemy import text

from core_api.connections.secrets import open_credentials
from core_api.db import tenant_session
from core_api.models import Connection
from pipelines.assets.quickbooks import CUSTOMERS, quickbooks

ASSETS = quickbooks.assets


def _materialize(target, instance, resources, **tags):
    return dg.materialize(
        ASSETS,
        partition_key=target.key,
        instance=instance,
        resources=resources,
        tags={k.replace("__", "/"): v for k, v in tags.items()},
        raise_on_error=False,
    )


def _metadata(result, key=CUSTOMERS) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key == key)
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _scalar(target, sql: str, **params):
    with tenant_session(target.tenant) as session:
        return session.execute(text(sql), {"c": target.connection_id, **params}).scalar()


def test_first_sync_loads_every_customer_into_warehouse_and_clients(target, instance, resources, sandbox):
    result = _materialize(target, instance, resources)
    assert result.success
    meta = _metadata(result)
    assert meta["rows_inserted"] == 40 and meta["rows_updated"] == 0
    assert meta["dagster/row_count"] == 40
    assert (
        _scalar(target, "select count(*) from warehouse.quickbooks_customers where connection_id = :c") == 40
    )
    assert (
        _scalar(
            target,
            "select count(distinct external_id) from app.external_refs where connection_id = :c "
            "and entity = 'client'",
        )
        == 40
    )
    assert _scalar(target, "select count(*) from app.clients") == 40
    assert _scalar(
        target, "select cursor from app.sync_state where connection_id = :c and stream = 'customers'"
    )
    # Every warehouse row belongs to the connection's firm (RLS would have refused anything else).
    assert (
        _scalar(
            target,
            "select count(*) from warehouse.quickbooks_customers where firm_id <> :f",
            f=target.tenant.firm_id,
        )
        == 0
    )
    with tenant_session(target.tenant) as session:
        connection = session.get(Connection, target.connection_id)
        # Every stream's rows count: 40 customers plus the company's starting items and accounts.
        catalogue = _scalar(
            target,
            "select (select count(*) from warehouse.quickbooks_items where connection_id = :c)"
            " + (select count(*) from warehouse.quickbooks_accounts where connection_id = :c)",
        )
        assert connection.last_sync_status == "succeeded" and connection.last_sync_records == 40 + catalogue
        # The sandbox rotates refresh tokens: the new one was persisted, the old one is dead.
        assert open_credentials(connection)["refresh_token"] != target.realm["refresh_token"]


def test_incremental_sync_picks_up_only_changes_and_deactivations(target, instance, resources, sandbox):
    assert _materialize(target, instance, resources).success
    deleted_sql = (
        "select count(*) from warehouse.quickbooks_customers "
        "where connection_id = :c and deleted_at is not null"
    )
    already_inactive = _scalar(target, deleted_sql)
    touched = httpx.post(
        f"{sandbox.quickbooks}/_sandbox/realms/{target.realm['realm_id']}/customers/touch",
        json={"count": 3, "deactivate": 2, "seed": 5},
    ).json()
    result = _materialize(target, instance, resources)
    assert result.success
    meta = _metadata(result)
    assert meta["rows_inserted"] == 0 and meta["rows_updated"] == 5
    gone = touched["deactivated"]
    assert _scalar(target, deleted_sql) == already_inactive + 2
    statuses = _scalar(
        target,
        "select array_agg(distinct c.status) from app.clients c "
        "join app.external_refs r on r.entity_id = c.id "
        "where r.connection_id = :c and r.external_id = any(:ids)",
        ids=gone,
    )
    assert statuses == ["inactive"]
    # QuickBooks renames inactive customers "<name> (deleted)"; the firm's client keeps its name.
    assert _scalar(target, "select count(*) from app.clients where name like '%(deleted)'") == 0
    # Nothing changed since: a third run writes nothing.
    again = _metadata(_materialize(target, instance, resources))
    assert again["rows_inserted"] == 0 and again["rows_updated"] == 0


def test_full_refresh_rereads_everything_without_duplicates(target, instance, resources):
    assert _materialize(target, instance, resources).success
    result = _materialize(target, instance, resources, firmsync__full_refresh="true")
    assert result.success
    meta = _metadata(result)
    assert meta["full_refresh"] is True and meta["rows_inserted"] == 0
    assert meta["rows_unchanged"] == 40
    assert meta["rows_marked_deleted"] == 0  # every row was seen again: none may be soft-deleted
    assert _scalar(target, "select count(*) from app.clients") == 40


def test_revoked_authorisation_fails_fast_and_marks_the_connection(target, instance, resources, sandbox):
    httpx.post(f"{sandbox.quickbooks}/_sandbox/realms/{target.realm['realm_id']}/revoke").raise_for_status()
    result = _materialize(target, instance, resources)
    assert not result.success
    step_failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert len(step_failures) == 1  # allow_retries=False: no step retry was attempted
    with tenant_session(target.tenant) as session:
        connection = session.get(Connection, target.connection_id)
        assert connection.status == "needs_reauth" and connection.last_sync_status == "failed"
    assert (
        _scalar(target, "select count(*) from warehouse.quickbooks_customers where connection_id = :c") == 0
    )


def test_transient_vendor_errors_are_retried_within_the_run(target, instance, resources, sandbox):
    httpx.post(
        f"{sandbox.quickbooks}/_sandbox/faults",
        json={"realm": target.realm["realm_id"], "path_contains": "/query", "kind": "503", "times": 2},
    ).raise_for_status()
    result = _materialize(target, instance, resources)
    assert result.success
    assert _metadata(result)["rows_inserted"] == 40
