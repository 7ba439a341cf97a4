"""Stripe, declared: customers, charges, payment intents and refunds → warehouse.stripe_* → app.clients and
app.payments (`stripe_billing.py`); assets built by the asset factory. Webhook events are applied by
`pipelines/stripe_webhooks.py` with the same writes and merges.

Every stream is incremental through `connectors.stripe.changes.StripeChangeReader` (ADR 0013): objects
created since the cursor (`created[gte]` + `starting_after`, Stripe lists are newest first), and before
them the events since the cursor (`/v1/events`, 30 days) for what changed in objects created earlier — a
refunded charge, an updated customer, a deleted customer (a tombstone: the row keeps its columns and gets
`deleted_at`). A cursor older than Stripe's events makes the engine re-read the stream whole, soft-deleting
what is no longer listed.

Clients: Stripe customers are linked to the firm's clients by e-mail (or exact name) through
app.external_refs, and a client is created for a customer matching none, as for the accounting vendors
(`pipelines/client_merge.py`). Stripe is not the firm's book of record for a client: it fills gaps but
never empties a field, and a deleted Stripe customer leaves its client (and its payments) as they are.
"""

from __future__ import annotations

import dagster as dg
from sqlalchemy import text

from connectors.stripe.changes import is_deleted
from connectors.stripe.config import StripeCredentials
from connectors.stripe.mapping import charge_to_row, customer_to_row, payment_intent_to_row, refund_to_row
from core_api.models.warehouse_stripe import (
    STRIPE_CHARGES,
    STRIPE_CUSTOMERS,
    STRIPE_PAYMENT_INTENTS,
    STRIPE_REFUNDS,
)
from pipelines import client_merge
from pipelines.assets.stripe_billing import merge_payments
from pipelines.client_merge import ClientSource
from pipelines.factory import build_vendor_definitions
from pipelines.partitions import stripe_connections
from pipelines.streams import CanonicalSpec, StreamSpec, VendorSync

__all__ = [
    "APP_CLIENTS",
    "APP_PAYMENTS",
    "CHARGES",
    "CUSTOMERS",
    "PAYMENT_INTENTS",
    "REFUNDS",
    "STREAMS_BY_NAME",
    "STRIPE",
    "merge_clients",
    "merge_payments",
    "stripe",
]

PROVIDER = "stripe"
CUSTOMERS = dg.AssetKey(["stripe", "customers"])
CHARGES = dg.AssetKey(["stripe", "charges"])
PAYMENT_INTENTS = dg.AssetKey(["stripe", "payment_intents"])
REFUNDS = dg.AssetKey(["stripe", "refunds"])
APP_CLIENTS = dg.AssetKey(["app", "clients_from_stripe"])
APP_PAYMENTS = dg.AssetKey(["app", "payments_from_stripe"])


def _stream(name: str, asset_key: dg.AssetKey, table, map_record, description: str) -> StreamSpec:
    return StreamSpec(
        name=name,
        asset_key=asset_key,
        table=table,
        description=f"{description} (incremental on `created` + starting_after; changes to older objects "
        "from the events API).",
        map_record=map_record,
        record_id=lambda payload: str(payload["id"]),
        pages=lambda client, cursor, page_size: client.pages(name, cursor, page_size),
        window_pages=lambda client, start, page_size: client.created_pages(name, start, page_size),
        is_tombstone=is_deleted,
    )


# Stripe's values fill what the client lacks; they never blank a field the firm (or another vendor) set (the
# linked client is looked up per customer).
CLIENTS = ClientSource(
    provider=PROVIDER,
    rows="""
        select w.firm_id, w.connection_id, w.external_id,
               coalesce(w.name, c.name, w.email, 'Stripe customer ' || w.external_id) as name,
               coalesce(w.email, c.email) as email, coalesce(w.phone, c.phone) as phone,
               coalesce(w.address_line1, c.address_line1) as address_line1, coalesce(w.city, c.city) as city,
               coalesce(w.region, c.region) as region, coalesce(w.postal_code, c.postal_code) as postal_code,
               coalesce(w.country, c.country) as country, coalesce(c.status, 'active') as status,
               null::timestamptz as updated_at
        from warehouse.stripe_customers w
        left join lateral (
            select k.name, k.email, k.phone, k.address_line1, k.city, k.region, k.postal_code, k.country,
                   k.status
            from app.external_refs r join app.clients k on k.id = r.entity_id
            where r.connection_id = w.connection_id and r.entity = 'client' and r.external_id = w.external_id
            limit 1
        ) c on true
        where w.connection_id = :connection_id and w.firm_id = :firm_id
          and (w.deleted_at is null or exists (
               select 1 from app.external_refs r
               where r.connection_id = w.connection_id and r.entity = 'client'
                 and r.external_id = w.external_id))
    """,
)


def merge_clients(session, tenant, connection_id) -> dict[str, int]:
    """Stripe customers → app.clients (`pipelines/client_merge.py`: link by e-mail/name, outbox guard).

    Hash joins only, for these set-based statements: right after a first load (or in the transaction that
    just created the clients) the planner has no statistics, estimates one row everywhere and nests loops
    over thousands of rows (measured: 25 s for 400 customers, minutes for 2,000)."""
    session.execute(text("set local enable_nestloop = off"))  # until the transaction ends, or reset below
    counts = client_merge.merge_clients(CLIENTS, session, tenant, connection_id)
    session.execute(text("set local enable_nestloop = on"))
    return counts


STRIPE = VendorSync(
    provider=PROVIDER,
    group="stripe",
    partitions=stripe_connections,
    credentials_model=StripeCredentials,
    client_resource="stripe",
    kinds=frozenset({"stripe", "postgres"}),
    streams=(
        _stream("customers", CUSTOMERS, STRIPE_CUSTOMERS, customer_to_row, "Stripe customers"),
        _stream("charges", CHARGES, STRIPE_CHARGES, charge_to_row, "Stripe charges"),
        _stream(
            "payment_intents",
            PAYMENT_INTENTS,
            STRIPE_PAYMENT_INTENTS,
            payment_intent_to_row,
            "Stripe payment intents",
        ),
        _stream("refunds", REFUNDS, STRIPE_REFUNDS, refund_to_row, "Stripe refunds"),
    ),
    canonical=(
        CanonicalSpec(
            asset_key=APP_CLIENTS,
            deps=(CUSTOMERS,),
            description="Stripe customers linked to the firm's clients by e-mail or name through "
            "app.external_refs (a client created for a customer matching none); Stripe fills a client's "
            "missing fields, never blanks one.",
            merge=merge_clients,
            changes_downstream=client_merge.links_changed,
        ),
        CanonicalSpec(
            asset_key=APP_PAYMENTS,
            deps=(CHARGES, PAYMENT_INTENTS, REFUNDS, APP_CLIENTS),
            description="Succeeded Stripe charges merged into app.payments (net of refunds, exact in the "
            "charge's currency), applied to the invoice their metadata or Stripe invoice names; invoices "
            "re-settled (a refund re-opens what it reduced).",
            merge=merge_payments,
        ),
    ),
)

STREAMS_BY_NAME = {stream.name: stream for stream in STRIPE.streams}

stripe = build_vendor_definitions(STRIPE)
