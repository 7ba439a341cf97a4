"""The Dagster asset catalog as the analysts' data catalog (docs/analysts.md).

Every warehouse asset names its table and carries its column schema (definition metadata, from
`table_metadata`), and each sync reports its row counts and time (materialization metadata, from
`sync_metadata`). The asset factory calls both; nothing here writes.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from sqlalchemy import Table, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

# The columns every warehouse.<vendor>_<stream> table carries (DESIGN "Data"), described once.
BOOKKEEPING = {
    "firm_id": "The firm (tenant) the row belongs to: always the connection's firm.",
    "connection_id": "The connection (one vendor account of one firm) the row was synced from.",
    "raw": "The vendor's payload as received, for fields without a typed column.",
    "synced_at": "When a sync last wrote this row (unchanged rows are not rewritten).",
    "deleted_at": "Soft delete: set when the vendor deleted or deactivated the record, or a full refresh "
    "no longer found it. NULL for live rows.",
}

_DIALECT = postgresql.dialect()


def qualified_name(table: Table) -> str:
    return f"{table.schema}.{table.name}" if table.schema else table.name


def column_schema(table: Table) -> dg.TableSchema:
    """`dagster/column_schema` from a SQLAlchemy table: Postgres types, nullability, keys, comments."""
    primary = [c.name for c in table.primary_key.columns]
    columns = []
    for column in table.columns:
        other = [f"references {fk.target_fullname}" for fk in column.foreign_keys]
        if column.primary_key:
            other.insert(
                0, "primary key" if len(primary) == 1 else f"part of primary key ({', '.join(primary)})"
            )
        columns.append(
            dg.TableColumn(
                name=column.name,
                type=column.type.compile(dialect=_DIALECT).lower(),
                description=column.comment or BOOKKEEPING.get(column.name),
                constraints=dg.TableColumnConstraints(
                    nullable=bool(column.nullable),
                    unique=column.primary_key and len(primary) == 1,
                    other=other or None,
                ),
            )
        )
    constraints = dg.TableConstraints(other=[f"primary key ({', '.join(primary)})"]) if primary else None
    return dg.TableSchema(columns=columns, constraints=constraints)


def table_metadata(table: Table) -> dict[str, Any]:
    """Definition metadata for a warehouse asset: where the table is and what its columns are."""
    metadata: dict[str, Any] = {
        "dagster/table_name": qualified_name(table),
        "dagster/column_schema": column_schema(table),
    }
    if table.comment:
        metadata["table_comment"] = table.comment
    return metadata


def sync_metadata(
    session: Session, table: Table, connection_id: uuid.UUID, *, synced_at: datetime | None = None
) -> dict[str, Any]:
    """Materialization metadata after a sync of one connection (one partition).

    A materialization is one connection's slice of the table, so `dagster/row_count` and
    `dagster/partition_row_count` both count that connection's rows, soft-deleted ones included.
    Works in a tenant session (row-level security limits it to the firm) or the owner's.
    """
    total, live, deleted = session.execute(
        select(
            func.count(),
            func.count().filter(table.c.deleted_at.is_(None)),
            func.count().filter(table.c.deleted_at.isnot(None)),
        ).where(table.c.connection_id == connection_id)
    ).one()
    return {
        "dagster/row_count": total,
        "dagster/partition_row_count": total,
        "dagster/table_name": qualified_name(table),
        "rows_live": live,
        "rows_soft_deleted": deleted,
        "last_synced_at": dg.MetadataValue.timestamp(synced_at or datetime.now(UTC)),
    }
