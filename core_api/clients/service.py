from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from core_api.clients.repository import ClientRepository, ContactRepository
from core_api.clients.schemas import (
    ClientCreate,
    ClientOut,
    ClientUpdate,
    ContactCreate,
    ContactListItem,
    ContactOut,
    ContactUpdate,
    ExternalRefOut,
)
from core_api.crud import escape_like
from core_api.errors import ProblemError
from core_api.models import Client, Contact
from core_api.tenancy import TenantContext


def ref_outs(refs: list | None) -> list[ExternalRefOut]:
    return [
        ExternalRefOut(provider=r.provider, connection_id=r.connection_id, external_id=r.external_id)
        for r in refs or []
    ]


def to_out(client: Client, refs: list | None = None) -> ClientOut:
    out = ClientOut.model_validate(client)
    out.external_refs = ref_outs(refs)
    return out


def contact_out(contact: Contact, refs: list | None = None) -> ContactOut:
    out = ContactOut.model_validate(contact)
    out.external_refs = ref_outs(refs)
    return out


def _invalid(field: str, message: str) -> ProblemError:
    return ProblemError(422, "Validation Error", message, errors=[{"field": field, "message": message}])


def _check_links(repo: ClientRepository, client_id: uuid.UUID | None, values: dict) -> None:
    """References must point inside the caller's firm (and a primary contact at this client)."""
    manager = values.get("account_manager_id")
    if manager is not None and not repo.is_member(manager):
        raise _invalid("account_manager_id", "not an active member of this firm")
    contact_id = values.get("primary_contact_id")
    if contact_id is not None:
        contact = ContactRepository(repo.session, repo.tenant).get(contact_id)
        if contact is None or contact.client_id != client_id:
            raise _invalid("primary_contact_id", "not a contact of this client")


def list_clients(
    session: Session,
    tenant: TenantContext,
    *,
    limit: int,
    offset: int,
    sort: str,
    q: str | None,
    status: str | None,
) -> tuple[list[ClientOut], int]:
    repo = ClientRepository(session, tenant)
    where = []
    if q:
        where.append(Client.name.ilike(f"%{escape_like(q)}%", escape="\\"))
    if status:
        where.append(Client.status == status)
    rows, total = repo.list(limit=limit, offset=offset, sort=sort, where=where)
    refs = repo.external_refs([c.id for c in rows])
    return [to_out(c, refs.get(c.id)) for c in rows], total


def get_client(session: Session, tenant: TenantContext, client_id: uuid.UUID) -> ClientOut:
    repo = ClientRepository(session, tenant)
    client = repo.require(client_id)
    return to_out(client, repo.external_refs([client.id]).get(client.id))


def create_client(session: Session, tenant: TenantContext, body: ClientCreate) -> ClientOut:
    repo = ClientRepository(session, tenant)
    values = body.model_dump()
    _check_links(repo, None, values)
    out = to_out(repo.add(Client(**values)))
    session.commit()
    return out


def update_client(
    session: Session, tenant: TenantContext, client_id: uuid.UUID, body: ClientUpdate, if_match: int | None
) -> ClientOut:
    repo = ClientRepository(session, tenant)
    client = repo.require(client_id, for_update=True)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    _check_links(repo, client.id, changes)
    expected = body.version if body.version is not None else if_match
    repo.update(client, changes, expected_version=expected)
    out = to_out(client, repo.external_refs([client.id]).get(client.id))
    session.commit()
    return out


def delete_client(
    session: Session, tenant: TenantContext, client_id: uuid.UUID, if_match: int | None
) -> None:
    repo = ClientRepository(session, tenant)
    repo.soft_delete(repo.require(client_id, for_update=True), expected_version=if_match)
    session.commit()


# --- contacts (always under a client of the caller's firm) ---


def list_contacts(
    session: Session,
    tenant: TenantContext,
    client_id: uuid.UUID,
    *,
    limit: int,
    offset: int,
    sort: str,
    q: str | None,
) -> tuple[list[ContactOut], int]:
    ClientRepository(session, tenant).require(client_id)
    where = [Contact.client_id == client_id]
    if q:
        pattern = f"%{escape_like(q)}%"
        where.append(
            Contact.first_name.ilike(pattern, escape="\\")
            | Contact.last_name.ilike(pattern, escape="\\")
            | Contact.email.ilike(pattern, escape="\\")
        )
    repo = ContactRepository(session, tenant)
    rows, total = repo.list(limit=limit, offset=offset, sort=sort, where=where)
    refs = repo.external_refs([c.id for c in rows])
    return [contact_out(c, refs.get(c.id)) for c in rows], total


def list_firm_contacts(
    session: Session,
    tenant: TenantContext,
    *,
    limit: int,
    offset: int,
    sort: str,
    q: str | None,
    client_id: uuid.UUID | None,
) -> tuple[list[ContactListItem], int]:
    """Every contact of the firm whose client is not deleted, with its client's name."""
    clients = ClientRepository(session, tenant).scoped().with_only_columns(Client.id, Client.name)
    where = [Contact.client_id.in_(clients.with_only_columns(Client.id))]
    if client_id is not None:
        where.append(Contact.client_id == client_id)
    if q:
        pattern = f"%{escape_like(q)}%"
        where.append(
            Contact.first_name.ilike(pattern, escape="\\")
            | Contact.last_name.ilike(pattern, escape="\\")
            | Contact.email.ilike(pattern, escape="\\")
        )
    repo = ContactRepository(session, tenant)
    rows, total = repo.list(limit=limit, offset=offset, sort=sort, where=where)
    names = dict(
        session.execute(clients.where(Client.id.in_({c.client_id for c in rows}))).tuples().all()
        if rows
        else []
    )
    refs = repo.external_refs([c.id for c in rows])
    items = [
        ContactListItem(**contact_out(c, refs.get(c.id)).model_dump(), client_name=names.get(c.client_id, ""))
        for c in rows
    ]
    return items, total


def _contact(
    session: Session, tenant: TenantContext, client_id: uuid.UUID, contact_id: uuid.UUID, **kw
) -> Contact:
    ClientRepository(session, tenant).require(client_id)
    contact = ContactRepository(session, tenant).require(contact_id, **kw)
    if contact.client_id != client_id:
        raise ProblemError(404, "Not Found", "contact not found")
    return contact


def get_contact(
    session: Session, tenant: TenantContext, client_id: uuid.UUID, contact_id: uuid.UUID
) -> ContactOut:
    contact = _contact(session, tenant, client_id, contact_id)
    return contact_out(
        contact, ContactRepository(session, tenant).external_refs([contact.id]).get(contact.id)
    )


def create_contact(
    session: Session, tenant: TenantContext, client_id: uuid.UUID, body: ContactCreate
) -> ContactOut:
    ClientRepository(session, tenant).require(client_id)
    values = {k: v for k, v in body.model_dump().items() if v is not None}
    out = ContactOut.model_validate(
        ContactRepository(session, tenant).add(Contact(client_id=client_id, **values))
    )
    session.commit()
    return out


def update_contact(
    session: Session,
    tenant: TenantContext,
    client_id: uuid.UUID,
    contact_id: uuid.UUID,
    body: ContactUpdate,
    if_match: int | None,
) -> ContactOut:
    contact = _contact(session, tenant, client_id, contact_id, for_update=True)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    if any(v is None for k, v in changes.items() if k in ("email_opt_out", "sms_opt_out", "call_opt_out")):
        raise _invalid("opt_out", "opt-out flags are true or false, not null")
    expected = body.version if body.version is not None else if_match
    ContactRepository(session, tenant).update(contact, changes, expected_version=expected)
    out = ContactOut.model_validate(contact)
    session.commit()
    return out


def delete_contact(
    session: Session, tenant: TenantContext, client_id: uuid.UUID, contact_id: uuid.UUID, if_match: int | None
) -> None:
    contact = _contact(session, tenant, client_id, contact_id, for_update=True)
    ContactRepository(session, tenant).soft_delete(contact, expected_version=if_match)
    session.commit()
