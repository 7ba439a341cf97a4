"""warehouse.active_directory_users / _groups (issue 6), built from the connector's column lists.

Same shape as every synced stream (ADR 0004): typed columns + `raw` + firm, connection, synced_at and
deleted_at. The key is (connection, objectGUID): a rename or a move to another OU changes the DN, never the
GUID. A user's groups come from the groups' `members` (AD updates the group, not the member, when a
membership changes); `member_of` is kept as the directory reported it.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, DateTime, Index, Integer, Table, Text, func
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.types import TypeEngine

from connectors.active_directory.mapping import GROUP_COLUMNS, USER_COLUMNS
from core_api.models.base import WAREHOUSE_SCHEMA, Base
from core_api.models.warehouse_accounting import _owned

KEY = ("connection_id", "external_id")
_TYPES: dict[str, TypeEngine] = {
    "user_account_control": Integer(),
    "group_type": Integer(),
    "usn_changed": BigInteger(),
    "disabled": Boolean(),
    "member_of": JSONB(),
    "members": JSONB(),
    "raw": JSONB(),
    "created_at": DateTime(timezone=True),
    "updated_at": DateTime(timezone=True),
}


def _table(name: str, columns: tuple[str, ...], comment: str) -> Table:
    return Table(
        name,
        Base.metadata,
        *_owned(),
        *(
            Column(c, _TYPES.get(c, Text()), primary_key=c in KEY, nullable=c not in (*KEY, "dn", "raw"))
            for c in columns
        ),
        Column("synced_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("deleted_at", DateTime(timezone=True)),
        Index(f"ix_{name}_updated_at", "connection_id", "updated_at"),
        schema=WAREHOUSE_SCHEMA,
        comment=comment,
    )


ACTIVE_DIRECTORY_USERS = _table(
    "active_directory_users",
    USER_COLUMNS,
    "Active Directory users, one row per (connection, objectGUID); gone from a full pass: deleted.",
)
ACTIVE_DIRECTORY_GROUPS = _table(
    "active_directory_groups",
    GROUP_COLUMNS,
    "Active Directory groups with their member DNs, one row per (connection, objectGUID).",
)

TABLES: tuple[Table, ...] = (ACTIVE_DIRECTORY_USERS, ACTIVE_DIRECTORY_GROUPS)
FIRM_SCOPED: list[str] = [f"{WAREHOUSE_SCHEMA}.{t.name}" for t in TABLES]
