from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from core_api.clients.repository import ClientRepository
from core_api.clients.schemas import ClientCreate, ClientOut, ClientUpdate, ExternalRefOut
from core_api.errors import Conflict, NotFound
from core_api.models import Client
from core_api.tenancy import TenantContext


def to_out(client: Client, refs: list | None = None) -> ClientOut:
    out = ClientOut.model_validate(client)
    out.external_refs = [
        ExternalRefOut(provider=r.provider, connection_id=r.connection_id, external_id=r.external_id)
        for r in refs or []
    ]
    return out


def list_clients(session: Session, tenant: TenantContext, **filters) -> tuple[list[ClientOut], int]:
    repo = ClientRepository(session, tenant)
    rows, total = repo.list(**filters)
    refs = repo.external_refs([c.id for c in rows])
    return [to_out(c, refs.get(c.id)) for c in rows], total


def get_client(session: Session, tenant: TenantContext, client_id: uuid.UUID) -> ClientOut:
    repo = ClientRepository(session, tenant)
    client = repo.get(client_id)
    if client is None:
        raise NotFound("client")
    return to_out(client, repo.external_refs([client.id]).get(client.id))


def create_client(session: Session, tenant: TenantContext, body: ClientCreate) -> ClientOut:
    client = ClientRepository(session, tenant).add(Client(**body.model_dump()))
    out = to_out(client)
    session.commit()
    return out


def update_client(
    session: Session, tenant: TenantContext, client_id: uuid.UUID, body: ClientUpdate, if_match: int | None
) -> ClientOut:
    repo = ClientRepository(session, tenant)
    client = repo.get(client_id, for_update=True)
    if client is None:
        raise NotFound("client")
    expected = body.version if body.version is not None else if_match
    if expected is not None and expected != client.version:
        raise Conflict(
            f"client was modified (version {client.version}, you sent {expected})", field="version"
        )
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    for field, value in changes.items():
        setattr(client, field, value)
    if changes:
        client.version += 1
    session.flush()
    session.refresh(client)
    out = to_out(client, repo.external_refs([client.id]).get(client.id))
    session.commit()
    return out


def delete_client(session: Session, tenant: TenantContext, client_id: uuid.UUID) -> None:
    repo = ClientRepository(session, tenant)
    client = repo.get(client_id, for_update=True)
    if client is None:
        raise NotFound("client")
    repo.soft_delete(client)
    session.commit()
