from __future__ import annotations

import logging
import uuid
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors import registry
from connectors.base import ConnectorError
from core_api.connections.repository import ConnectionRepository
from core_api.connections.schemas import (
    ConnectionCreate,
    ConnectionOut,
    ConnectionUpdate,
    CredentialsReplace,
    DeadLetterOut,
    LastSync,
    MappingOut,
    SyncConflictOut,
    SyncRequestOut,
)
from core_api.connections.secrets import open_credentials, seal_credentials
from core_api.errors import Conflict, NotFound, ProblemError
from core_api.models import Connection, DeadLetter, SyncConflict
from core_api.tenancy import TenantContext

log = logging.getLogger(__name__)


def to_out(c: Connection) -> ConnectionOut:
    return ConnectionOut(
        id=c.id,
        provider=c.provider,
        display_name=c.display_name,
        account_id=c.account_id,
        config=c.config,
        status=c.status,
        status_detail=c.status_detail,
        sync_interval_minutes=c.sync_interval_minutes,
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
        sync_interval_minutes=body.sync_interval_minutes,
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
    _revoke_grant(connection)
    repo.soft_delete(connection)
    session.commit()


def _revoke_grant(connection: Connection) -> None:
    """Disconnecting revokes the vendor grant (OAuth providers), so a leaked copy of it is worthless too.

    Best effort: a vendor that is down must not keep the firm from removing the connection; the outcome,
    never a secret, is logged. The credentials are dropped from the row either way.
    """
    spec = registry.get_connector(connection.provider)
    if spec.oauth is None or connection.credentials_encrypted is None:
        return
    try:
        spec.oauth.revoke(
            spec.config_model.model_validate(connection.config),
            spec.credentials_model.model_validate(open_credentials(connection)),
        )
    except (ConnectorError, ValueError, ValidationError) as exc:
        log.warning(
            "revoking %s connection %s failed: %s", connection.provider, connection.id, type(exc).__name__
        )


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


def update_connection(
    session: Session, tenant: TenantContext, connection_id: uuid.UUID, body: ConnectionUpdate
) -> ConnectionOut:
    repo = ConnectionRepository(session, tenant)
    connection = repo.get(connection_id, for_update=True)
    if connection is None:
        raise NotFound("connection")
    for field, value in body.model_dump(exclude_unset=True).items():
        if value is None:
            message = "may not be null"
            raise ProblemError(
                422, "Validation Error", f"{field} {message}", errors=[{"field": field, "message": message}]
            )
        if field == "config":
            _set_config(connection, value)
            continue
        setattr(connection, field, value)
    session.flush()
    session.refresh(connection)
    out = to_out(connection)
    session.commit()
    return out


def replace_credentials(
    session: Session, tenant: TenantContext, connection_id: uuid.UUID, body: CredentialsReplace
) -> ConnectionOut:
    """Swap a connection's credentials in place, keeping its history, cursors and refs. A connection the
    vendor locked out (`needs_reauth`, or `error`) is active again: its next sync tries the new ones."""
    repo = ConnectionRepository(session, tenant)
    connection = repo.get(connection_id, for_update=True)
    if connection is None:
        raise NotFound("connection")
    spec = registry.get_connector(connection.provider)
    try:
        credentials = spec.credentials_model.model_validate(body.credentials)
    except ValidationError as exc:
        raise _invalid("credentials", exc) from None
    seal_credentials(connection, credentials)
    if connection.status in ("needs_reauth", "error"):
        connection.status, connection.status_detail = "active", None
    session.flush()
    session.refresh(connection)
    out = to_out(connection)
    session.commit()
    return out


def _set_config(connection: Connection, value: dict[str, Any]) -> None:
    """A new config, validated as on create; the account is the connection's identity and stays. A
    connection in `error` (e.g. a Slack channel that was gone) gets another chance with it."""
    spec = registry.get_connector(connection.provider)
    try:
        config = spec.config_model.model_validate(value)
    except ValidationError as exc:
        raise _invalid("config", exc) from None
    if spec.account_id(config) != connection.account_id:
        message = f"names another account than this connection's ({connection.account_id})"
        raise ProblemError(
            422, "Validation Error", f"config {message}", errors=[{"field": "config", "message": message}]
        )
    connection.config = config.model_dump(mode="json")
    if connection.status == "error":
        connection.status, connection.status_detail = "active", None


def list_dead_letters(
    session: Session,
    tenant: TenantContext,
    *,
    limit: int,
    offset: int,
    connection_id: uuid.UUID | None,
    status: str | None,
) -> tuple[list[DeadLetterOut], int]:
    query = select(DeadLetter).where(DeadLetter.firm_id == tenant.firm_id)
    if connection_id:
        query = query.where(DeadLetter.connection_id == connection_id)
    if status:
        query = query.where(DeadLetter.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(DeadLetter.created_at.desc(), DeadLetter.id).limit(limit).offset(offset)
    )
    return [DeadLetterOut.model_validate(r) for r in rows], total


def list_sync_conflicts(
    session: Session,
    tenant: TenantContext,
    *,
    limit: int,
    offset: int,
    connection_id: uuid.UUID | None,
) -> tuple[list[SyncConflictOut], int]:
    query = select(SyncConflict).where(SyncConflict.firm_id == tenant.firm_id)
    if connection_id:
        query = query.where(SyncConflict.connection_id == connection_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(SyncConflict.created_at.desc(), SyncConflict.id).limit(limit).offset(offset)
    )
    return [SyncConflictOut.model_validate(r) for r in rows], total


def retry_dead_letter(session: Session, tenant: TenantContext, letter_id: uuid.UUID) -> DeadLetterOut:
    """Mark a record for the `reprocess_dead_letters` job (operators run it from the Dagster UI)."""
    letter = session.scalar(
        select(DeadLetter)
        .where(DeadLetter.firm_id == tenant.firm_id, DeadLetter.id == letter_id)
        .with_for_update()
    )
    if letter is None:
        raise NotFound("dead letter")
    if letter.status == "resolved":
        raise Conflict("this record was already re-processed successfully")
    letter.status = "retry"
    session.flush()
    out = DeadLetterOut.model_validate(letter)
    session.commit()
    return out


def get_mapping(session: Session, tenant: TenantContext, connection_id: uuid.UUID) -> MappingOut:
    connection = ConnectionRepository(session, tenant).get(connection_id)
    if connection is None:
        raise NotFound("connection")
    model = _mapping_model(connection.provider)
    return _mapping_out(connection, connection.mapping, model)


def put_mapping(
    session: Session, tenant: TenantContext, connection_id: uuid.UUID, body: dict[str, Any]
) -> MappingOut:
    """Replace how this connection maps local records onto the vendor's (the connector's model checks it)."""
    connection = ConnectionRepository(session, tenant).get(connection_id, for_update=True)
    if connection is None:
        raise NotFound("connection")
    model = _mapping_model(connection.provider)
    try:
        mapping = model.model_validate(body)
    except ValidationError as exc:
        raise _invalid("mapping", exc) from None
    connection.mapping = mapping.model_dump(mode="json")
    session.flush()
    out = _mapping_out(connection, connection.mapping, model)
    session.commit()
    return out


def _mapping_model(provider: str) -> type[BaseModel]:
    model = registry.get_connector(provider).mapping_model
    if model is None:
        raise NotFound("mapping for this provider")
    return model


def _mapping_out(connection: Connection, mapping: dict[str, Any], model: type[BaseModel]) -> MappingOut:
    try:
        model.model_validate(mapping)
        complete = True
    except ValidationError:
        complete = False  # a new connection's mapping is empty until the firm fills it in
    return MappingOut(
        connection_id=connection.id,
        provider=connection.provider,
        mapping=mapping,
        complete=complete,
        mapping_schema=model.model_json_schema(),
    )
