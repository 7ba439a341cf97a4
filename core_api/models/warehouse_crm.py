"""warehouse.salesforce_<stream> (issue 6): accounts, contacts, leads and opportunities of each connected org,
built from the connector's column lists (`connectors.salesforce.mapping`).

Same shape as every warehouse table (ADR 0004): the connector's columns typed by name, plus firm,
connection, synced_at and deleted_at; one row per (connection, Salesforce Id). A record deleted in
Salesforce (getDeleted) keeps its last known columns and gets `deleted_at`.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Integer, Numeric, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from connectors.salesforce import mapping as sf
from core_api.models.base import WAREHOUSE_SCHEMA, Base
from core_api.models.warehouse_accounting import _owned


def _type(name: str) -> TypeEngine:
    if name in sf.TIMESTAMP_COLUMNS:
        return DateTime(timezone=True)
    if name in sf.NUMERIC_COLUMNS:
        return Numeric()
    if name in sf.INTEGER_COLUMNS:
        return Integer()
    if name in sf.BOOLEAN_COLUMNS:
        return Boolean()
    if name in sf.DATE_COLUMNS:
        return Date()
    if name == "raw":
        return JSONB()
    return Text()


def _table(name: str, columns: Iterable[str], comment: str) -> Table:
    return Table(
        name,
        Base.metadata,
        *_owned(),
        *(
            Column(c, _type(c), primary_key=c == "external_id", nullable=c not in ("external_id", "raw"))
            for c in columns
        ),
        Column("synced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("deleted_at", DateTime(timezone=True)),
        Index(f"ix_{name}_modstamp", "connection_id", "system_modstamp"),
        schema=WAREHOUSE_SCHEMA,
        comment=comment,
    )


SALESFORCE_ACCOUNTS = _table(
    "salesforce_accounts", sf.ACCOUNT_COLUMNS, "Salesforce accounts, one row per (connection, Account Id)."
)
SALESFORCE_CONTACTS = _table(
    "salesforce_contacts", sf.CONTACT_COLUMNS, "Salesforce contacts, one row per (connection, Contact Id)."
)
SALESFORCE_LEADS = _table(
    "salesforce_leads", sf.LEAD_COLUMNS, "Salesforce leads, one row per (connection, Lead Id)."
)
SALESFORCE_OPPORTUNITIES = _table(
    "salesforce_opportunities",
    sf.OPPORTUNITY_COLUMNS,
    "Salesforce opportunities, one row per (connection, Opportunity Id).",
)

TABLES: tuple[Table, ...] = (
    SALESFORCE_ACCOUNTS,
    SALESFORCE_CONTACTS,
    SALESFORCE_LEADS,
    SALESFORCE_OPPORTUNITIES,
)
FIRM_SCOPED: list[str] = [f"{WAREHOUSE_SCHEMA}.{t.name}" for t in TABLES]
