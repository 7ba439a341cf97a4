"""The webhook inbox, and the one lookup the unauthenticated webhook route may make across firms.

`find_targets` calls the `app.webhook_target` definer function (migration 0005): the API role sees no
connection without a firm, and a webhook carries no firm. Everything else here is tenant-scoped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import null, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from core_api.models.webhooks import WebhookInboxEntry
from core_api.tenancy import TenantContext

# Candidate connections per delivery (the definer function caps each lookup at 10 too): every candidate
# costs a decryption and an HMAC, and the request is unauthenticated.
MAX_TARGETS = 10

_TARGETS = text("select * from app.webhook_target(:provider, :connection, :account)")


@dataclass(frozen=True)
class WebhookTarget:
    """A live connection a delivery may be for: whose secret to verify with, and whose firm to write in."""

    connection_id: uuid.UUID
    firm_id: uuid.UUID
    account_id: str
    config: dict[str, Any]
    credentials_encrypted: bytes = field(repr=False)


def find_targets(
    session: Session, provider: str, *, connection_id: uuid.UUID | None, account_ids: tuple[str, ...]
) -> list[WebhookTarget]:
    """The connection named in the URL, or else the connections of the accounts the body names."""
    lookups: list[dict[str, Any]]
    if connection_id is not None:
        lookups = [{"provider": provider, "connection": connection_id, "account": None}]
    else:
        lookups = [{"provider": provider, "connection": None, "account": a} for a in account_ids]
    found: dict[uuid.UUID, WebhookTarget] = {}
    for params in lookups:
        for row in session.execute(_TARGETS, params):
            found.setdefault(
                row.connection_id,
                WebhookTarget(
                    connection_id=row.connection_id,
                    firm_id=row.firm_id,
                    account_id=row.account_id,
                    config=row.config or {},
                    credentials_encrypted=bytes(row.credentials_encrypted),
                ),
            )
        if len(found) >= MAX_TARGETS:
            break
    return list(found.values())[:MAX_TARGETS]


class WebhookInboxRepository:
    def __init__(self, session: Session, tenant: TenantContext) -> None:
        self.session, self.tenant = session, tenant

    def add(
        self,
        *,
        connection_id: uuid.UUID,
        provider: str,
        event_id: str,
        event_type: str | None,
        content_type: str | None,
        headers: dict[str, str],
        payload: Any | None,
        raw_body: str | None,
    ) -> bool:
        """Store an event once: False when (provider, connection, event id) is already in the inbox."""
        stmt = (
            insert(WebhookInboxEntry)
            .values(
                firm_id=self.tenant.firm_id,
                connection_id=connection_id,
                provider=provider,
                event_id=event_id,
                event_type=event_type,
                content_type=content_type,
                headers=headers,
                # SQL NULL, not JSON null, when there is no JSON body.
                payload=null() if payload is None else payload,
                raw_body=raw_body,
            )
            .on_conflict_do_nothing(constraint="uq_webhook_inbox_event")
            .returning(WebhookInboxEntry.id)
        )
        return self.session.execute(stmt).scalar() is not None
