"""Google Calendar events in the warehouse; app.calendar_events learns all-day events (issue 6)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 11:30:00

warehouse.google_calendar_events mirrors `connectors.google_calendar.mapping.EVENT_COLUMNS`, keyed by
(connection, calendar, event id), with the same tenant RLS and analyst access as every warehouse table
(0010). An all-day Google event has dates, not instants: app.calendar_events gets `all_day` so the merge
keeps that (and a push can send dates back). Per-provider etags already live in `provider_etags`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core_api.migration_helpers import secure_warehouse_table

revision: str = "0012"
down_revision: str | tuple[str, ...] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "warehouse.google_calendar_events"


def upgrade() -> None:
    op.create_table(
        "google_calendar_events",
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("calendar_id", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("all_day", sa.Boolean(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("time_zone", sa.Text(), nullable=True),
        sa.Column("attendees", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("organizer_email", sa.Text(), nullable=True),
        sa.Column("organizer_name", sa.Text(), nullable=True),
        sa.Column("recurring_event_id", sa.Text(), nullable=True),
        sa.Column("original_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ical_uid", sa.Text(), nullable=True),
        sa.Column("html_link", sa.Text(), nullable=True),
        sa.Column("transparency", sa.Text(), nullable=True),
        sa.Column("visibility", sa.Text(), nullable=True),
        sa.Column("etag", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("synced_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["app.connections.id"],
            name=op.f("fk_google_calendar_events_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"],
            ["app.firms.id"],
            name=op.f("fk_google_calendar_events_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "connection_id", "calendar_id", "external_id", name=op.f("pk_google_calendar_events")
        ),
        schema="warehouse",
        comment="Google Calendar events, one row per (connection, calendar, event id); "
        "cancelled ones deleted.",
    )
    op.create_index(
        "ix_google_calendar_events_updated_at",
        "google_calendar_events",
        ["connection_id", "updated_at"],
        unique=False,
        schema="warehouse",
    )
    op.create_index(
        op.f("ix_warehouse_google_calendar_events_firm_id"),
        "google_calendar_events",
        ["firm_id"],
        unique=False,
        schema="warehouse",
    )
    secure_warehouse_table(TABLE)
    op.add_column(
        "calendar_events",
        sa.Column("all_day", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        schema="app",
    )


def downgrade() -> None:
    op.drop_column("calendar_events", "all_day", schema="app")
    op.drop_index(
        op.f("ix_warehouse_google_calendar_events_firm_id"),
        table_name="google_calendar_events",
        schema="warehouse",
    )
    op.drop_index(
        "ix_google_calendar_events_updated_at", table_name="google_calendar_events", schema="warehouse"
    )
    op.drop_table("google_calendar_events", schema="warehouse")
