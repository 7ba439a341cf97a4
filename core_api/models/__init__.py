"""SQLAlchemy models, one Base. Import from here so Alembic sees every table."""

from core_api.models import (
    billing,
    documents,
    oauth,
    warehouse_accounting,
    warehouse_calendar,
    warehouse_crm,
    warehouse_directory,
    warehouse_microsoft_calendar,
    warehouse_stripe,
    webhooks,
)
from core_api.models.audit import AuditEntry, OutboxEntry
from core_api.models.base import APP_SCHEMA, WAREHOUSE_SCHEMA, Base
from core_api.models.client import Client, Contact, ExternalRef
from core_api.models.connection import Connection, SyncRequest, SyncState
from core_api.models.crm import CalendarEvent, Lead
from core_api.models.dead_letters import DeadLetter
from core_api.models.firm import Firm, Invitation, Membership, User
from core_api.models.login_lockout import LoginLockout
from core_api.models.oauth import OAuthSession, SyncConflict
from core_api.models.sync_run import SyncRun
from core_api.models.warehouse import QuickBooksCustomer

# Tables carrying firm_id: every one gets FORCE row-level security in the migrations.
FIRM_SCOPED_TABLES = [
    "app.firms",
    "app.memberships",
    "app.clients",
    "app.contacts",
    "app.leads",
    "app.calendar_events",
    "app.invitations",
    "app.audit_log",
    "app.outbox",
    "app.dead_letters",
    "app.external_refs",
    "app.connections",
    "app.sync_requests",
    "app.sync_state",
    "app.sync_runs",
    "warehouse.quickbooks_customers",
    *billing.FIRM_SCOPED,
    *documents.FIRM_SCOPED,
    *webhooks.FIRM_SCOPED,
    *oauth.FIRM_SCOPED,
    *warehouse_accounting.FIRM_SCOPED,
    *warehouse_calendar.FIRM_SCOPED,
    *warehouse_microsoft_calendar.FIRM_SCOPED,
    *warehouse_directory.FIRM_SCOPED,
    *warehouse_crm.FIRM_SCOPED,
    *warehouse_stripe.FIRM_SCOPED,
]

__all__ = [
    "APP_SCHEMA",
    "FIRM_SCOPED_TABLES",
    "WAREHOUSE_SCHEMA",
    "AuditEntry",
    "Base",
    "CalendarEvent",
    "Client",
    "Connection",
    "Contact",
    "DeadLetter",
    "ExternalRef",
    "Firm",
    "Invitation",
    "Lead",
    "LoginLockout",
    "Membership",
    "OAuthSession",
    "OutboxEntry",
    "QuickBooksCustomer",
    "SyncConflict",
    "SyncRequest",
    "SyncRun",
    "SyncState",
    "User",
]
