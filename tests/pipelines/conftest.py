"""Pipelines tests run real assets against real Postgres and the sandbox. Their data is committed
(assets open their own transactions), so each test makes its own firm and never sees another's rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import dagster as dg
import pytest

from core_api.connections.schemas import ConnectionCreate
from core_api.connections.service import create_connection
from core_api.db import owner_engine, session_factory, tenant_session
from core_api.models import Firm
from core_api.tenancy import Role, TenantContext, issue_tenant_context
from pipelines.partitions import quickbooks_connections
from pipelines.resources import (
    FirmsyncDatabase,
    GoogleCalendarApi,
    MicrosoftCalendarApi,
    QuickBooksApi,
    XeroApi,
)


@dataclass
class SyncTarget:
    tenant: TenantContext
    connection_id: uuid.UUID
    realm: dict

    @property
    def key(self) -> str:
        return str(self.connection_id)


@pytest.fixture
def instance():
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture
def resources():
    return {
        "db": FirmsyncDatabase(),
        "quickbooks": QuickBooksApi(timeout_seconds=5, max_attempts=3),
        "xero": XeroApi(timeout_seconds=5, max_attempts=8),
        "google_calendar": GoogleCalendarApi(timeout_seconds=5, max_attempts=8, retry_base_delay_seconds=0.2),
        "microsoft_calendar": MicrosoftCalendarApi(
            timeout_seconds=10, max_attempts=10, retry_base_delay_seconds=0.2, page_size=10
        ),
    }


def new_firm() -> TenantContext:
    tenant = issue_tenant_context(uuid.uuid4(), Role.firm_admin)
    with tenant_session(tenant, session_factory(owner_engine())) as session:
        session.add(Firm(id=tenant.firm_id, name="Sync Test LLP", slug=f"sync-{tenant.firm_id.hex[:12]}"))
    return tenant


def add_connection(tenant: TenantContext, body: dict) -> uuid.UUID:
    """A connection created through the API's service (validation, sealing), for `tenant`'s firm."""
    from core_api.db import bind_tenant

    with session_factory(owner_engine())() as session:
        bind_tenant(session, tenant)
        return create_connection(session, tenant, ConnectionCreate(**body)).id


def make_xero_target(sandbox, tenant: TenantContext | None = None, **spec) -> SyncTarget:
    """A fresh sandbox organisation (`spec`: the admin API's tenant body) connected to a firm."""
    organisation = sandbox.new_xero_tenant(**spec)
    tenant = tenant or new_firm()
    connection_id = add_connection(tenant, sandbox.xero_connection_body(organisation, webhook_key="whk"))
    return SyncTarget(tenant=tenant, connection_id=connection_id, realm=organisation)


def add_staff_user(tenant: TenantContext, email: str) -> uuid.UUID:
    """A member of `tenant`'s firm with this address (the owner of a calendar connection)."""
    from core_api.models import Membership, User

    with session_factory(owner_engine())() as session, session.begin():
        user = User(email=email.lower(), password_hash="!", full_name="Sync Staff")
        session.add(user)
        session.flush()
        session.add(Membership(firm_id=tenant.firm_id, user_id=user.id, role=Role.staff))
        return user.id


def google_connection_body(sandbox, account: dict) -> dict:
    """A POST /api/v1/connections body for a sandbox Google user: every URL points at the sandbox."""
    return {
        "provider": "google_calendar",
        "config": {
            "client_id": account["client_id"],
            "account_email": account["email"],
            "calendar_ids": [c["id"] for c in account["calendars"]],
            "api_endpoint": f"{sandbox.google}/calendar/v3/",
            "authorize_url": f"{sandbox.google}/o/oauth2/v2/auth",
            "token_url": f"{sandbox.google}/token",
            "revocation_url": f"{sandbox.google}/revoke",
        },
        "credentials": {"client_secret": account["client_secret"], "refresh_token": account["refresh_token"]},
    }


def make_google_target(sandbox, *, staff: bool = True, **spec) -> SyncTarget:
    """A fresh sandbox Google user (`spec`: the admin API's account body) connected to a new firm, where
    (unless `staff=False`) a member of the firm has the user's address."""
    body = {"events": 0, "calendars": [], "seed": 7, "recurring_share": 0, **spec}
    account = sandbox.new_google_account(**body)
    tenant = new_firm()
    if staff:
        add_staff_user(tenant, account["email"])
    connection_id = add_connection(tenant, google_connection_body(sandbox, account))
    return SyncTarget(tenant=tenant, connection_id=connection_id, realm=account)


def make_microsoft_target(sandbox, *, staff: bool = True, **user) -> SyncTarget:
    """A fresh sandbox tenant with one mailbox (`user`: the admin API's user body) connected to a new firm,
    where (unless `staff=False`) a member of the firm has the mailbox's address."""
    tenant_spec = sandbox.new_microsoft_tenant(users=[{"seed": 7, "spread_days": 60, **user}])
    mailbox = tenant_spec["users"][0]
    tenant = new_firm()
    if staff:
        add_staff_user(tenant, mailbox["upn"])
    body = sandbox.microsoft_connection_body(tenant_spec, mailbox)
    body["config"] |= {"past_days": 120, "future_days": 120}
    connection_id = add_connection(tenant, body)
    return SyncTarget(tenant=tenant, connection_id=connection_id, realm={**tenant_spec, "user": mailbox})


def make_target(sandbox, customers: int = 40, seed: int = 7, invoices: int = 0) -> SyncTarget:
    realm = sandbox.new_realm(customers=customers, seed=seed, invoices=invoices)
    tenant = issue_tenant_context(uuid.uuid4(), Role.firm_admin)
    factory = session_factory(owner_engine())
    with tenant_session(tenant, factory) as session:
        session.add(Firm(id=tenant.firm_id, name="Sync Test LLP", slug=f"sync-{tenant.firm_id.hex[:12]}"))
    with factory() as session:
        from core_api.db import bind_tenant

        bind_tenant(session, tenant)
        out = create_connection(
            session, tenant, ConnectionCreate(**sandbox.quickbooks_connection_body(realm))
        )
    return SyncTarget(tenant=tenant, connection_id=out.id, realm=realm)


@pytest.fixture
def target(database_url, sandbox, instance) -> SyncTarget:
    target = make_target(sandbox)
    instance.add_dynamic_partitions(quickbooks_connections.name, [target.key])
    return target
