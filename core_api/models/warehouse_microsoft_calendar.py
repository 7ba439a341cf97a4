"""warehouse.microsoft_calendar_events (issue 6), built from the connector's column list (`EVENT_COLUMNS`).

Same shape as warehouse.google_calendar_events (`warehouse_calendar.py`): the connector's columns typed by
name, plus firm, connection, synced_at and deleted_at (ADR 0004). Graph event ids are unique per mailbox and a
connection is one mailbox, so the key is (connection, event id). An event reported `@removed` keeps its last
known columns and gets `deleted_at`.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from connectors.microsoft_calendar.mapping import EVENT_COLUMNS
from core_api.models.base import WAREHOUSE_SCHEMA, Base
from core_api.models.warehouse_accounting import _owned

KEY = ("connection_id", "external_id")
_TIMESTAMP = {"starts_at", "ends_at", "created_at", "updated_at"}
_DATE = {"start_date", "end_date"}
_BOOLEAN = {"all_day", "is_cancelled"}
_JSON = {"attendees", "raw"}


def _type(name: str) -> TypeEngine:
    if name in _TIMESTAMP:
        return DateTime(timezone=True)
    if name in _DATE:
        return Date()
    if name in _BOOLEAN:
        return Boolean()
    if name in _JSON:
        return JSONB()
    return Text()


MICROSOFT_CALENDAR_EVENTS = Table(
    "microsoft_calendar_events",
    Base.metadata,
    *_owned(),
    *(Column(c, _type(c), primary_key=c in KEY, nullable=c not in (*KEY, "raw")) for c in EVENT_COLUMNS),
    Column("synced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("deleted_at", DateTime(timezone=True)),
    Index("ix_microsoft_calendar_events_updated_at", "connection_id", "updated_at"),
    schema=WAREHOUSE_SCHEMA,
    comment="Microsoft 365 (Outlook) events, one row per (connection, event id); removed ones deleted.",
)

TABLES: tuple[Table, ...] = (MICROSOFT_CALENDAR_EVENTS,)
FIRM_SCOPED: list[str] = [f"{WAREHOUSE_SCHEMA}.{t.name}" for t in TABLES]
