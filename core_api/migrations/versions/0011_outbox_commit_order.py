"""outbox rows carry their writer's transaction id; push cursors follow the committed frontier (issue 5)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 10:40:00

`seq` is drawn inside the writer's transaction, so a lower seq can commit after a higher one is already
read. Readers now take only rows whose transaction is older than every transaction still running
(`xid < pg_snapshot_xmin(pg_current_snapshot())`), in (xid, seq) order: that set never grows behind a
cursor, so no row is skipped however long a writer's transaction runs (ADR 0009).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | tuple[str, ...] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows get this migration's transaction id; existing push cursors (a seq) become
    # "<that id>:<seq>", which covers exactly the rows they covered.
    op.execute("alter table app.outbox add column xid xid8 not null default pg_current_xact_id()")
    op.execute(
        "update app.sync_state set cursor = pg_current_xact_id()::text || ':' || cursor "
        "where stream = 'push:outbox' and cursor is not null and cursor !~ ':'"
    )
    op.execute("create index ix_outbox_firm_commit_order on app.outbox (firm_id, xid, seq)")
    # The push asks whether an entity was created locally (it then goes to every accounting connection).
    op.execute(
        "create index ix_outbox_created_entity on app.outbox (firm_id, entity, entity_id) "
        "where operation = 'created'"
    )


def downgrade() -> None:
    op.execute("drop index if exists app.ix_outbox_created_entity")
    op.execute("drop index if exists app.ix_outbox_firm_commit_order")
    op.execute(
        "update app.sync_state set cursor = split_part(cursor, ':', 2) "
        "where stream = 'push:outbox' and cursor ~ ':'"
    )
    op.execute("alter table app.outbox drop column xid")
