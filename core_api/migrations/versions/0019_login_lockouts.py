"""Failed sign-ins per account, for login lockout (issue 8)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 00:30:00

`app.login_lockouts` is global like `app.users`: sign-in happens before there is a tenant, so no firm_id
and no row-level security. Rows are keyed by an HMAC of the normalised email (core_api/auth/lockout.py),
so no email is stored. The API role reads and writes it (schema default privileges, granted again here).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from core_api.migration_helpers import API_ROLE

revision: str = "0019"
down_revision: str | tuple[str, ...] | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_lockouts",
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("account_key", name=op.f("pk_login_lockouts")),
        schema="app",
    )
    op.execute(f"grant select, insert, update, delete on app.login_lockouts to {API_ROLE}")


def downgrade() -> None:
    op.drop_table("login_lockouts", schema="app")
