"""Roles → permissions, in one place. docs/permissions.md is generated from MATRIX (a test keeps it current)
and a test walks every route and every role against it."""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable

from core_api.tenancy import Role


class Permission(enum.StrEnum):
    clients_read = "clients:read"  # clients and their contacts
    clients_write = "clients:write"
    leads_read = "leads:read"
    leads_write = "leads:write"  # includes converting a lead into a client
    engagements_read = "engagements:read"
    engagements_write = "engagements:write"
    invoices_read = "invoices:read"  # invoices, payments, allocations
    invoices_write = "invoices:write"
    calendar_read = "calendar:read"
    calendar_write = "calendar:write"
    documents_read = "documents:read"
    documents_write = "documents:write"
    team_read = "team:read"
    team_manage = "team:manage"  # invitations, role changes, deactivation
    settings_manage = "settings:manage"  # firm settings (timezone, currency)
    audit_read = "audit:read"
    connections_read = "connections:read"
    connections_write = "connections:write"
    connections_sync = "connections:sync"
    # The operators' console: the Dagster UI (runs, assets, backfills) and links to it from the SPA.
    operations_console = "operations:console"


P = Permission
_READ_ALL = {
    P.clients_read,
    P.leads_read,
    P.engagements_read,
    P.invoices_read,
    P.calendar_read,
    P.documents_read,
    P.team_read,
    P.connections_read,
}
_ADMIN_ONLY = {P.team_manage, P.settings_manage, P.audit_read, P.operations_console}

MATRIX: dict[Role, frozenset[Permission]] = {
    Role.firm_admin: frozenset(Permission),
    Role.partner: frozenset(set(Permission) - _ADMIN_ONLY),
    Role.manager: frozenset(
        _READ_ALL
        | {
            P.clients_write,
            P.leads_write,
            P.engagements_write,
            P.calendar_write,
            P.documents_write,
            P.connections_sync,
        }
    ),
    Role.staff: frozenset(_READ_ALL | {P.clients_write, P.leads_write, P.calendar_write, P.documents_write}),
    Role.billing: frozenset(_READ_ALL | {P.invoices_write, P.connections_sync}),
    Role.readonly: frozenset(_READ_ALL),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in MATRIX[role]


def granted_in(
    role: Role, firm_id: uuid.UUID, operator_firm_ids: Iterable[uuid.UUID]
) -> frozenset[Permission]:
    """The role's permissions in one firm. The operators' console (the Dagster UI) shows every firm's runs,
    so it is granted only in the firms that operate the platform (`FIRMSYNC_OPERATOR_FIRM_IDS`)."""
    if firm_id in set(operator_firm_ids):
        return MATRIX[role]
    return MATRIX[role] - {P.operations_console}


def render_markdown() -> str:
    roles = list(Role)
    lines = [
        "# Roles and permissions",
        "",
        "Generated from `core_api/permissions.py` (`python -m core_api.permissions`); enforced in one place,",
        "the `require(permission)` dependency; `tests/integration/test_permissions.py` walks routes x roles.",
        "",
        "| permission | " + " | ".join(r.value for r in roles) + " |",
        "|---|" + "---|" * len(roles),
    ]
    for permission in Permission:
        marks = " | ".join("✓" if allows(r, permission) else "" for r in roles)
        lines.append(f"| {permission.value} | {marks} |")
    lines += [
        "",
        "`operations:console` is granted only in the firms listed in `FIRMSYNC_OPERATOR_FIRM_IDS` (the firms",
        "that operate the platform): the Dagster UI shows every firm's runs (ADR 0018).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    from pathlib import Path

    target = Path(__file__).resolve().parent.parent / "docs" / "permissions.md"
    target.write_text(render_markdown())
    print(f"wrote {target}")
