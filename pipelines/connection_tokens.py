"""Persisting rotated OAuth tokens the moment a client refreshes them.

QuickBooks and Xero rotate refresh tokens: once a refresh succeeds the old token is dead, so the new
one is written at once, under a row lock on the connection, in its own committed transaction — a run
that dies a second later must not strand the connection. (Runs of one connection never overlap: the
run queue limits `dagster/partition` to one run per value, see dagster.yaml.)
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select

from connectors.base import TokenSet
from core_api.connections.secrets import open_credentials, seal_credentials
from core_api.models import Connection
from core_api.tenancy import TenantContext
from pipelines.resources import FirmsyncDatabase


class ConnectionTokens:
    def __init__(
        self, db: FirmsyncDatabase, tenant: TenantContext, connection_id: uuid.UUID, model: type[BaseModel]
    ) -> None:
        self.db, self.tenant, self.connection_id, self.model = db, tenant, connection_id, model
        self.refreshes = 0

    def load(self) -> dict[str, Any]:
        with self.db.tenant(self.tenant) as session:
            return open_credentials(self._locked(session, lock=False))

    def save(self, tokens: TokenSet) -> None:
        with self.db.tenant(self.tenant) as session:
            connection = self._locked(session, lock=True)
            current = self.model.model_validate(open_credentials(connection))
            seal_credentials(connection, current.with_tokens(tokens))  # type: ignore[attr-defined]
        self.refreshes += 1

    def _locked(self, session, *, lock: bool) -> Connection:
        stmt = select(Connection).where(
            Connection.firm_id == self.tenant.firm_id, Connection.id == self.connection_id
        )
        connection = session.scalar(stmt.with_for_update() if lock else stmt)
        if connection is None:
            raise LookupError(f"connection {self.connection_id} disappeared during the sync")
        return connection
