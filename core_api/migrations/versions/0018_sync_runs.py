"""sync runs: one row per connection sync, read by /metrics (issue 8, ADR 0019)

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 00:45:00

app.sync_runs records what each sync did (outcome, duration, vendor calls, 429s, retries, rows per stream),
written by the sync engine in the Dagster run's process. The API's metrics collector reads cross-tenant
aggregates of it with the owner role; firms see their own rows only (tenant RLS, like every app table).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from core_api.migration_helpers import secure_table

revision: str = "0018"
down_revision: str | tuple[str, ...] | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("firm_id", sa.UUID(), nullable=False),
        sa.Column("connection_id", sa.UUID(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("api_calls", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("throttled", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("retries", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("streams", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["app.connections.id"], name=op.f("fk_sync_runs_connection_id_connections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["firm_id"], ["app.firms.id"], name=op.f("fk_sync_runs_firm_id_firms"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
        schema="app",
    )
    op.create_index(op.f("ix_app_sync_runs_firm_id"), "sync_runs", ["firm_id"], unique=False, schema="app")
    op.create_index(
        "ix_sync_runs_connection_finished", "sync_runs", ["connection_id", "finished_at"], unique=False, schema="app"
    )
    op.create_index("ix_sync_runs_provider_status", "sync_runs", ["provider", "status"], unique=False, schema="app")
    secure_table("app.sync_runs")


def downgrade() -> None:
    op.drop_table("sync_runs", schema="app")
