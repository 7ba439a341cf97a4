"""analysts: read-only roles on the warehouse schema, firm-scoped and platform-wide

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

from core_api.migration_helpers import (
    ANALYST_ALL_ROLE,
    ANALYST_ROLE,
    API_ROLE,
    ensure_group_role,
    expose_to_analysts,
)

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAREHOUSE_TABLES = text(
    """
    select n.nspname || '.' || c.relname
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'warehouse' and c.relkind in ('r', 'p')
      and exists (select 1 from pg_attribute a
                  where a.attrelid = c.oid and a.attname = 'firm_id' and not a.attisdropped)
    order by 1
    """
)


def upgrade() -> None:
    for role in (ANALYST_ROLE, ANALYST_ALL_ROLE):
        ensure_group_role(role)

    # Which firm a firm-scoped analyst login may read. Owner-only: RLS forced with no policy, no grants,
    # read by the definer function below. A login's app.firm_id is set too (ALTER ROLE … SET), but an
    # analyst can change that setting, so the setting selects rows and this table is the lock.
    op.execute(
        """
        create table app.analyst_logins (
            login name primary key,
            firm_id uuid not null references app.firms (id) on delete cascade,
            created_at timestamptz not null default now()
        )
        """
    )
    op.execute("alter table app.analyst_logins enable row level security")
    op.execute("alter table app.analyst_logins force row level security")
    # 0001's default privileges hand every new app table to the API group: not this one.
    op.execute(f"revoke all on app.analyst_logins from {API_ROLE}, public")
    op.execute(
        """
        create function app.analyst_firm_id() returns uuid
        language sql stable security definer set search_path = pg_catalog, app as
        $$ select firm_id from app.analyst_logins where login = session_user $$
        """
    )
    op.execute("revoke all on function app.analyst_firm_id() from public")
    op.execute(f"grant execute on function app.analyst_firm_id() to {ANALYST_ROLE}")

    # No USAGE on schema app: policies call app.current_firm_id()/app.analyst_firm_id() without it.
    op.execute(f"grant usage on schema warehouse to {ANALYST_ROLE}, {ANALYST_ALL_ROLE}")
    for table in op.get_bind().execute(WAREHOUSE_TABLES).scalars():
        expose_to_analysts(table)
    # New warehouse tables: readable platform-wide by default (RLS still shows nothing until
    # `expose_to_analysts` adds the policy). The firm-scoped group gets a table only through the helper,
    # together with its firm lock: a table without the lock must fail closed for it.
    op.execute(f"alter default privileges in schema warehouse grant select on tables to {ANALYST_ALL_ROLE}")


def downgrade() -> None:
    op.execute(
        # ANALYST_ALL_ROLE is the migration helpers' constant role name, not input.
        f"alter default privileges in schema warehouse revoke select on tables from {ANALYST_ALL_ROLE}"  # nosec B608
    )
    for table in op.get_bind().execute(WAREHOUSE_TABLES).scalars():
        op.execute(f"drop policy if exists analyst_firm_lock on {table}")
        op.execute(f"drop policy if exists analyst_all_read on {table}")
        op.execute(f"revoke all on {table} from {ANALYST_ROLE}, {ANALYST_ALL_ROLE}")
    op.execute(f"revoke usage on schema warehouse from {ANALYST_ROLE}, {ANALYST_ALL_ROLE}")
    op.execute("drop function if exists app.analyst_firm_id()")
    op.execute("drop table if exists app.analyst_logins")
    # The group roles stay: roles belong to the cluster, and other databases may use them.
