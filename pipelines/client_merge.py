"""Vendor customers → app.clients, linked through app.external_refs: one rule for every accounting vendor.

Each vendor supplies a SELECT of its warehouse rows in the canonical shape (`ClientSource.rows`); the merge
then, in the caller's tenant transaction:

1. LINKS an unlinked vendor record to the firm's existing live client that is the same party and has no
   reference from this provider yet: same e-mail (case-insensitive), or — for a record without e-mail —
   the exact same name. A firm with the same clients in QuickBooks and Xero (the demo) gets one client with
   two external_refs, whichever vendor syncs first. Ties go to the oldest client, and one client takes one
   record per provider.
2. UPDATES linked clients whose values differ — except a client with a pending outbox change newer than
   the vendor's `updated_at` (ADR 0009): that local edit is about to be pushed, and a pull must not undo it.
3. CREATES a client (and its reference) for every record still unlinked.

Merges of one firm are serialised with a transaction-scoped advisory lock, so two vendors syncing the same
new party at once cannot both create it. Writes are plain SQL, so they never echo into the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

from sqlalchemy import text

# Canonical columns a source SELECT must yield (besides firm_id, connection_id, external_id).
VALUES = ("name", "email", "phone", "address_line1", "city", "region", "postal_code", "country", "status")


@dataclass(frozen=True)
class ClientSource:
    """`rows`: SELECT firm_id, connection_id, external_id, <VALUES>, updated_at — filtered on
    `:connection_id` and `:firm_id` — of the vendor records that are the firm's clients."""

    provider: str
    rows: str


LOCK = text("select pg_advisory_xact_lock(hashtextextended('firmsync:client-merge:' || :firm_id, 0))")

_LINK = """
    with src as ($rows),
    unlinked as (
        select s.* from src s
        where not exists (
            select 1 from app.external_refs r
            where r.connection_id = s.connection_id and r.entity = 'client' and r.external_id = s.external_id)
    ), candidates as (
        select u.firm_id, u.connection_id, u.external_id, c.id as client_id,
               row_number() over (partition by u.external_id order by c.created_at, c.id) as rank_for_record
        from unlinked u
        join app.clients c on c.firm_id = u.firm_id and c.deleted_at is null
        where (case when u.email is not null then lower(c.email) = lower(u.email) else c.name = u.name end)
          and not exists (
            select 1 from app.external_refs r
            where r.firm_id = c.firm_id and r.entity = 'client' and r.entity_id = c.id
              and r.provider = :provider)
    ), claims as (
        select *, row_number() over (partition by client_id order by external_id) as rank_for_client
        from candidates where rank_for_record = 1
    )
    insert into app.external_refs (id, firm_id, entity, entity_id, provider, connection_id, external_id)
    select gen_random_uuid(), firm_id, 'client', client_id, :provider, connection_id, external_id
    from claims where rank_for_client = 1
"""

_UPDATE = """
    with src as ($rows)
    update app.clients c set
        name = s.name, email = s.email, phone = s.phone, address_line1 = s.address_line1, city = s.city,
        region = s.region, postal_code = s.postal_code, country = s.country, status = s.status,
        version = c.version + 1, updated_at = now()
    from src s
    join app.external_refs r
      on r.connection_id = s.connection_id and r.entity = 'client' and r.external_id = s.external_id
    where r.entity_id = c.id and c.firm_id = :firm_id and c.deleted_at is null
      and (c.name, c.email, c.phone, c.address_line1, c.city, c.region, c.postal_code, c.country, c.status)
          is distinct from
          (s.name, s.email, s.phone, s.address_line1, s.city, s.region, s.postal_code, s.country, s.status)
      and not exists ($pending)
"""

# A local edit waiting in the outbox that is newer than the vendor's copy wins (ADR 0009).
_PENDING = """
    select 1 from app.outbox o
    where o.firm_id = c.firm_id and o.entity = 'client' and o.entity_id = c.id and o.status = 'pending'
      and o.created_at > coalesce(s.updated_at, '-infinity'::timestamptz)
"""

_HELD = """
    with src as ($rows)
    select count(*) from src s
    join app.external_refs r
      on r.connection_id = s.connection_id and r.entity = 'client' and r.external_id = s.external_id
    join app.clients c on c.id = r.entity_id and c.firm_id = :firm_id and c.deleted_at is null
    where exists ($pending)
"""

# `fresh` is referenced twice, so Postgres materialises it: each row keeps one generated id.
_INSERT = """
    with src as ($rows),
    fresh as (
        select gen_random_uuid() as client_id, s.*
        from src s
        where not exists (
            select 1 from app.external_refs r
            where r.connection_id = s.connection_id and r.entity = 'client' and r.external_id = s.external_id)
    ), created as (
        insert into app.clients (id, firm_id, name, email, phone, address_line1, city, region, postal_code,
                                 country, status)
        select client_id, firm_id, name, email, phone, address_line1, city, region, postal_code,
               country, status
        from fresh
        returning id
    )
    insert into app.external_refs (id, firm_id, entity, entity_id, provider, connection_id, external_id)
    select gen_random_uuid(), f.firm_id, 'client', f.client_id, :provider, f.connection_id, f.external_id
    from fresh f join created c on c.id = f.client_id
"""

LINKED = text(
    "select count(*) from app.external_refs where connection_id = :connection_id and entity = 'client'"
)


def _sql(template: str, source: ClientSource):
    return text(Template(template).substitute(rows=source.rows, pending=_PENDING))


def merge_clients(source: ClientSource, session, tenant, connection_id) -> dict[str, int]:
    params = {"connection_id": connection_id, "firm_id": tenant.firm_id, "provider": source.provider}
    session.execute(LOCK, {"firm_id": str(tenant.firm_id)})
    matched = session.execute(_sql(_LINK, source), params).rowcount or 0
    updated = session.execute(_sql(_UPDATE, source), params).rowcount or 0
    held = session.execute(_sql(_HELD, source), params).scalar_one()
    created = session.execute(_sql(_INSERT, source), params).rowcount or 0
    linked = session.execute(LINKED, params).scalar_one()
    return {
        "clients_created": created,
        "clients_updated": updated,
        "clients_matched": matched,  # linked this run to a client another vendor (or the firm) had
        "clients_held_for_push": held,  # pending local edits newer than the vendor's copy
        "clients_linked": linked,
    }


def links_changed(counts: dict[str, int]) -> bool:
    """What merges downstream of clients read is the links: a client created or matched (edits of a client's
    own fields change no invoice or payment)."""
    return bool(counts.get("clients_created") or counts.get("clients_matched"))
