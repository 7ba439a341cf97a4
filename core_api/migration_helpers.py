"""Helpers for Alembic revisions: every new firm-scoped table goes through `secure_table` (ADR 0002)."""

from __future__ import annotations

from alembic import op

API_ROLE = "firmsync_api"


def secure_table(table: str, column: str = "firm_id") -> None:
    """FORCE row-level security with the tenant policy, and the API group's DML grant."""
    op.execute(f"alter table {table} enable row level security")
    op.execute(f"alter table {table} force row level security")
    op.execute(
        f"create policy tenant_isolation on {table} "
        f"using ({column} = app.current_firm_id()) with check ({column} = app.current_firm_id())"
    )
    op.execute(f"grant select, insert, update, delete on {table} to {API_ROLE}")
