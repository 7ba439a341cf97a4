"""QuickBooks Online, declared: streams → warehouse.quickbooks_* → app tables (built by the asset factory)."""

from __future__ import annotations

from string import Template

import dagster as dg
from sqlalchemy import text

from connectors.quickbooks.config import QuickBooksCredentials
from connectors.quickbooks.mapping import customer_to_row
from core_api.models import QuickBooksCustomer
from pipelines.checks import quickbooks_counted
from pipelines.factory import FULL_REFRESH_TAG, REQUEST_TAG, build_vendor_definitions
from pipelines.partitions import quickbooks_connections
from pipelines.streams import CanonicalSpec, StreamSpec, VendorSync

__all__ = ["APP_CLIENTS", "CUSTOMERS", "FULL_REFRESH_TAG", "QUICKBOOKS", "REQUEST_TAG", "quickbooks"]

CUSTOMERS = dg.AssetKey(["quickbooks", "customers"])
APP_CLIENTS = dg.AssetKey(["app", "clients_from_quickbooks"])

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


def merge_clients(session, tenant, connection_id) -> dict[str, int]:
    params = {"connection_id": connection_id, "firm_id": tenant.firm_id}
    updated = session.execute(MERGE_UPDATE, params).rowcount or 0
    created = session.execute(MERGE_INSERT, params).rowcount or 0
    linked = session.execute(LINKED, params).scalar_one()
    return {"clients_created": created, "clients_updated": updated, "clients_linked": linked}


def _deleted_at(row: dict):
    # QuickBooks never hard-deletes customers: making one inactive is its delete.
    return None if row["active"] else row.get("updated_at")


QUICKBOOKS = VendorSync(
    provider="quickbooks",
    group="quickbooks",
    partitions=quickbooks_connections,
    credentials_model=QuickBooksCredentials,
    client_resource="quickbooks",
    streams=(
        StreamSpec(
            name="customers",
            asset_key=CUSTOMERS,
            table=QuickBooksCustomer.__table__,
            description="QuickBooks Online customers (incremental on Metadata.LastUpdatedTime).",
            map_record=customer_to_row,
            record_id=lambda payload: str(payload["Id"]),
            pages=lambda client, cursor, page_size: client.customer_pages(since=cursor, page_size=page_size),
            deleted_at=_deleted_at,
            count=lambda client: client.count_customers(include_inactive=True),
        ),
    ),
    canonical=(
        CanonicalSpec(
            asset_key=APP_CLIENTS,
            deps=(CUSTOMERS,),
            description="QuickBooks customers merged into app.clients, linked through app.external_refs.",
            merge=merge_clients,
        ),
    ),
)

quickbooks = build_vendor_definitions(QUICKBOOKS, counted_rows={"customers": quickbooks_counted})
