from __future__ import annotations

import uuid

from pydantic import ValidationError
from sqlalchemy.orm import Session

from connectors import registry
from core_api.connections.repository import ConnectionRepository
from core_api.connections.schemas import ConnectionCreate, ConnectionOut, LastSync, SyncRequestOut
from core_api.connections.secrets import seal_credentials
from core_api.errors import Conflict, NotFound, ProblemError
from core_api.models import Connection
from core_api.tenancy import TenantContext


def to_out(c: Connection) -> ConnectionOut:
    return ConnectionOut(
        id=c.id,
        provider=c.provider,
        display_name=c.display_name,
        account_id=c.account_id,
        config=c.config,
        status=c.status,
        status_detail=c.status_detail,
        last_sync=LastSync(
            at=c.last_sync_at, status=c.last_sync_status, records=c.last_sync_records, error=c.last_sync_error
        ),
        created_at=c.created_at,
        updated_at=c.updated_at,
    )


def _invalid(prefix: str, exc: ValidationError) -> ProblemError:
    errors = [
        {"field": ".".join([prefix, *(str(p) for p in e["loc"])]), "message": e["msg"]} for e in exc.errors()
    ]
    return ProblemError(
        422, "Validation Error", f"The {prefix} is not valid for this provider.", errors=errors
    )


def create_connection(session: Session, tenant: TenantContext, body: ConnectionCreate) -> ConnectionOut:
    try:
        spec = registry.get_connector(body.provider)
    except registry.UnknownProviderError as exc:
        raise ProblemError(
            422, "Validation Error", str(exc), errors=[{"field": "provider", "message": str(exc)}]
        ) from None
    try:
        config = spec.config_model.model_validate(body.config)
    except ValidationError as exc:
        raise _invalid("config", exc) from None
    try:
        credentials = spec.credentials_model.model_validate(body.credentials)
    except ValidationError as exc:
        raise _invalid("credentials", exc) from None

    repo = ConnectionRepository(session, tenant)
    account_id = spec.account_id(config)
    if repo.find_account(body.provider, account_id) is not None:
        raise Conflict(
            f"this firm already has a {body.provider} connection for account {account_id}", field="config"
        )
    connection = Connection(
        provider=body.provider,
        account_id=account_id,
        display_name=body.display_name or f"{spec.display_name} {account_id}",
        config=config.model_dump(mode="json"),
        created_by=tenant.user_id,
    )
    seal_credentials(connection, credentials)
    out = to_out(repo.add(connection))
    session.commit()
    return out


def list_connections(
    session: Session, tenant: TenantContext, *, limit: int, offset: int, provider: str | None
) -> tuple[list[ConnectionOut], int]:
    rows, total = ConnectionRepository(session, tenant).list(limit=limit, offset=offset, provider=provider)
    return [to_out(c) for c in rows], total


def get_connection(session: Session, tenant: TenantContext, connection_id: uuid.UUID) -> ConnectionOut:
    connection = ConnectionRepository(session, tenant).get(connection_id)
    if connection is None:
        raise NotFound("connection")
    return to_out(connection)


def delete_connection(session: Session, tenant: TenantContext, connection_id: uuid.UUID) -> None:
    repo = ConnectionRepository(session, tenant)
    connection = repo.get(connection_id, for_update=True)
    if connection is None:
        raise NotFound("connection")
    repo.soft_delete(connection)
    session.commit()


def request_sync(
    session: Session, tenant: TenantContext, connection_id: uuid.UUID, *, full_refresh: bool
) -> SyncRequestOut:
    repo = ConnectionRepository(session, tenant)
    connection = repo.get(connection_id)
    if connection is None:
        raise NotFound("connection")
    if connection.status == "disabled":
        raise Conflict("the connection is disabled")
    out = SyncRequestOut.model_validate(
        repo.request_sync(connection, requested_by=tenant.user_id, full_refresh=full_refresh)
    )
    session.commit()
    return out


def get_sync_request(session: Session, tenant: TenantContext, request_id: uuid.UUID) -> SyncRequestOut:
    request = ConnectionRepository(session, tenant).get_sync_request(request_id)
    if request is None:
        raise NotFound("sync request")
    return SyncRequestOut.model_validate(request)
