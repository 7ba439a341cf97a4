"""QuickBooks Online, declared: streams → warehouse.quickbooks_* → app tables (built by the asset factory)."""

from __future__ import annotations

import dagster as dg

from connectors.quickbooks import mapping
from connectors.quickbooks.config import QuickBooksCredentials
from core_api.models import QuickBooksCustomer
from core_api.models.warehouse_accounting import (
    QBO_ACCOUNTS,
    QBO_CREDIT_MEMO_LINES,
    QBO_CREDIT_MEMOS,
    QBO_INVOICE_LINES,
    QBO_INVOICES,
    QBO_ITEMS,
    QBO_PAYMENT_ALLOCATIONS,
    QBO_PAYMENTS,
)
from pipelines import client_merge, contact_merge
from pipelines.assets.quickbooks_billing import merge_invoices, merge_payments
from pipelines.checks import quickbooks_counted
from pipelines.client_merge import ClientSource
from pipelines.contact_merge import ContactSource
from pipelines.factory import FULL_REFRESH_TAG, REQUEST_TAG, build_vendor_definitions
from pipelines.partitions import quickbooks_connections
from pipelines.streams import CanonicalSpec, ChildSpec, StreamSpec, VendorSync

__all__ = [
    "ACCOUNTS",
    "APP_CLIENTS",
    "APP_CONTACTS",
    "APP_INVOICES",
    "APP_PAYMENTS",
    "CREDIT_MEMOS",
    "CUSTOMERS",
    "FULL_REFRESH_TAG",
    "INVOICES",
    "ITEMS",
    "PAYMENTS",
    "QUICKBOOKS",
    "REQUEST_TAG",
    "quickbooks",
]

CUSTOMERS = dg.AssetKey(["quickbooks", "customers"])
INVOICES = dg.AssetKey(["quickbooks", "invoices"])
PAYMENTS = dg.AssetKey(["quickbooks", "payments"])
CREDIT_MEMOS = dg.AssetKey(["quickbooks", "credit_memos"])
ITEMS = dg.AssetKey(["quickbooks", "items"])
ACCOUNTS = dg.AssetKey(["quickbooks", "accounts"])
APP_CLIENTS = dg.AssetKey(["app", "clients_from_quickbooks"])
APP_CONTACTS = dg.AssetKey(["app", "contacts_from_quickbooks"])
APP_INVOICES = dg.AssetKey(["app", "invoices_from_quickbooks"])
APP_PAYMENTS = dg.AssetKey(["app", "payments_from_quickbooks"])

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


# The customer's own person (QuickBooks keeps one per customer: Title, GivenName, FamilyName).
PEOPLE = ContactSource(
    provider="quickbooks",
    rows="""
        select w.firm_id, w.connection_id, w.external_id as client_external_id,
               concat_ws(':', w.external_id, 'primary') as external_id,
               coalesce(w.given_name, '') as first_name, coalesce(w.family_name, '') as last_name,
               w.email, w.phone, w.updated_at
        from warehouse.quickbooks_customers w
        where w.connection_id = :connection_id and w.firm_id = :firm_id and w.deleted_at is null
          and (w.given_name is not null or w.family_name is not null)
    """,
)


def merge_contacts(session, tenant, connection_id) -> dict[str, int]:
    """The customer's person → app.contacts of its client (`pipelines/contact_merge.py`)."""
    return contact_merge.merge_contacts(PEOPLE, session, tenant, connection_id)


def _stream(name: str, table, description: str, map_record, *children: ChildSpec) -> StreamSpec:
    """One QuickBooks entity, read the way its connector says the engine should (`stream_pages`: a query
    for the first sync, CDC within 30 days, a full refresh beyond), deleted stubs marked as tombstones."""
    return StreamSpec(
        name=name,
        asset_key=dg.AssetKey(["quickbooks", name]),
        table=table,
        description=description,
        map_record=map_record,
        record_id=lambda payload: str(payload["Id"]),
        pages=lambda client, cursor, page_size: client.stream_pages(name, cursor, page_size),
        window_pages=lambda client, since, page_size: client.query_pages(name, since, page_size),
        deleted_at=mapping.deleted_at,
        count=lambda client: client.count(name),
        children=children,
        is_tombstone=mapping.is_deleted,
    )


QUICKBOOKS = VendorSync(
    provider="quickbooks",
    group="quickbooks",
    partitions=quickbooks_connections,
    credentials_model=QuickBooksCredentials,
    client_resource="quickbooks",
    streams=(
        _stream(
            "customers",
            QuickBooksCustomer.__table__,
            "QuickBooks Online customers, inactive ones soft-deleted (query on LastUpdatedTime).",
            mapping.customer_to_row,
        ),
        _stream(
            "invoices",
            QBO_INVOICES,
            "QuickBooks Online invoices with their lines (query, then CDC; deletions soft-delete).",
            mapping.invoice_to_row,
            ChildSpec(QBO_INVOICE_LINES, "invoice_external_id", mapping.invoice_lines),
        ),
        _stream(
            "payments",
            QBO_PAYMENTS,
            "QuickBooks Online received payments with what each settled (invoices, credit memos).",
            mapping.payment_to_row,
            ChildSpec(QBO_PAYMENT_ALLOCATIONS, "payment_external_id", mapping.payment_allocations),
        ),
        _stream(
            "credit_memos",
            QBO_CREDIT_MEMOS,
            "QuickBooks Online credit memos with their lines.",
            mapping.credit_memo_to_row,
            ChildSpec(QBO_CREDIT_MEMO_LINES, "credit_memo_external_id", mapping.credit_memo_lines),
        ),
        _stream("items", QBO_ITEMS, "QuickBooks Online items, for push mapping.", mapping.item_to_row),
        _stream(
            "accounts",
            QBO_ACCOUNTS,
            "QuickBooks Online chart of accounts, for push mapping.",
            mapping.account_to_row,
        ),
    ),
    # Within CDC's reach, one call brings every stream's changes (issue 4's sweep: 1 call per connection).
    read_changes=lambda client, cursors, page_size: client.changed_pages(cursors),
    canonical=(
        CanonicalSpec(
            asset_key=APP_CLIENTS,
            deps=(CUSTOMERS,),
            description="QuickBooks customers merged into app.clients, linked through app.external_refs.",
            merge=merge_clients,
            changes_downstream=client_merge.links_changed,
        ),
        CanonicalSpec(
            asset_key=APP_CONTACTS,
            deps=(CUSTOMERS, APP_CLIENTS),
            description="Each QuickBooks customer's person merged into app.contacts of its client "
            "(matched by e-mail or name, linked through app.external_refs entity 'contact').",
            merge=merge_contacts,
        ),
        CanonicalSpec(
            asset_key=APP_INVOICES,
            deps=(INVOICES, APP_CLIENTS),
            description="QuickBooks invoices and lines merged into app.invoices / app.invoice_lines for "
            "linked clients (external_refs entity 'invoice'); amount_paid and status follow allocations.",
            merge=merge_invoices,
        ),
        CanonicalSpec(
            asset_key=APP_PAYMENTS,
            deps=(PAYMENTS, CREDIT_MEMOS, APP_INVOICES),
            description="QuickBooks payments (and credit memos, as non-cash payments) merged into "
            "app.payments with app.payment_allocations to the linked invoices, which are then re-settled.",
            merge=merge_payments,
        ),
    ),
)

# Which warehouse rows each QuickBooks count covers: name lists count inactive records too.
quickbooks = build_vendor_definitions(
    QUICKBOOKS,
    counted_rows={
        "customers": quickbooks_counted,
        "items": quickbooks_counted,
        "accounts": quickbooks_counted,
    },
)
