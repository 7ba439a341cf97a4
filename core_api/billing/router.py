"""Engagements, invoices, payments and allocations (issue 3).

Permissions: engagements:read/write for engagements; invoices:read/write for invoices, payments and
allocations. The invoice status machine is described in `core_api.billing.service`.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Query, Response, status
from sqlalchemy.orm import Session

from core_api.auth.dependencies import require, tenant_db
from core_api.billing import service
from core_api.billing.repository import (
    AllocationRepository,
    EngagementRepository,
    InvoiceRepository,
    PaymentRepository,
)
from core_api.billing.schemas import (
    NO_NUL,
    AllocationCreate,
    AllocationOut,
    EngagementCreate,
    EngagementOut,
    EngagementStatus,
    EngagementUpdate,
    InvoiceCreate,
    InvoiceOut,
    InvoiceStatus,
    InvoiceUpdate,
    PaymentCreate,
    PaymentMethod,
    PaymentOut,
    PaymentUpdate,
    PricingMode,
)
from core_api.http import COMMON_ERRORS, ITEM_ERRORS, WRITE_ERRORS, if_match, set_etag
from core_api.pagination import Page, PageParams, page_params
from core_api.permissions import Permission
from core_api.tenancy import TenantContext

router = APIRouter(prefix="/api/v1", tags=["billing"], responses=COMMON_ERRORS)
EngagementSort = Literal[tuple(EngagementRepository.sorts)]  # type: ignore[valid-type]
InvoiceSort = Literal[tuple(InvoiceRepository.sorts)]  # type: ignore[valid-type]
PaymentSort = Literal[tuple(PaymentRepository.sorts)]  # type: ignore[valid-type]
AllocationSort = Literal[tuple(AllocationRepository.sorts)]  # type: ignore[valid-type]
ENGAGEMENTS_READ = Depends(require(Permission.engagements_read))
ENGAGEMENTS_WRITE = Depends(require(Permission.engagements_write))
INVOICES_READ = Depends(require(Permission.invoices_read))
INVOICES_WRITE = Depends(require(Permission.invoices_write))


def _search(description: str):
    return Query(None, max_length=200, pattern=NO_NUL, description=description)


# --- engagements ---


@router.get("/engagements", response_model=Page[EngagementOut], tags=["engagements"])
def list_engagements(
    page: PageParams = Depends(page_params),
    q: str | None = _search("Case-insensitive title search."),
    status_: EngagementStatus | None = Query(None, alias="status"),
    client_id: uuid.UUID | None = Query(None),
    pricing_mode: PricingMode | None = Query(None),
    start_date_from: date | None = Query(None, description="Start date on or after."),
    start_date_to: date | None = Query(None, description="Start date on or before."),
    sort: EngagementSort = Query("-created_at"),  # type: ignore[valid-type]
    tenant: TenantContext = ENGAGEMENTS_READ,
    session: Session = Depends(tenant_db),
) -> Page[EngagementOut]:
    items, total = service.list_engagements(
        session,
        tenant,
        limit=page.limit,
        offset=page.offset,
        sort=sort,
        q=q,
        status=status_,
        client_id=client_id,
        pricing_mode=pricing_mode,
        start_date_from=start_date_from,
        start_date_to=start_date_to,
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/engagements",
    response_model=EngagementOut,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
    tags=["engagements"],
)
def create_engagement(
    body: EngagementCreate,
    response: Response,
    tenant: TenantContext = ENGAGEMENTS_WRITE,
    session: Session = Depends(tenant_db),
) -> EngagementOut:
    engagement = service.create_engagement(session, tenant, body)
    response.headers["Location"] = f"/api/v1/engagements/{engagement.id}"
    set_etag(response, engagement.version)
    return engagement


@router.get(
    "/engagements/{engagement_id}", response_model=EngagementOut, responses=ITEM_ERRORS, tags=["engagements"]
)
def get_engagement(
    engagement_id: uuid.UUID,
    response: Response,
    tenant: TenantContext = ENGAGEMENTS_READ,
    session: Session = Depends(tenant_db),
) -> EngagementOut:
    engagement = service.get_engagement(session, tenant, engagement_id)
    set_etag(response, engagement.version)
    return engagement


@router.patch(
    "/engagements/{engagement_id}", response_model=EngagementOut, responses=WRITE_ERRORS, tags=["engagements"]
)
def update_engagement(
    engagement_id: uuid.UUID,
    body: EngagementUpdate,
    response: Response,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = ENGAGEMENTS_WRITE,
    session: Session = Depends(tenant_db),
) -> EngagementOut:
    engagement = service.update_engagement(session, tenant, engagement_id, body, expected)
    set_etag(response, engagement.version)
    return engagement


@router.delete(
    "/engagements/{engagement_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE_ERRORS,
    tags=["engagements"],
)
def delete_engagement(
    engagement_id: uuid.UUID,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = ENGAGEMENTS_WRITE,
    session: Session = Depends(tenant_db),
) -> Response:
    service.delete_engagement(session, tenant, engagement_id, expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# --- invoices ---


@router.get("/invoices", response_model=Page[InvoiceOut], tags=["invoices"])
def list_invoices(
    page: PageParams = Depends(page_params),
    q: str | None = _search("Case-insensitive invoice number search."),
    status_: InvoiceStatus | None = Query(
        None, alias="status", description="overdue = sent or partial and past the due date."
    ),
    client_id: uuid.UUID | None = Query(None),
    engagement_id: uuid.UUID | None = Query(None),
    issue_date_from: date | None = Query(None, description="Issued on or after."),
    issue_date_to: date | None = Query(None, description="Issued on or before."),
    due_date_from: date | None = Query(None, description="Due on or after."),
    due_date_to: date | None = Query(None, description="Due on or before."),
    sort: InvoiceSort = Query("-issue_date"),  # type: ignore[valid-type]
    tenant: TenantContext = INVOICES_READ,
    session: Session = Depends(tenant_db),
) -> Page[InvoiceOut]:
    items, total = service.list_invoices(
        session,
        tenant,
        limit=page.limit,
        offset=page.offset,
        sort=sort,
        q=q,
        status=status_,
        client_id=client_id,
        engagement_id=engagement_id,
        issue_date_from=issue_date_from,
        issue_date_to=issue_date_to,
        due_date_from=due_date_from,
        due_date_to=due_date_to,
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/invoices",
    response_model=InvoiceOut,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
    tags=["invoices"],
)
def create_invoice(
    body: InvoiceCreate,
    response: Response,
    tenant: TenantContext = INVOICES_WRITE,
    session: Session = Depends(tenant_db),
) -> InvoiceOut:
    invoice = service.create_invoice(session, tenant, body)
    response.headers["Location"] = f"/api/v1/invoices/{invoice.id}"
    set_etag(response, invoice.version)
    return invoice


@router.get("/invoices/{invoice_id}", response_model=InvoiceOut, responses=ITEM_ERRORS, tags=["invoices"])
def get_invoice(
    invoice_id: uuid.UUID,
    response: Response,
    tenant: TenantContext = INVOICES_READ,
    session: Session = Depends(tenant_db),
) -> InvoiceOut:
    invoice = service.get_invoice(session, tenant, invoice_id)
    set_etag(response, invoice.version)
    return invoice


@router.patch("/invoices/{invoice_id}", response_model=InvoiceOut, responses=WRITE_ERRORS, tags=["invoices"])
def update_invoice(
    invoice_id: uuid.UUID,
    body: InvoiceUpdate,
    response: Response,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = INVOICES_WRITE,
    session: Session = Depends(tenant_db),
) -> InvoiceOut:
    invoice = service.update_invoice(session, tenant, invoice_id, body, expected)
    set_etag(response, invoice.version)
    return invoice


@router.delete(
    "/invoices/{invoice_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE_ERRORS,
    tags=["invoices"],
)
def delete_invoice(
    invoice_id: uuid.UUID,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = INVOICES_WRITE,
    session: Session = Depends(tenant_db),
) -> Response:
    service.delete_invoice(session, tenant, invoice_id, expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/invoices/{invoice_id}/send",
    response_model=InvoiceOut,
    responses=WRITE_ERRORS,
    tags=["invoices"],
    summary="Send a draft invoice (draft → sent; a zero total goes straight to paid)",
)
def send_invoice(
    invoice_id: uuid.UUID,
    response: Response,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = INVOICES_WRITE,
    session: Session = Depends(tenant_db),
) -> InvoiceOut:
    invoice = service.send_invoice(session, tenant, invoice_id, expected)
    set_etag(response, invoice.version)
    return invoice


@router.post(
    "/invoices/{invoice_id}/void",
    response_model=InvoiceOut,
    responses=WRITE_ERRORS,
    tags=["invoices"],
    summary="Void an invoice (from draft, sent or overdue; never with a payment allocated)",
)
def void_invoice(
    invoice_id: uuid.UUID,
    response: Response,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = INVOICES_WRITE,
    session: Session = Depends(tenant_db),
) -> InvoiceOut:
    invoice = service.void_invoice(session, tenant, invoice_id, expected)
    set_etag(response, invoice.version)
    return invoice


@router.get(
    "/invoices/{invoice_id}/allocations",
    response_model=Page[AllocationOut],
    responses=ITEM_ERRORS,
    tags=["invoices"],
)
def list_invoice_allocations(
    invoice_id: uuid.UUID,
    page: PageParams = Depends(page_params),
    sort: AllocationSort = Query("created_at"),  # type: ignore[valid-type]
    tenant: TenantContext = INVOICES_READ,
    session: Session = Depends(tenant_db),
) -> Page[AllocationOut]:
    items, total = service.list_invoice_allocations(
        session, tenant, invoice_id, limit=page.limit, offset=page.offset, sort=sort
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


# --- payments ---


@router.get("/payments", response_model=Page[PaymentOut], tags=["payments"])
def list_payments(
    page: PageParams = Depends(page_params),
    q: str | None = _search("Case-insensitive reference search."),
    client_id: uuid.UUID | None = Query(None),
    method: PaymentMethod | None = Query(None),
    unallocated: bool | None = Query(
        None, description="true: with money left to allocate; false: fully allocated."
    ),
    received_date_from: date | None = Query(None, description="Received on or after."),
    received_date_to: date | None = Query(None, description="Received on or before."),
    sort: PaymentSort = Query("-received_date"),  # type: ignore[valid-type]
    tenant: TenantContext = INVOICES_READ,
    session: Session = Depends(tenant_db),
) -> Page[PaymentOut]:
    items, total = service.list_payments(
        session,
        tenant,
        limit=page.limit,
        offset=page.offset,
        sort=sort,
        q=q,
        client_id=client_id,
        method=method,
        unallocated=unallocated,
        received_date_from=received_date_from,
        received_date_to=received_date_to,
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/payments",
    response_model=PaymentOut,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
    tags=["payments"],
)
def create_payment(
    body: PaymentCreate,
    response: Response,
    tenant: TenantContext = INVOICES_WRITE,
    session: Session = Depends(tenant_db),
) -> PaymentOut:
    payment = service.create_payment(session, tenant, body)
    response.headers["Location"] = f"/api/v1/payments/{payment.id}"
    set_etag(response, payment.version)
    return payment


@router.get("/payments/{payment_id}", response_model=PaymentOut, responses=ITEM_ERRORS, tags=["payments"])
def get_payment(
    payment_id: uuid.UUID,
    response: Response,
    tenant: TenantContext = INVOICES_READ,
    session: Session = Depends(tenant_db),
) -> PaymentOut:
    payment = service.get_payment(session, tenant, payment_id)
    set_etag(response, payment.version)
    return payment


@router.patch("/payments/{payment_id}", response_model=PaymentOut, responses=WRITE_ERRORS, tags=["payments"])
def update_payment(
    payment_id: uuid.UUID,
    body: PaymentUpdate,
    response: Response,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = INVOICES_WRITE,
    session: Session = Depends(tenant_db),
) -> PaymentOut:
    payment = service.update_payment(session, tenant, payment_id, body, expected)
    set_etag(response, payment.version)
    return payment


@router.delete(
    "/payments/{payment_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE_ERRORS,
    tags=["payments"],
)
def delete_payment(
    payment_id: uuid.UUID,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = INVOICES_WRITE,
    session: Session = Depends(tenant_db),
) -> Response:
    service.delete_payment(session, tenant, payment_id, expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(
    "/payments/{payment_id}/allocations",
    response_model=Page[AllocationOut],
    responses=ITEM_ERRORS,
    tags=["payments"],
)
def list_payment_allocations(
    payment_id: uuid.UUID,
    page: PageParams = Depends(page_params),
    invoice_id: uuid.UUID | None = Query(None),
    sort: AllocationSort = Query("created_at"),  # type: ignore[valid-type]
    tenant: TenantContext = INVOICES_READ,
    session: Session = Depends(tenant_db),
) -> Page[AllocationOut]:
    items, total = service.list_payment_allocations(
        session, tenant, payment_id, limit=page.limit, offset=page.offset, sort=sort, invoice_id=invoice_id
    )
    return Page(items=items, total=total, limit=page.limit, offset=page.offset)


@router.post(
    "/payments/{payment_id}/allocations",
    response_model=AllocationOut,
    status_code=status.HTTP_201_CREATED,
    responses=WRITE_ERRORS,
    tags=["payments"],
    summary="Allocate part of a payment to an invoice (updates the invoice's amount paid and status)",
)
def create_allocation(
    payment_id: uuid.UUID,
    body: AllocationCreate,
    response: Response,
    tenant: TenantContext = INVOICES_WRITE,
    session: Session = Depends(tenant_db),
) -> AllocationOut:
    allocation = service.create_allocation(session, tenant, payment_id, body)
    response.headers["Location"] = f"/api/v1/payments/{payment_id}/allocations/{allocation.id}"
    set_etag(response, allocation.version)
    return allocation


@router.get(
    "/payments/{payment_id}/allocations/{allocation_id}",
    response_model=AllocationOut,
    responses=ITEM_ERRORS,
    tags=["payments"],
)
def get_allocation(
    payment_id: uuid.UUID,
    allocation_id: uuid.UUID,
    response: Response,
    tenant: TenantContext = INVOICES_READ,
    session: Session = Depends(tenant_db),
) -> AllocationOut:
    allocation = service.get_allocation(session, tenant, payment_id, allocation_id)
    set_etag(response, allocation.version)
    return allocation


@router.delete(
    "/payments/{payment_id}/allocations/{allocation_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=WRITE_ERRORS,
    tags=["payments"],
    summary="Remove an allocation (the invoice's amount paid and status are recomputed)",
)
def delete_allocation(
    payment_id: uuid.UUID,
    allocation_id: uuid.UUID,
    expected: int | None = Depends(if_match),
    tenant: TenantContext = INVOICES_WRITE,
    session: Session = Depends(tenant_db),
) -> Response:
    service.delete_allocation(session, tenant, payment_id, allocation_id, expected)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
