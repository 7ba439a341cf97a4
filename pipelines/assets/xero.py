"""Xero, declared: six Accounting API streams → warehouse.xero_* → app.clients, and sales invoices, payments
and credit notes → app.invoices / app.payments (`xero_billing.py`); assets built by the asset factory.

Every stream is incremental through `XeroClient.pages` (If-Modified-Since keyset on UpdatedDateUTC; the
cursor is the instant before which everything has been read). Xero never hard-deletes accounting records:
voided/deleted invoices, payments and credit notes keep coming with their `status`; an ARCHIVED contact is
Xero's soft delete and gets `deleted_at`.

Which contacts are the firm's clients: those Xero marks `IsCustomer`, those with a sales (ACCREC) invoice
in the warehouse — Xero sets IsCustomer when the first sales invoice is raised *without* moving the
contact's UpdatedDateUTC, so an incremental sync would never see the flag change — and those already
linked to a client (e.g. pushed from firmsync before anything was invoiced). Pure suppliers stay in the
warehouse only.
"""

from __future__ import annotations

import dagster as dg
from sqlalchemy import ColumnElement, Table, or_

from connectors.xero.config import XeroCredentials
from connectors.xero.mapping import (
    account_to_row,
    contact_to_row,
    credit_note_to_row,
    invoice_line_rows,
    invoice_to_row,
    item_to_row,
    payment_to_row,
)
from core_api.models.warehouse_accounting import (
    XERO_ACCOUNTS,
    XERO_CONTACTS,
    XERO_CREDIT_NOTES,
    XERO_INVOICE_LINES,
    XERO_INVOICES,
    XERO_ITEMS,
    XERO_PAYMENTS,
)
from pipelines import client_merge, contact_merge
from pipelines.assets.xero_billing import merge_invoices, merge_payments
from pipelines.client_merge import ClientSource
from pipelines.contact_merge import ContactSource
from pipelines.factory import build_vendor_definitions
from pipelines.partitions import xero_connections
from pipelines.streams import CanonicalSpec, ChildSpec, StreamSpec, VendorSync

__all__ = [
    "APP_CLIENTS",
    "APP_INVOICES",
    "APP_PAYMENTS",
    "CONTACTS",
    "CREDIT_NOTES",
    "INVOICES",
    "PAYMENTS",
    "STREAM_KEYS",
    "XERO",
    "merge_clients",
    "xero",
]

CONTACTS = dg.AssetKey(["xero", "contacts"])
INVOICES = dg.AssetKey(["xero", "invoices"])
PAYMENTS = dg.AssetKey(["xero", "payments"])
CREDIT_NOTES = dg.AssetKey(["xero", "credit_notes"])
APP_CLIENTS = dg.AssetKey(["app", "clients_from_xero"])
APP_CONTACTS = dg.AssetKey(["app", "contacts_from_xero"])
APP_INVOICES = dg.AssetKey(["app", "invoices_from_xero"])
APP_PAYMENTS = dg.AssetKey(["app", "payments_from_xero"])

# Xero's soft deletes of a contact (GDPRREQUEST: erased on the firm's request).
GONE = ("ARCHIVED", "GDPRREQUEST")


def _contact_deleted_at(row: dict):
    return row.get("updated_at") if row.get("status") in GONE else None


def xero_contacts_counted(table: Table) -> ColumnElement[bool]:
    """Xero's contact count includes archived ones (we ask with includeArchived): live rows plus those."""
    return or_(table.c.deleted_at.is_(None), table.c.status.in_(GONE))


def _stream(
    name: str,
    id_field: str,
    table: Table,
    map_record,
    description: str,
    *,
    counted: bool,
    deleted_at=None,
    children=(),
) -> StreamSpec:
    return StreamSpec(
        name=name,
        asset_key=dg.AssetKey(["xero", name]),
        table=table,
        description=f"{description} (incremental on UpdatedDateUTC via If-Modified-Since).",
        map_record=map_record,
        record_id=lambda payload: str(payload[id_field]),
        pages=lambda client, cursor, page_size: client.pages(name, cursor, page_size),
        deleted_at=deleted_at,
        # Paged collections say their size in one call (`pagination.itemCount`); items and accounts
        # would be re-read whole, so their count check is left out.
        count=(lambda client: client.count(name)) if counted else None,
        children=children,
    )


CLIENTS = ClientSource(
    provider="xero",
    rows="""
        select w.firm_id, w.connection_id, w.external_id,
               coalesce(w.name, nullif(concat_ws(' ', w.first_name, w.last_name), ''),
                        'Xero contact ' || w.external_id) as name,
               w.email, w.phone, w.address_line1, w.city, w.region, w.postal_code, w.country,
               case when w.deleted_at is null and coalesce(w.status, 'ACTIVE') = 'ACTIVE'
                    then 'active' else 'inactive' end as status,
               w.updated_at
        from warehouse.xero_contacts w
        where w.connection_id = :connection_id and w.firm_id = :firm_id
          and (w.is_customer
               or exists (select 1 from warehouse.xero_invoices i
                          where i.connection_id = w.connection_id and i.contact_id = w.external_id
                            and i.type = 'ACCREC')
               or exists (select 1 from app.external_refs r
                          where r.connection_id = w.connection_id and r.entity = 'client'
                            and r.external_id = w.external_id))
    """,
)


def merge_clients(session, tenant, connection_id) -> dict[str, int]:
    """Customer contacts → app.clients (`pipelines/client_merge.py`: link by e-mail/name, outbox guard)."""
    return client_merge.merge_clients(CLIENTS, session, tenant, connection_id)


# A Xero contact's own person (FirstName, LastName, EmailAddress) and its ContactPersons.
PEOPLE = ContactSource(
    provider="xero",
    rows="""
        select w.firm_id, w.connection_id, w.external_id as client_external_id,
               concat_ws(':', w.external_id, 'primary') as external_id,
               coalesce(w.first_name, '') as first_name, coalesce(w.last_name, '') as last_name,
               w.email, w.phone, w.updated_at
        from warehouse.xero_contacts w
        where w.connection_id = :connection_id and w.firm_id = :firm_id and w.deleted_at is null
          and (w.first_name is not null or w.last_name is not null)
        union all
        select w.firm_id, w.connection_id, w.external_id,
               concat_ws(':', w.external_id, 'person', lower(coalesce(
                   p->>'EmailAddress', concat_ws(' ', p->>'FirstName', p->>'LastName')))),
               coalesce(p->>'FirstName', ''), coalesce(p->>'LastName', ''), nullif(p->>'EmailAddress', ''),
               null, w.updated_at
        from warehouse.xero_contacts w
        cross join lateral jsonb_array_elements(coalesce(w.raw->'ContactPersons', '[]'::jsonb)) p
        where w.connection_id = :connection_id and w.firm_id = :firm_id and w.deleted_at is null
          and (p->>'FirstName' is not null or p->>'LastName' is not null or p->>'EmailAddress' is not null)
    """,
)


def merge_contacts(session, tenant, connection_id) -> dict[str, int]:
    """Contact persons → app.contacts of the client (`pipelines/contact_merge.py`)."""
    return contact_merge.merge_contacts(PEOPLE, session, tenant, connection_id)


XERO = VendorSync(
    provider="xero",
    group="xero",
    partitions=xero_connections,
    credentials_model=XeroCredentials,
    client_resource="xero",
    kinds=frozenset({"xero", "postgres"}),
    streams=(
        _stream(
            "contacts",
            "ContactID",
            XERO_CONTACTS,
            contact_to_row,
            "Xero contacts, archived ones included",
            counted=True,
            deleted_at=_contact_deleted_at,
        ),
        _stream(
            "invoices",
            "InvoiceID",
            XERO_INVOICES,
            invoice_to_row,
            "Xero invoices, sales (ACCREC) and bills (ACCPAY), with their lines",
            counted=True,
            children=(
                ChildSpec(table=XERO_INVOICE_LINES, parent_column="invoice_id", rows=invoice_line_rows),
            ),
        ),
        _stream("payments", "PaymentID", XERO_PAYMENTS, payment_to_row, "Xero payments", counted=True),
        _stream(
            "credit_notes",
            "CreditNoteID",
            XERO_CREDIT_NOTES,
            credit_note_to_row,
            "Xero credit notes",
            counted=True,
        ),
        _stream(
            "items", "ItemID", XERO_ITEMS, item_to_row, "Xero items (products and services)", counted=False
        ),
        _stream(
            "accounts", "AccountID", XERO_ACCOUNTS, account_to_row, "Xero chart of accounts", counted=False
        ),
    ),
    canonical=(
        CanonicalSpec(
            asset_key=APP_CLIENTS,
            deps=(CONTACTS, INVOICES),
            description="Xero customer contacts merged into app.clients, linked through app.external_refs "
            "(matched to the firm's existing clients by e-mail or name, e.g. the same client in QuickBooks).",
            merge=merge_clients,
            changes_downstream=client_merge.links_changed,
        ),
        CanonicalSpec(
            asset_key=APP_CONTACTS,
            deps=(CONTACTS, APP_CLIENTS),
            description="Xero contact persons merged into app.contacts of their client (matched by e-mail or "
            "name, linked through app.external_refs entity 'contact').",
            merge=merge_contacts,
        ),
        CanonicalSpec(
            asset_key=APP_INVOICES,
            deps=(INVOICES, APP_CLIENTS),
            description="Xero sales (ACCREC) invoices and lines merged into app.invoices / app.invoice_lines "
            "for linked clients (external_refs entity 'invoice'; bills stay in the warehouse); DRAFT and "
            "SUBMITTED are drafts, VOIDED void, DELETED soft-deleted; amount_paid and status follow "
            "allocations.",
            merge=merge_invoices,
        ),
        CanonicalSpec(
            asset_key=APP_PAYMENTS,
            deps=(PAYMENTS, CREDIT_NOTES, APP_INVOICES),
            description="Xero payments of sales invoices (and ACCRECCREDIT credit notes, as non-cash "
            "payments) merged into app.payments with app.payment_allocations to the linked invoices, "
            "which are then re-settled.",
            merge=merge_payments,
        ),
    ),
)

STREAM_KEYS = {stream.name: stream.asset_key for stream in XERO.streams}

xero = build_vendor_definitions(XERO, counted_rows={"contacts": xero_contacts_counted})
