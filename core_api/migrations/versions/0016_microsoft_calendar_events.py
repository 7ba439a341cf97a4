"""Microsoft 365 calendar events in the warehouse (issue 6, part 2)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 13:30:00

warehouse.microsoft_calendar_events mirrors `connectors.microsoft_calendar.mapping.EVENT_COLUMNS`, keyed by
(connection, Graph event id), with the same tenant RLS and analyst access as every warehouse table (0010,
0012). The canonical merge reuses app.calendar_events (`all_day` from 0012, `provider_etags` for the change
key last merged).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core_api.migration_helpers import secure_warehouse_table

revision: str = "0016"
down_revision: str | tuple[str, ...] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "warehouse.microsoft_calendar_events"


def upgrade() -> None:
    text, tz = sa.Text(), sa.DateTime(timezone=True)
    op.create_table(
        "microsoft_calendar_events",
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("external_id", text, nullable=False),
        sa.Column("subject", text, nullable=True),
        sa.Column("description", text, nullable=True),
        sa.Column("body_content_type", text, nullable=True),
        sa.Column("location", text, nullable=True),
        sa.Column("all_day", sa.Boolean(), nullable=True),
        sa.Column("starts_at", tz, nullable=True),
        sa.Column("ends_at", tz, nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("time_zone", text, nullable=True),
        sa.Column("is_cancelled", sa.Boolean(), nullable=True),
        sa.Column("show_as", text, nullable=True),
        sa.Column("sensitivity", text, nullable=True),
        sa.Column("importance", text, nullable=True),
        sa.Column("event_type", text, nullable=True),
        sa.Column("series_master_id", text, nullable=True),
        sa.Column("organizer_email", text, nullable=True),
        sa.Column("organizer_name", text, nullable=True),
        sa.Column("attendees", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("ical_uid", text, nullable=True),
        sa.Column("web_link", text, nullable=True),
        sa.Column("change_key", text, nullable=True),
        sa.Column("created_at", tz, nullable=True),
        sa.Column("updated_at", tz, nullable=True),
        sa.Column("raw", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("synced_at", tz, server_default=sa.text("now()"), nullable=False),
        sa.Column("deleted_at", tz, nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["app.connections.id"],
            name=op.f("fk_microsoft_calendar_events_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["firm_id"],
            ["app.firms.id"],
            name=op.f("fk_microsoft_calendar_events_firm_id_firms"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("connection_id", "external_id", name=op.f("pk_microsoft_calendar_events")),
        schema="warehouse",
        comment="Microsoft 365 (Outlook) events, one row per (connection, event id); removed ones deleted.",
    )
    op.create_index(
        "ix_microsoft_calendar_events_updated_at",
        "microsoft_calendar_events",
        ["connection_id", "updated_at"],
        unique=False,
        schema="warehouse",
    )
    op.create_index(
        op.f("ix_warehouse_microsoft_calendar_events_firm_id"),
        "microsoft_calendar_events",
        ["firm_id"],
        unique=False,
        schema="warehouse",
    )
    secure_warehouse_table(TABLE)


def downgrade() -> None:
    op.drop_index(
        op.f("ix_warehouse_microsoft_calendar_events_firm_id"),
        table_name="microsoft_calendar_events",
        schema="warehouse",
    )
    op.drop_index(
        "ix_microsoft_calendar_events_updated_at", table_name="microsoft_calendar_events", schema="warehouse"
    )
    op.drop_table("microsoft_calendar_events", schema="warehouse")
