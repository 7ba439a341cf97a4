"""Vendor people → app.contacts of the linked client, through app.external_refs (entity 'contact').

Each vendor supplies a SELECT of the people its warehouse holds for its customer records
(`ContactSource.rows`: the QuickBooks customer's own name and e-mail, Xero's contact person fields and its
`ContactPersons`). The merge runs after the client merge, in the caller's tenant transaction, and only for
people whose customer record is linked to a client (`app.external_refs` entity 'client'):

1. LINKS an unlinked person to a live contact of that client with the same e-mail (case-insensitive) or,
   without e-mail, the same first and last name — a contact the firm typed in, or the same person synced
   from another vendor.
2. UPDATES linked contacts whose values differ when the vendor's record is newer than the contact (the rule
   of DESIGN "two-way": last writer wins on `updated` time unless the platform's copy is newer).
3. CREATES a contact (and its reference) for every person still unlinked.

People who disappear at the vendor are left alone: a contact is the firm's record of a person. Plain SQL,
so pulled people never echo into the outbox or the audit log as user edits.
"""

from __future__ import annotations

from dataclasses import dataclass
from string import Template

from sqlalchemy import text

from pipelines.client_merge import LOCK


@dataclass(frozen=True)
class ContactSource:
    """`rows`: SELECT firm_id, connection_id, client_external_id, external_id, first_name, last_name,
    email, phone, updated_at — filtered on `:connection_id` and `:firm_id`; `external_id` unique per
    connection."""

    provider: str
    rows: str


# Source people whose customer record is linked to a live client, with that client's id.
_LINKED = """
    select s.*, c.id as client_id
    from ($rows) s
    join app.external_refs cr
      on cr.connection_id = s.connection_id and cr.entity = 'client' and cr.external_id = s.client_external_id
    join app.clients c on c.id = cr.entity_id and c.firm_id = :firm_id and c.deleted_at is null
"""

_LINK = """
    with src as ($linked),
    unlinked as (
        select s.* from src s
        where not exists (
            select 1 from app.external_refs r
            where r.connection_id = s.connection_id and r.entity = 'contact'
              and r.external_id = s.external_id)
    ), candidates as (
        select u.firm_id, u.connection_id, u.external_id, k.id as contact_id,
               row_number() over (partition by u.external_id order by k.created_at, k.id) as rank_for_person
        from unlinked u
        join app.contacts k on k.client_id = u.client_id and k.firm_id = u.firm_id and k.deleted_at is null
        where (case when u.email is not null then lower(k.email) = lower(u.email)
                    else (k.first_name, k.last_name) = (u.first_name, u.last_name) end)
          and not exists (
            select 1 from app.external_refs r
            where r.firm_id = k.firm_id and r.entity = 'contact' and r.entity_id = k.id
              and r.connection_id = u.connection_id)
    ), claims as (
        select *, row_number() over (partition by contact_id order by external_id) as rank_for_contact
        from candidates where rank_for_person = 1
    )
    insert into app.external_refs (id, firm_id, entity, entity_id, provider, connection_id, external_id)
    select gen_random_uuid(), firm_id, 'contact', contact_id, :provider, connection_id, external_id
    from claims where rank_for_contact = 1
"""

_UPDATE = """
    with src as ($linked)
    update app.contacts k set
        first_name = s.first_name, last_name = s.last_name, email = s.email,
        phone = coalesce(s.phone, k.phone), version = k.version + 1, updated_at = now()
    from src s
    join app.external_refs r
      on r.connection_id = s.connection_id and r.entity = 'contact' and r.external_id = s.external_id
    where r.entity_id = k.id and k.firm_id = :firm_id and k.deleted_at is null
      and (k.first_name, k.last_name, k.email, k.phone)
          is distinct from (s.first_name, s.last_name, s.email, coalesce(s.phone, k.phone))
      and k.updated_at < coalesce(s.updated_at, 'infinity'::timestamptz)
"""

# `fresh` is referenced twice, so Postgres materialises it: each row keeps one generated id.
_INSERT = """
    with src as ($linked),
    fresh as (
        select gen_random_uuid() as contact_id, s.*
        from src s
        where not exists (
            select 1 from app.external_refs r
            where r.connection_id = s.connection_id and r.entity = 'contact'
              and r.external_id = s.external_id)
    ), created as (
        insert into app.contacts (id, firm_id, client_id, first_name, last_name, email, phone)
        select contact_id, firm_id, client_id, first_name, last_name, email, phone from fresh
        returning id
    )
    insert into app.external_refs (id, firm_id, entity, entity_id, provider, connection_id, external_id)
    select gen_random_uuid(), f.firm_id, 'contact', f.contact_id, :provider, f.connection_id, f.external_id
    from fresh f join created c on c.id = f.contact_id
"""


def _sql(template: str, source: ContactSource):
    linked = Template(_LINKED).substitute(rows=source.rows)
    return text(Template(template).substitute(linked=linked))


def merge_contacts(source: ContactSource, session, tenant, connection_id) -> dict[str, int]:
    params = {"connection_id": connection_id, "firm_id": tenant.firm_id, "provider": source.provider}
    session.execute(LOCK, {"firm_id": str(tenant.firm_id)})  # the client merge's lock: one firm at a time
    matched = session.execute(_sql(_LINK, source), params).rowcount or 0
    updated = session.execute(_sql(_UPDATE, source), params).rowcount or 0
    created = session.execute(_sql(_INSERT, source), params).rowcount or 0
    return {"contacts_created": created, "contacts_updated": updated, "contacts_matched": matched}
