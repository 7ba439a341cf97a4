from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from core_api.clients.repository import ClientRepository, ContactRepository
from core_api.clients.schemas import ContactOut
from core_api.clients.service import ref_outs
from core_api.clients.service import to_out as client_out
from core_api.crud import check_version, escape_like
from core_api.errors import Conflict, ProblemError
from core_api.leads.repository import LeadRepository
from core_api.leads.schemas import LeadConversion, LeadConvert, LeadCreate, LeadOut, LeadUpdate
from core_api.models import Client, Contact, Lead
from core_api.notifications import NEW_LEAD, escape, queue_notification
from core_api.tenancy import TenantContext


def _check_assignee(session: Session, tenant: TenantContext, values: dict) -> None:
    assignee = values.get("assignee_id")
    if assignee is not None and not ClientRepository(session, tenant).is_member(assignee):
        message = "not an active member of this firm"
        raise ProblemError(
            422, "Validation Error", message, errors=[{"field": "assignee_id", "message": message}]
        )


def list_leads(
    session: Session,
    tenant: TenantContext,
    *,
    limit: int,
    offset: int,
    sort: str,
    q: str | None,
    status: str | None,
    assignee_id: uuid.UUID | None,
    min_score: int | None,
) -> tuple[list[LeadOut], int]:
    where = []
    if q:
        pattern = f"%{escape_like(q)}%"
        where.append(Lead.name.ilike(pattern, escape="\\") | Lead.company_name.ilike(pattern, escape="\\"))
    if status:
        where.append(Lead.status == status)
    if assignee_id:
        where.append(Lead.assignee_id == assignee_id)
    if min_score is not None:
        where.append(Lead.score >= min_score)
    repo = LeadRepository(session, tenant)
    rows, total = repo.list(limit=limit, offset=offset, sort=sort, where=where)
    refs = repo.external_refs([r.id for r in rows])
    return [_out(r, refs.get(r.id)) for r in rows], total


def _out(lead: Lead, refs: list | None = None) -> LeadOut:
    out = LeadOut.model_validate(lead)
    out.external_refs = ref_outs(refs)
    return out


def get_lead(session: Session, tenant: TenantContext, lead_id: uuid.UUID) -> LeadOut:
    repo = LeadRepository(session, tenant)
    lead = repo.require(lead_id)
    return _out(lead, repo.external_refs([lead.id]).get(lead.id))


def create_lead(session: Session, tenant: TenantContext, body: LeadCreate) -> LeadOut:
    values = {k: v for k, v in body.model_dump().items() if v is not None}
    _check_assignee(session, tenant, values)
    lead = LeadRepository(session, tenant).add(Lead(**values))
    out = LeadOut.model_validate(lead)
    queue_notification(session, tenant.firm_id, NEW_LEAD, lead.id, _new_lead_text(lead))
    session.commit()
    return out


def _new_lead_text(lead: Lead) -> str:
    """What the firm's Slack reads of a new lead (names escaped: they are whatever was typed)."""
    who = escape(lead.name) + (f" ({escape(lead.company_name)})" if lead.company_name else "")
    source = f", from {escape(lead.source)}" if lead.source else ""
    return f"New lead: {who}{source}."


def update_lead(
    session: Session, tenant: TenantContext, lead_id: uuid.UUID, body: LeadUpdate, if_match: int | None
) -> LeadOut:
    repo = LeadRepository(session, tenant)
    lead = repo.require(lead_id, for_update=True)
    if lead.status == "converted":
        raise Conflict("a converted lead is read-only; edit its client instead")
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    if changes.get("score", 0) is None:
        changes.pop("score")
    _check_assignee(session, tenant, changes)
    repo.update(lead, changes, expected_version=body.version if body.version is not None else if_match)
    out = LeadOut.model_validate(lead)
    session.commit()
    return out


def delete_lead(session: Session, tenant: TenantContext, lead_id: uuid.UUID, if_match: int | None) -> None:
    repo = LeadRepository(session, tenant)
    repo.soft_delete(repo.require(lead_id, for_update=True), expected_version=if_match)
    session.commit()


def convert_lead(
    session: Session, tenant: TenantContext, lead_id: uuid.UUID, body: LeadConvert, if_match: int | None
) -> LeadConversion:
    """Lead → client (+ contact), all in one transaction: either everything exists afterwards or nothing."""
    leads = LeadRepository(session, tenant)
    lead = leads.require(lead_id, for_update=True)
    check_version(lead, body.version if body.version is not None else if_match)
    if lead.status in ("converted", "lost"):
        raise Conflict(f"a {lead.status} lead cannot be converted", field="status")

    client = ClientRepository(session, tenant).add(
        Client(
            name=body.client_name or lead.company_name or lead.name,
            email=lead.email,
            phone=lead.phone,
            notes=lead.notes,
            account_manager_id=lead.assignee_id,
        )
    )
    contact = None
    if body.create_contact:
        first, _, last = lead.name.partition(" ")
        contact = ContactRepository(session, tenant).add(
            Contact(client_id=client.id, first_name=first, last_name=last, email=lead.email, phone=lead.phone)
        )
        client.primary_contact_id = contact.id
    lead.status, lead.converted_client_id, lead.converted_at = "converted", client.id, datetime.now(UTC)
    session.flush()
    session.refresh(client)
    session.refresh(lead)
    result = LeadConversion(
        lead=LeadOut.model_validate(lead),
        client=client_out(client),
        contact=ContactOut.model_validate(contact) if contact else None,
    )
    session.commit()
    return result
