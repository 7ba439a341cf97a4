"""QuickBooks Online → warehouse.quickbooks_* → app tables, one partition per connection."""
# No `from __future__ import annotations` here: Dagster inspects the context annotation at definition time.

import time
import uuid
from datetime import UTC, datetime
from string import Template

import dagster as dg
from sqlalchemy import text, update

from connectors.base import AuthError, PermanentError
from connectors.quickbooks.config import QuickBooksCredentials
from connectors.quickbooks.mapping import customer_to_row
from core_api.connections.repository import ConnectionRepository
from core_api.models import QuickBooksCustomer
from pipelines.connection_tokens import ConnectionTokens
from pipelines.loader import bulk_upsert
from pipelines.partitions import quickbooks_connections
from pipelines.resources import FirmsyncDatabase, QuickBooksApi
from pipelines.sync_status import mark_connection, mark_request

CUSTOMERS = dg.AssetKey(["quickbooks", "customers"])
APP_CLIENTS = dg.AssetKey(["app", "clients_from_quickbooks"])
STREAM = "customers"
REQUEST_TAG = "firmsync/sync_request_id"
FULL_REFRESH_TAG = "firmsync/full_refresh"

SYNC_RETRY = dg.RetryPolicy(
    max_retries=3, delay=15, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)


@dg.multi_asset(
    name="quickbooks_sync",
    specs=[
        dg.AssetSpec(
            CUSTOMERS,
            description="QuickBooks Online customers (incremental on Metadata.LastUpdatedTime).",
            kinds={"quickbooks", "postgres"},
            group_name="quickbooks",
            metadata={"dagster/table_name": "warehouse.quickbooks_customers"},
        )
    ],
    partitions_def=quickbooks_connections,
    pool="quickbooks",
    retry_policy=SYNC_RETRY,
)
def quickbooks_sync(context: dg.AssetExecutionContext, db: FirmsyncDatabase, quickbooks: QuickBooksApi):
    connection_id = uuid.UUID(context.partition_key)
    tags = context.run.tags
    request_id = tags.get(REQUEST_TAG)
    full_refresh = tags.get(FULL_REFRESH_TAG) == "true"
    tenant, connection = db.connection(connection_id)
    mark_request(db, tenant, request_id, status="running", run_id=context.run.run_id)

    tokens = ConnectionTokens(db, tenant, connection_id, QuickBooksCredentials)
    client = quickbooks.client(connection.config, tokens.load(), on_tokens=tokens.save)
    started_at = datetime.now(UTC)
    clock = time.perf_counter()
    inserted = updated = unchanged = pages = 0
    try:
        with db.tenant(tenant) as session:
            cursor = (
                None
                if full_refresh
                else ConnectionRepository(session, tenant).get_cursor(connection_id, STREAM)
            )
        for page in client.customer_pages(since=cursor, page_size=quickbooks.page_size):
            rows = [_warehouse_row(p, tenant.firm_id, connection_id, started_at) for p in page.records]
            # Rows and cursor commit together: a killed run resumes from the last committed page.
            with db.tenant(tenant) as session:
                stats = bulk_upsert(
                    session, QuickBooksCustomer.__table__, rows, key=("connection_id", "external_id")
                )
                ConnectionRepository(session, tenant).save_cursor(connection_id, STREAM, page.cursor)
            inserted, updated, unchanged = (
                inserted + stats.inserted,
                updated + stats.updated,
                unchanged + stats.unchanged,
            )
            pages += 1
            cursor = page.cursor
        removed = _mark_missing_deleted(db, tenant, connection_id, started_at) if full_refresh else 0
    except (AuthError, PermanentError) as exc:
        status = "needs_reauth" if isinstance(exc, AuthError) else "error"
        mark_connection(db, tenant, connection_id, outcome="failed", error=str(exc), status=status)
        mark_request(db, tenant, request_id, status="failed", error=str(exc))
        raise dg.Failure(description=f"{type(exc).__name__}: {exc}", allow_retries=False) from exc
    except Exception as exc:
        if context.retry_number >= SYNC_RETRY.max_retries:
            mark_connection(db, tenant, connection_id, outcome="failed", error=str(exc))
            mark_request(db, tenant, request_id, status="failed", error=str(exc))
        raise

    written = inserted + updated
    with db.tenant(tenant) as session:
        total = session.execute(
            text("select count(*) from warehouse.quickbooks_customers where connection_id = :c"),
            {"c": connection_id},
        ).scalar_one()
    context.log.info(
        "quickbooks customers: %d pages, %d inserted, %d updated, %d unchanged",
        pages,
        inserted,
        updated,
        unchanged,
    )
    return dg.MaterializeResult(
        asset_key=CUSTOMERS,
        metadata={
            "dagster/row_count": total,
            "rows_inserted": inserted,
            "rows_updated": updated,
            "rows_unchanged": unchanged,
            "rows_marked_deleted": removed,
            "pages": pages,
            "cursor": cursor or "",
            "full_refresh": full_refresh,
            "token_refreshes": tokens.refreshes,
            "seconds": round(time.perf_counter() - clock, 3),
            "rows_written": written,
        },
    )


def _warehouse_row(payload: dict, firm_id: uuid.UUID, connection_id: uuid.UUID, synced_at: datetime) -> dict:
    row = customer_to_row(payload)
    # QuickBooks never hard-deletes customers: making one inactive is its delete.
    deleted_at = None if row["active"] else (row.get("updated_at") or synced_at)
    return {
        **row,
        "firm_id": firm_id,
        "connection_id": connection_id,
        "synced_at": synced_at,
        "deleted_at": deleted_at,
    }


def _mark_missing_deleted(
    db: FirmsyncDatabase, tenant, connection_id: uuid.UUID, started_at: datetime
) -> int:
    """After a full refresh, rows the source no longer returned are soft-deleted."""
    with db.tenant(tenant) as session:
        result = session.execute(
            update(QuickBooksCustomer)
            .where(
                QuickBooksCustomer.firm_id == tenant.firm_id,
                QuickBooksCustomer.connection_id == connection_id,
                QuickBooksCustomer.synced_at < started_at,
                QuickBooksCustomer.deleted_at.is_(None),
            )
            .values(deleted_at=started_at)
        )
        return result.rowcount or 0


# QuickBooks appends " (deleted)" to an inactive customer's DisplayName; the client keeps its real name.
CLIENT_NAME = (
    "coalesce(regexp_replace(w.display_name, ' \\(deleted\\)$', ''), w.company_name, "
    "'QuickBooks customer ' || w.external_id)"
)


def _sql(template: str):
    return text(Template(template).substitute(client_name=CLIENT_NAME))


MERGE_UPDATE = _sql(
    """
    update app.clients c set
        name = $client_name,
        email = w.email, phone = w.phone, address_line1 = w.address_line1, city = w.city,
        region = w.region, postal_code = w.postal_code, country = w.country,
        status = case when w.deleted_at is null then 'active' else 'inactive' end,
        version = c.version + 1, updated_at = now()
    from warehouse.quickbooks_customers w
    join app.external_refs r
      on r.connection_id = w.connection_id and r.entity = 'client' and r.external_id = w.external_id
    where w.connection_id = :connection_id and w.firm_id = :firm_id and r.entity_id = c.id
      and c.firm_id = :firm_id and c.deleted_at is null
      and (c.name, c.email, c.phone, c.address_line1, c.city, c.region, c.postal_code, c.country, c.status)
          is distinct from
          ($client_name, w.email, w.phone, w.address_line1, w.city,
           w.region, w.postal_code, w.country,
           case when w.deleted_at is null then 'active' else 'inactive' end)
    """
)

# `fresh` is referenced twice, so Postgres materialises it: each row keeps one generated id.
MERGE_INSERT = _sql(
    """
    with fresh as (
        select gen_random_uuid() as client_id, w.*
        from warehouse.quickbooks_customers w
        where w.connection_id = :connection_id and w.firm_id = :firm_id
          and not exists (
            select 1 from app.external_refs r
            where r.connection_id = w.connection_id and r.entity = 'client' and r.external_id = w.external_id)
    ), created as (
        insert into app.clients (id, firm_id, name, email, phone, address_line1, city, region, postal_code,
                                 country, status)
        select w.client_id, w.firm_id, $client_name,
               w.email, w.phone, w.address_line1, w.city, w.region, w.postal_code, w.country,
               case when w.deleted_at is null then 'active' else 'inactive' end
        from fresh w
        returning id
    )
    insert into app.external_refs (id, firm_id, entity, entity_id, provider, connection_id, external_id)
    select gen_random_uuid(), f.firm_id, 'client', f.client_id, 'quickbooks', f.connection_id, f.external_id
    from fresh f join created c on c.id = f.client_id
    """
)


LINKED = text(
    "select count(*) from app.external_refs where connection_id = :connection_id and entity = 'client'"
)


@dg.asset(
    key=APP_CLIENTS,
    deps=[CUSTOMERS],
    partitions_def=quickbooks_connections,
    kinds={"postgres"},
    group_name="app",
    description="QuickBooks customers merged into app.clients, linked through app.external_refs.",
    retry_policy=SYNC_RETRY,
)
def clients_from_quickbooks(context: dg.AssetExecutionContext, db: FirmsyncDatabase) -> dg.MaterializeResult:
    connection_id = uuid.UUID(context.partition_key)
    tenant, _ = db.connection(connection_id)
    params = {"connection_id": connection_id, "firm_id": tenant.firm_id}
    with db.tenant(tenant) as session:
        updated = session.execute(MERGE_UPDATE, params).rowcount or 0
        created = session.execute(MERGE_INSERT, params).rowcount or 0
        linked = session.execute(LINKED, params).scalar_one()
    records = created + updated
    request_id = context.run.tags.get(REQUEST_TAG)
    mark_connection(db, tenant, connection_id, outcome="succeeded", records=records, status="active")
    mark_request(db, tenant, request_id, status="succeeded", records=records)
    return dg.MaterializeResult(
        metadata={"clients_created": created, "clients_updated": updated, "clients_linked": linked}
    )
