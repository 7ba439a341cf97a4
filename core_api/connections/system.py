"""The pipelines' door into a connection's tenant: the second (and last) issuer of TenantContext.

A run is keyed by connection id; the firm comes from the stored connection row, never from run config.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from core_api.connections.repository import system_get_connection
from core_api.models import Connection
from core_api.tenancy import Role, TenantContext, issue_tenant_context


class ConnectionGone(LookupError):
    pass


def tenant_for_connection(session: Session, connection_id: uuid.UUID) -> tuple[TenantContext, Connection]:
    connection = system_get_connection(session, connection_id)
    if connection is None or connection.deleted_at is not None:
        raise ConnectionGone(f"connection {connection_id} does not exist or was deleted")
    return issue_tenant_context(connection.firm_id, Role.firm_admin, None), connection
