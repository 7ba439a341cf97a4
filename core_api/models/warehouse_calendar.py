"""warehouse.google_calendar_events (issue 6), built from the connector's column list (`EVENT_COLUMNS`).

Same shape as the accounting tables (`warehouse_accounting.py`): the connector's columns typed by name, plus
firm, connection, synced_at and deleted_at (ADR 0004). An event id is unique within its calendar only, so
the key is (connection, calendar, event id). A cancelled event keeps its last known columns and gets
`deleted_at`.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, DateTime, Index, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from connectors.google_calendar.mapping import EVENT_COLUMNS
from core_api.models.base import WAREHOUSE_SCHEMA, Base
from core_api.models.warehouse_accounting import _owned

KEY = ("connection_id", "calendar_id", "external_id")
_TIMESTAMP = {"starts_at", "ends_at", "original_starts_at", "created_at", "updated_at"}
_DATE = {"start_date", "end_date"}
_BOOLEAN = {"cancelled", "all_day"}
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


GOOGLE_CALENDAR_EVENTS = Table(
    "google_calendar_events",
    Base.metadata,
    *_owned(),
    *(Column(c, _type(c), primary_key=c in KEY, nullable=c not in (*KEY, "raw")) for c in EVENT_COLUMNS),
    Column("synced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("deleted_at", DateTime(timezone=True)),
    Index("ix_google_calendar_events_updated_at", "connection_id", "updated_at"),
    schema=WAREHOUSE_SCHEMA,
    comment="Google Calendar events, one row per (connection, calendar, event id); cancelled ones deleted.",
)

TABLES: tuple[Table, ...] = (GOOGLE_CALENDAR_EVENTS,)
FIRM_SCOPED: list[str] = [f"{WAREHOUSE_SCHEMA}.{t.name}" for t in TABLES]
