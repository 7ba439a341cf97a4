from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from core_api.calendar.repository import EventRepository
from core_api.calendar.schemas import EventCreate, EventOut, EventUpdate
from core_api.clients.repository import ClientRepository, ContactRepository
from core_api.clients.service import ref_outs
from core_api.errors import ProblemError
from core_api.models import CalendarEvent
from core_api.tenancy import TenantContext


def _invalid(field: str, message: str) -> ProblemError:
    return ProblemError(422, "Validation Error", message, errors=[{"field": field, "message": message}])


def to_out(event: CalendarEvent, refs: list | None = None) -> EventOut:
    out = EventOut.model_validate(event)
    out.external_refs = ref_outs(refs)
    return out


def _check(session: Session, tenant: TenantContext, event: dict) -> None:
    """Everything an event points at must belong to the caller's firm, and the times must make sense."""
    clients = ClientRepository(session, tenant)
    if event.get("staff_user_id") is not None and not clients.is_member(event["staff_user_id"]):
        raise _invalid("staff_user_id", "not an active member of this firm")
    if event.get("client_id") is not None and clients.get(event["client_id"]) is None:
        raise _invalid("client_id", "no such client in this firm")
    if event.get("contact_id") is not None:
        contact = ContactRepository(session, tenant).get(event["contact_id"])
        if contact is None or (event.get("client_id") and contact.client_id != event["client_id"]):
            raise _invalid("contact_id", "not a contact of this client")
    if event["ends_at"] <= event["starts_at"]:
        raise _invalid("ends_at", "ends_at must be after starts_at")


def list_events(
    session: Session,
    tenant: TenantContext,
    *,
    limit: int,
    offset: int,
    sort: str,
    starts_after: datetime | None,
    starts_before: datetime | None,
    staff_user_id: uuid.UUID | None,
    client_id: uuid.UUID | None,
) -> tuple[list[EventOut], int]:
    where = []
    if starts_after:
        where.append(CalendarEvent.starts_at >= starts_after)
    if starts_before:
        where.append(CalendarEvent.starts_at < starts_before)
    if staff_user_id:
        where.append(CalendarEvent.staff_user_id == staff_user_id)
    if client_id:
        where.append(CalendarEvent.client_id == client_id)
    repo = EventRepository(session, tenant)
    rows, total = repo.list(limit=limit, offset=offset, sort=sort, where=where)
    refs = repo.external_refs([e.id for e in rows])
    return [to_out(e, refs.get(e.id)) for e in rows], total


def get_event(session: Session, tenant: TenantContext, event_id: uuid.UUID) -> EventOut:
    repo = EventRepository(session, tenant)
    event = repo.require(event_id)
    return to_out(event, repo.external_refs([event.id]).get(event.id))


def create_event(session: Session, tenant: TenantContext, body: EventCreate) -> EventOut:
    values = body.model_dump()
    _check(session, tenant, values)
    out = to_out(EventRepository(session, tenant).add(CalendarEvent(**values)))
    session.commit()
    return out


def update_event(
    session: Session, tenant: TenantContext, event_id: uuid.UUID, body: EventUpdate, if_match: int | None
) -> EventOut:
    repo = EventRepository(session, tenant)
    event = repo.require(event_id, for_update=True)
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    for required in ("title", "staff_user_id", "starts_at", "ends_at", "timezone"):
        if required in changes and changes[required] is None:
            raise _invalid(required, "may not be null")
    merged = {
        c: getattr(event, c) for c in ("staff_user_id", "client_id", "contact_id", "starts_at", "ends_at")
    }
    merged.update(changes)
    _check(session, tenant, merged)
    repo.update(event, changes, expected_version=body.version if body.version is not None else if_match)
    out = to_out(event, repo.external_refs([event.id]).get(event.id))
    session.commit()
    return out


def delete_event(session: Session, tenant: TenantContext, event_id: uuid.UUID, if_match: int | None) -> None:
    repo = EventRepository(session, tenant)
    repo.soft_delete(repo.require(event_id, for_update=True), expected_version=if_match)
    session.commit()
