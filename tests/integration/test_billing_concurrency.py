"""Two allocations to one invoice at the same moment, which together would overpay it: exactly one wins.

Real concurrent transactions on separate pooled connections, with committed data (the rolled-back `api`
fixture shares one connection, so it cannot show this). The firm is deleted afterwards.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from core_api.billing import service
from core_api.billing.schemas import AllocationCreate, InvoiceCreate, PaymentCreate
from core_api.db import bind_tenant, session_factory, tenant_session
from core_api.errors import ProblemError
from core_api.models import Client, Firm
from core_api.tenancy import Role, TenantContext, issue_tenant_context


@contextmanager
def request_session(tenant: TenantContext) -> Iterator[Session]:
    """What `tenant_db` gives a request: its own connection and transaction, scoped to the firm."""
    with session_factory()() as session:
        bind_tenant(session, tenant)
        try:
            yield session
        finally:
            session.rollback()


@pytest.fixture
def committed_firm(database_url, owner_engine):
    firm_id = uuid.uuid4()
    tenant = issue_tenant_context(firm_id, Role.billing)
    with tenant_session(tenant) as session:
        session.add(Firm(id=firm_id, name="Race Billing LLP", slug=f"race-{firm_id.hex[:12]}"))
        session.flush()
        client = Client(firm_id=firm_id, name="Contended Co")
        session.add(client)
        session.flush()
        client_id = client.id
    yield tenant, client_id
    with owner_engine.begin() as owner:  # everything of the firm goes with it (ON DELETE CASCADE)
        owner.execute(text("delete from app.firms where id = :id"), {"id": firm_id})


def test_concurrent_allocations_cannot_overpay_an_invoice(committed_firm, monkeypatch):
    tenant, client_id = committed_firm
    line = {"description": "Audit", "quantity": "1", "unit_price": "100.00"}
    with request_session(tenant) as session:
        invoice = service.create_invoice(session, tenant, InvoiceCreate(client_id=client_id, lines=[line]))
    with request_session(tenant) as session:
        service.send_invoice(session, tenant, invoice.id, None)
    payments = []
    for _ in range(2):
        with request_session(tenant) as session:
            payments.append(
                service.create_payment(
                    session, tenant, PaymentCreate(client_id=client_id, amount=Decimal(80))
                ).id
            )

    # Widen the race window: whoever gets the invoice first holds its row lock a while before committing,
    # so the other is certainly waiting on it (without the lock, both would read a balance of 100).
    settle = service._settle

    def slow_settle(*args, **kwargs):
        time.sleep(0.3)
        return settle(*args, **kwargs)

    monkeypatch.setattr(service, "_settle", slow_settle)
    barrier = threading.Barrier(2)
    results: dict[int, object] = {}

    def allocate(index: int) -> None:
        barrier.wait()
        body = AllocationCreate(invoice_id=invoice.id, amount=Decimal(80))
        try:
            with request_session(tenant) as session:
                results[index] = service.create_allocation(session, tenant, payments[index], body)
        except ProblemError as exc:
            results[index] = exc

    threads = [threading.Thread(target=allocate, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    errors = [r for r in results.values() if isinstance(r, ProblemError)]
    assert len(results) == 2 and len(errors) == 1, results
    assert errors[0].status == 422 and errors[0].errors[0]["field"] == "amount"
    assert "balance due" in errors[0].detail and "20.00" in errors[0].detail
    with request_session(tenant) as session:
        final = service.get_invoice(session, tenant, invoice.id)
        allocations, total = service.list_invoice_allocations(
            session, tenant, invoice.id, limit=10, offset=0, sort="created_at"
        )
    assert (final.status, final.amount_paid, final.balance_due) == (
        "partial",
        Decimal("80.00"),
        Decimal("20.00"),
    )
    assert total == 1 and allocations[0].amount == Decimal("80.00")
