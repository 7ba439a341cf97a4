"""dead letters; per-connection sync cadence

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core_api.migration_helpers import secure_table

revision: str = "0008"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dead_letters",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("stream", sa.String(length=80), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("1"), nullable=False),
        sa.Column("status", sa.String(length=20), server_default=sa.text("'open'"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["app.connections.id"], name=op.f("fk_dead_letters_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["firm_id"], ["app.firms.id"], name=op.f("fk_dead_letters_firm_id_firms"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letters")),
        schema="app",
    )
    op.create_index(op.f("ix_app_dead_letters_firm_id"), "dead_letters", ["firm_id"], unique=False, schema="app")
    op.create_index("ix_dead_letters_open", "dead_letters", ["firm_id", "status"], unique=False, schema="app")
    op.create_index(
        "uq_dead_letters_record", "dead_letters", ["connection_id", "stream", "external_id"], unique=True, schema="app"
    )
    secure_table("app.dead_letters")
    op.add_column(
        "connections",
        sa.Column("sync_interval_minutes", sa.Integer(), server_default=sa.text("60"), nullable=False),
        schema="app",
    )


def downgrade() -> None:
    op.drop_column("connections", "sync_interval_minutes", schema="app")
    op.drop_table("dead_letters", schema="app")
