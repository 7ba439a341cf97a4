"""QuickBooks Online, declared: streams → warehouse.quickbooks_* → app tables (built by the asset factory)."""

from __future__ import annotations

import dagster as dg

from connectors.quickbooks.config import QuickBooksCredentials
from connectors.quickbooks.mapping import customer_to_row
from core_api.models import QuickBooksCustomer
from pipelines import client_merge
from pipelines.checks import quickbooks_counted
from pipelines.client_merge import ClientSource
from pipelines.factory import FULL_REFRESH_TAG, REQUEST_TAG, build_vendor_definitions
from pipelines.partitions import quickbooks_connections
from pipelines.streams import CanonicalSpec, StreamSpec, VendorSync

__all__ = ["APP_CLIENTS", "CUSTOMERS", "FULL_REFRESH_TAG", "QUICKBOOKS", "REQUEST_TAG", "quickbooks"]

CUSTOMERS = dg.AssetKey(["quickbooks", "customers"])
APP_CLIENTS = dg.AssetKey(["app", "clients_from_quickbooks"])

CLIENTS = ClientSource(
    provider="quickbooks",
    # QuickBooks appends " (deleted)" to an inactive customer's DisplayName; the client keeps its real name.
    rows="""
        select w.firm_id, w.connection_id, w.external_id,
               coalesce(regexp_replace(w.display_name, ' \\(deleted\\)$', ''), w.company_name,
                        'QuickBooks customer ' || w.external_id) as name,
               w.email, w.phone, w.address_line1, w.city, w.region, w.postal_code, w.country,
               case when w.deleted_at is null then 'active' else 'inactive' end as status, w.updated_at
        from warehouse.quickbooks_customers w
        where w.connection_id = :connection_id and w.firm_id = :firm_id
    """,
)


def merge_clients(session, tenant, connection_id) -> dict[str, int]:
    """Customers → app.clients (`pipelines/client_merge.py`: link by e-mail/name, outbox guard)."""
    return client_merge.merge_clients(CLIENTS, session, tenant, connection_id)


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
