"""Helpers for Alembic revisions: every new firm-scoped table goes through `secure_table` (ADR 0002)."""

from __future__ import annotations

import re

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


# --- analysts (migration 0007, docs/analysts.md) -----------------------------------------------------------
# Two NOLOGIN groups read the warehouse schema and nothing else. Logins are members of one of them
# (`python -m core_api.manage create-analyst`); neither is ever granted to the API.
ANALYST_ROLE = "firmsync_analyst"  # one firm: RLS through app.firm_id, locked to app.analyst_logins
ANALYST_ALL_ROLE = "firmsync_analyst_all"  # every firm: a SELECT-only policy with USING (true)


def ensure_group_role(role: str) -> None:
    """A NOLOGIN group role, created once per cluster (roles are shared by every database)."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", role):
        raise ValueError(f"not a plain role name: {role!r}")
    # A checked identifier from this module's constants, hence the f-string.
    statement = (
        "do $$ begin if not exists (select 1 from pg_roles where rolname = '{0}') then "
        "create role {0} nologin nosuperuser nobypassrls nocreatedb nocreaterole; end if; end $$"
    )
    op.execute(statement.format(role))


def expose_to_analysts(table: str, column: str = "firm_id") -> None:
    """Make a warehouse table readable by both analyst groups, read-only.

    - `firmsync_analyst` gets SELECT; its rows come from the table's `tenant_isolation` policy (its login
      has `app.firm_id` set), and the RESTRICTIVE `analyst_firm_lock` ANDs in the firm bound to the login in
      `app.analyst_logins`, so an analyst who sets `app.firm_id` to another firm sees nothing.
    - `firmsync_analyst_all` gets SELECT and a permissive `analyst_all_read` policy, USING (true).
    """
    op.execute(f"grant select on {table} to {ANALYST_ROLE}, {ANALYST_ALL_ROLE}")
    op.execute(
        f"create policy analyst_firm_lock on {table} as restrictive for select to {ANALYST_ROLE} "
        f"using ({column} = (select app.analyst_firm_id()))"
    )
    op.execute(f"create policy analyst_all_read on {table} for select to {ANALYST_ALL_ROLE} using (true)")


def secure_warehouse_table(table: str, column: str = "firm_id") -> None:
    """Every new `warehouse.<vendor>_<stream>` table: tenant RLS and API grants, then analyst access."""
    secure_table(table, column)
    expose_to_analysts(table, column)
