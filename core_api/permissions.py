"""Roles → permissions, in one place (docs/permissions.md renders the same matrix)."""

from __future__ import annotations

import enum

from core_api.tenancy import Role


class Permission(enum.StrEnum):
    clients_read = "clients:read"
    clients_write = "clients:write"
    connections_read = "connections:read"
    connections_write = "connections:write"
    connections_sync = "connections:sync"


_READ = {Permission.clients_read, Permission.connections_read}

MATRIX: dict[Role, frozenset[Permission]] = {
    Role.firm_admin: frozenset(Permission),
    Role.partner: frozenset(Permission),
    Role.manager: frozenset(_READ | {Permission.clients_write, Permission.connections_sync}),
    Role.staff: frozenset(_READ | {Permission.clients_write}),
    Role.billing: frozenset(_READ | {Permission.connections_sync}),
    Role.readonly: frozenset(_READ),
}


def allows(role: Role, permission: Permission) -> bool:
    return permission in MATRIX[role]
