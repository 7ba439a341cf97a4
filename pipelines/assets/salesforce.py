"""Salesforce, declared: each org's accounts, contacts, leads and opportunities → warehouse.salesforce_* →
app.clients, app.contacts and app.leads; assets built by the asset factory.

Four streams, each incremental through `SalesforceClient.pages` (SystemModstamp and Id, queryMore paging)
with deletions from getDeleted as tombstones: the row keeps its last known columns and gets `deleted_at`.
The cursor is the connector's JSON (opaque to the checks). Opportunities stay in the warehouse.

Merges (ADR 0016):
- accounts → app.clients through `pipelines/client_merge.py` (entity 'client'): linked to the firm's client
  of the same e-mail — an account has none of its own, so its first contact's, or its client's once
  linked — or, without one, the same name (the same party from QuickBooks or Xero); a deleted account makes
  its client inactive.
- contacts → app.contacts of the account's client through `pipelines/contact_merge.py` (entity 'contact').
- leads → app.leads (entity 'lead'): a lead that came back with firmsync's id in the external-id field (one
  this platform pushed) links to it, else to a live local lead of the same e-mail, else a lead is created.
  A linked lead is updated, and a deleted one soft-deleted, only when Salesforce's change is newer than the
  local copy (DESIGN: last writer wins on `updated` time unless the platform's copy is newer).
Writes are plain SQL: they never echo into the outbox.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from sqlalchemy import text

from connectors.salesforce.config import SalesforceCredentials
from connectors.salesforce.mapping import (
    account_to_row,
    contact_to_row,
    is_deleted,
    lead_to_row,
    opportunity_to_row,
)
from core_api.models.warehouse_crm import (
    SALESFORCE_ACCOUNTS,
    SALESFORCE_CONTACTS,
    SALESFORCE_LEADS,
    SALESFORCE_OPPORTUNITIES,
)
from pipelines import client_merge, contact_merge
from pipelines.client_merge import ClientSource
from pipelines.contact_merge import ContactSource
from pipelines.factory import build_vendor_definitions
from pipelines.partitions import salesforce_connections
from pipelines.streams import CanonicalSpec, StreamSpec, VendorSync

__all__ = ["SALESFORCE", "merge_accounts", "merge_contacts", "merge_leads", "salesforce"]

PROVIDER = "salesforce"
ACCOUNTS = dg.AssetKey(["salesforce", "accounts"])
CONTACTS = dg.AssetKey(["salesforce", "contacts"])
LEADS = dg.AssetKey(["salesforce", "leads"])
OPPORTUNITIES = dg.AssetKey(["salesforce", "opportunities"])
APP_CLIENTS = dg.AssetKey(["app", "clients_from_salesforce"])
APP_CONTACTS = dg.AssetKey(["app", "contacts_from_salesforce"])
APP_LEADS = dg.AssetKey(["app", "leads_from_salesforce"])

CLIENTS = ClientSource(
    provider=PROVIDER,
    rows="""
        select a.firm_id, a.connection_id, a.external_id,
               left(coalesce(nullif(a.name, ''), 'Salesforce account ' || a.external_id), 200) as name,
               left(coalesce(linked.email, first_contact.email), 320) as email, left(a.phone, 50) as phone,
               left(a.billing_street, 200) as address_line1, left(a.billing_city, 100) as city,
               left(a.billing_state, 100) as region, left(a.billing_postal_code, 20) as postal_code,
               left(a.billing_country, 100) as country,
               case when a.deleted_at is null then 'active' else 'inactive' end as status,
               a.updated_at
        from warehouse.salesforce_accounts a
        left join lateral (
            select c.email from app.external_refs r join app.clients c on c.id = r.entity_id
            where r.connection_id = a.connection_id and r.entity = 'client' and r.external_id = a.external_id
        ) linked on true
        left join lateral (
            select k.email from warehouse.salesforce_contacts k
            where k.connection_id = a.connection_id and k.account_id = a.external_id
              and k.deleted_at is null and k.email is not null
            order by k.created_at, k.external_id limit 1
        ) first_contact on true
        where a.connection_id = :connection_id and a.firm_id = :firm_id
          and (a.deleted_at is null
               or exists (select 1 from app.external_refs r
                          where r.connection_id = a.connection_id and r.entity = 'client'
                            and r.external_id = a.external_id))
    """,
)

PEOPLE = ContactSource(
    provider=PROVIDER,
    rows="""
        select k.firm_id, k.connection_id, k.account_id as client_external_id, k.external_id,
               left(coalesce(k.first_name, ''), 100) as first_name,
               left(coalesce(k.last_name, ''), 100) as last_name,
               left(k.email, 320) as email, left(k.phone, 50) as phone, k.updated_at
        from warehouse.salesforce_contacts k
        where k.connection_id = :connection_id and k.firm_id = :firm_id and k.deleted_at is null
          and k.account_id is not null
    """,
)


def merge_accounts(session, tenant, connection_id) -> dict[str, int]:
    return client_merge.merge_clients(CLIENTS, session, tenant, connection_id)


def merge_contacts(session, tenant, connection_id) -> dict[str, int]:
    return contact_merge.merge_contacts(PEOPLE, session, tenant, connection_id)


# Salesforce's default lead statuses map onto the app's (new | contacted | qualified | converted | lost).
_LEADS = text(
    """
    select l.external_id, l.deleted_at, l.updated_at, l.firmsync_id,
           left(coalesce(nullif(l.name, ''), nullif(l.company, ''), 'Salesforce lead ' || l.external_id), 200)
               as name,
           left(l.company, 200) as company_name, left(l.email, 320) as email, left(l.phone, 50) as phone,
           left(l.lead_source, 60) as source,
           case when l.is_converted then 'converted'
                when l.status ilike 'closed - converted%' then 'converted'
                when l.status ilike 'closed%' then 'lost'
                when l.status ilike 'working%' then 'contacted'
                when l.status ilike '%qualified%' then 'qualified'
                else 'new' end as status,
           r.entity_id as lead_id, a.updated_at as local_updated_at, a.deleted_at as local_deleted_at,
           a.name as local_name, a.company_name as local_company_name, a.email as local_email,
           a.phone as local_phone, a.source as local_source, a.status as local_status
    from warehouse.salesforce_leads l
    left join app.external_refs r
      on r.connection_id = l.connection_id and r.entity = 'lead' and r.external_id = l.external_id
    left join app.leads a on a.id = r.entity_id and a.firm_id = :firm_id
    where l.connection_id = :connection_id and l.firm_id = :firm_id
    order by l.system_modstamp nulls first, l.external_id
    """
)
_MATCH = text(
    """
    select a.id from app.leads a
    where a.firm_id = :firm_id and a.deleted_at is null
      and (a.id::text = :firmsync_id or (cast(:email as text) is not null and lower(a.email) = lower(:email)))
      and not exists (select 1 from app.external_refs r
                      where r.firm_id = a.firm_id and r.entity = 'lead' and r.entity_id = a.id
                        and r.connection_id = :connection_id)
    order by (a.id::text = :firmsync_id) desc, a.created_at, a.id
    limit 1
    """
)
_LINK = text(
    """
    insert into app.external_refs (id, firm_id, entity, entity_id, provider, connection_id, external_id)
    values (gen_random_uuid(), :firm_id, 'lead', :lead_id, :provider, :connection_id, :external_id)
    """
)
_INSERT = text(
    """
    insert into app.leads (id, firm_id, name, company_name, email, phone, source, status)
    values (gen_random_uuid(), :firm_id, :name, :company_name, :email, :phone, :source, :status)
    returning id
    """
)
_UPDATE = text(
    """
    update app.leads set name = :name, company_name = :company_name, email = :email, phone = :phone,
           source = coalesce(:source, source), status = :status, version = version + 1, updated_at = now()
    where id = :lead_id and firm_id = :firm_id and deleted_at is null
    """
)
_DELETE = text(
    """
    update app.leads set deleted_at = :deleted_at, version = version + 1, updated_at = now()
    where id = :lead_id and firm_id = :firm_id and deleted_at is null
    """
)
LEAD_FIELDS = ("name", "company_name", "email", "phone", "source", "status")


def _vendor_newer(row: Any) -> bool:
    """Salesforce's change (its deletion, else its last edit) is newer than the local copy's last edit."""
    changed = row.deleted_at if row.deleted_at is not None else row.updated_at
    return row.local_updated_at is None or (changed is not None and changed > row.local_updated_at)


def merge_leads(session, tenant, connection_id) -> dict[str, int]:
    """warehouse.salesforce_leads of one connection → app.leads (see the module's docstring)."""
    params = {"connection_id": connection_id, "firm_id": tenant.firm_id, "provider": PROVIDER}
    counts = dict.fromkeys(
        ("leads_created", "leads_updated", "leads_matched", "leads_deleted", "leads_held"), 0
    )
    session.execute(client_merge.LOCK, {"firm_id": str(tenant.firm_id)})
    for row in session.execute(_LEADS, params).all():
        values = {f: getattr(row, f) for f in LEAD_FIELDS} | params | {"external_id": row.external_id}
        if row.lead_id is None:
            if row.deleted_at is not None:
                continue  # deleted before this platform saw it
            match = session.execute(
                _MATCH, params | {"firmsync_id": row.firmsync_id or "", "email": row.email}
            ).scalar()
            if match is None:
                values["lead_id"] = session.execute(_INSERT, values).scalar_one()
                counts["leads_created"] += 1
            else:
                values["lead_id"] = match
                counts["leads_matched"] += 1
            session.execute(_LINK, values)
            continue
        values["lead_id"] = row.lead_id
        if row.local_deleted_at is not None:
            continue
        if row.deleted_at is not None:
            if _vendor_newer(row):
                counts["leads_deleted"] += session.execute(
                    _DELETE, values | {"deleted_at": row.deleted_at}
                ).rowcount
            else:
                counts["leads_held"] += 1
            continue
        if all(getattr(row, f) == getattr(row, f"local_{f}") for f in LEAD_FIELDS if f != "source"):
            continue
        if not _vendor_newer(row):
            counts["leads_held"] += 1  # edited here since: the platform's copy is newer
            continue
        counts["leads_updated"] += session.execute(_UPDATE, values).rowcount
    return counts


def _stream(name: str, key: dg.AssetKey, table, sobject: str, mapper, description: str) -> StreamSpec:
    return StreamSpec(
        name=name,
        asset_key=key,
        table=table,
        description=description,
        map_record=mapper,
        record_id=lambda payload: str(payload["Id"]),
        pages=lambda client, cursor, page_size: client.pages(sobject, cursor, page_size),
        deleted_at=lambda row: row.get("deleted_at"),
        is_tombstone=is_deleted,
        opaque_cursor=True,
    )


SALESFORCE = VendorSync(
    provider=PROVIDER,
    group="salesforce",
    partitions=salesforce_connections,
    credentials_model=SalesforceCredentials,
    client_resource="salesforce",
    kinds=frozenset({"salesforce", "postgres"}),
    streams=(
        _stream(
            "accounts",
            ACCOUNTS,
            SALESFORCE_ACCOUNTS,
            "Account",
            account_to_row,
            "Salesforce accounts (incremental on SystemModstamp; deleted ones kept with deleted_at).",
        ),
        _stream(
            "contacts",
            CONTACTS,
            SALESFORCE_CONTACTS,
            "Contact",
            contact_to_row,
            "Salesforce contacts with their account and firmsync's external id, if pushed from here.",
        ),
        _stream(
            "leads",
            LEADS,
            SALESFORCE_LEADS,
            "Lead",
            lead_to_row,
            "Salesforce leads (incremental on SystemModstamp; deleted ones kept with deleted_at).",
        ),
        _stream(
            "opportunities",
            OPPORTUNITIES,
            SALESFORCE_OPPORTUNITIES,
            "Opportunity",
            opportunity_to_row,
            "Salesforce opportunities of the org's accounts (warehouse only).",
        ),
    ),
    canonical=(
        CanonicalSpec(
            asset_key=APP_CLIENTS,
            deps=(ACCOUNTS, CONTACTS),
            description="Salesforce accounts merged into app.clients through app.external_refs (matched to "
            "the firm's clients by e-mail or name, e.g. the same client in QuickBooks); deleted accounts "
            "make their client inactive.",
            merge=merge_accounts,
            changes_downstream=client_merge.links_changed,
        ),
        CanonicalSpec(
            asset_key=APP_CONTACTS,
            deps=(CONTACTS, APP_CLIENTS),
            description="Salesforce contacts merged into app.contacts of their account's client (matched by "
            "e-mail or name, linked through app.external_refs entity 'contact').",
            merge=merge_contacts,
        ),
        CanonicalSpec(
            asset_key=APP_LEADS,
            deps=(LEADS,),
            description="Salesforce leads merged into app.leads (linked through app.external_refs entity "
            "'lead', by firmsync's external id or e-mail); vendor changes win only when newer.",
            merge=merge_leads,
        ),
    ),
)

salesforce = build_vendor_definitions(SALESFORCE)
