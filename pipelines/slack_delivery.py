"""Delivery: the outbox's `notification` rows → the firm's Slack channel, through slack-sdk (ADR 0014).

- Each row names its Slack connection (`payload.connection_id`, chosen by `app.queue_notification` when
  the fact committed). Each Slack connection keeps its own cursor, `sync_state` stream `notify:outbox`
  = `"<xid>:<seq>"` of the last row handled, and reads rows in the push engine's commit-safe order
  (`pipelines/push.py`): only rows of finished transactions, by (xid, seq), so a slow writer's row is
  never skipped and messages arrive in the order their facts committed.
- One row, one `chat.postMessage`, then the cursor (and the row's status) commit at once: a row is
  posted once. The single gap: a run killed between Slack's answer and that commit posts the row again
  on its next run (Slack's chat.postMessage takes no idempotency key).
- Rate limits: messages to one channel are paced `post_interval_seconds` apart (Slack allows about one
  per second per channel); a 429 that still comes is slept through by slack-sdk's
  `RateLimitErrorRetryHandler` for its Retry-After. What is left (5xx, network, a 429 storm) propagates,
  and the step's RetryPolicy re-runs from the unchanged cursor.
- Permanent refusals dead-letter the row (`app.dead_letters`, stream `notify:slack`, keyed by the outbox
  row) and the cursor moves on. A revoked token marks the connection `needs_reauth`; a channel that is
  gone, archived or without the bot marks it `error`: the run stops there for good (no retries), and the
  sensor launches no more until the firm reconnects Slack. Later rows wait, undelivered, for that.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text, update

from connectors.base import AuthError, PermanentError
from connectors.slack.client import CHANNEL_ERRORS, error_code
from connectors.slack.config import SlackCredentials
from core_api.connections.repository import ConnectionRepository
from core_api.models import OutboxEntry
from core_api.tenancy import TenantContext
from pipelines.connection_tokens import ConnectionTokens
from pipelines.resources import FirmsyncDatabase
from pipelines.sync_engine import record_dead_letter
from pipelines.sync_status import mark_connection

log = logging.getLogger(__name__)

PROVIDER = "slack"
STREAM = "notify:outbox"
DEAD_LETTERS = "notify:slack"
START = "0:0"
BATCH = 200


class DeliveryFailed(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass
class DeliveryResult:
    connection_id: uuid.UUID
    cursor: str = START
    pending: int = 0
    delivered: int = 0
    dead_lettered: int = 0

    def metadata(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "pending": self.pending,
            "delivered": self.delivered,
            "dead_lettered": self.dead_lettered,
        }


# This connection's notification rows past a "<xid>:<seq>" cursor, of finished transactions only.
_READ = text(
    """
    select o.id, o.seq, o.xid::text as xid, o.entity_id, o.payload
    from app.outbox o
    where o.firm_id = :firm_id and o.entity = 'notification'
      and o.payload ->> 'connection_id' = :connection_id
      and (o.xid, o.seq) > (cast(split_part(:cursor, ':', 1) as xid8),
                            cast(split_part(:cursor, ':', 2) as bigint))
      and o.xid < pg_snapshot_xmin(pg_current_snapshot())
    order by o.xid, o.seq
    limit :batch
    """
)


class _Pacer:
    """At most one message per `interval` seconds to a channel (Slack's per-channel limit). Measured from
    Slack's previous answer, so the gap Slack sees is never shorter than `interval`."""

    def __init__(self, interval: float) -> None:
        self.interval, self.last = interval, None

    def wait(self) -> None:
        if self.last is not None:
            time.sleep(max(0.0, self.last + self.interval - time.monotonic()))

    def answered(self) -> None:
        self.last = time.monotonic()


def deliver_notifications(
    db: FirmsyncDatabase, client_factory: Any, connection_id: uuid.UUID, *, batch: int = BATCH
) -> DeliveryResult:
    """Post this Slack connection's notifications past its cursor (at most `batch` rows), in order."""
    tenant, connection = db.connection(connection_id)
    if connection.provider != PROVIDER:
        raise DeliveryFailed(
            f"connection {connection_id} is {connection.provider}, not slack", permanent=True
        )
    result = DeliveryResult(connection_id=connection_id)
    with db.tenant(tenant) as session:
        result.cursor = ConnectionRepository(session, tenant).get_cursor(connection_id, STREAM) or START
        rows = session.execute(
            _READ,
            {
                "firm_id": tenant.firm_id,
                "connection_id": str(connection_id),
                "cursor": result.cursor,
                "batch": batch,
            },
        ).all()
    result.pending = len(rows)
    if not rows:
        return result
    tokens = ConnectionTokens(db, tenant, connection_id, SlackCredentials)
    client = client_factory.client(connection.config, tokens.load(), on_tokens=tokens.save)
    pacer = _Pacer(getattr(client_factory, "post_interval_seconds", 1.0))
    for row in rows:
        position = f"{row.xid}:{row.seq}"
        try:
            pacer.wait()
            try:
                client.post_notification(str(row.payload.get("text") or ""))
            finally:
                pacer.answered()
        except AuthError as exc:
            _commit(db, tenant, connection_id, row, position, refused=str(exc))
            mark_connection(
                db, tenant, connection_id, outcome="failed", error=f"notify: {exc}", status="needs_reauth"
            )
            raise DeliveryFailed(f"AuthError: {exc}", permanent=True) from exc
        except PermanentError as exc:
            _commit(db, tenant, connection_id, row, position, refused=str(exc))
            result.cursor, result.dead_lettered = position, result.dead_lettered + 1
            code = error_code(exc)
            if code in CHANNEL_ERRORS or code is None:  # None: no channel configured
                mark_connection(
                    db, tenant, connection_id, outcome="failed", error=f"notify: {exc}", status="error"
                )
                raise DeliveryFailed(f"the channel refuses messages: {exc}", permanent=True) from exc
            log.warning("notification %s dead-lettered: %s", row.id, exc)
            continue
        _commit(db, tenant, connection_id, row, position, refused=None)
        result.cursor, result.delivered = position, result.delivered + 1
    return result


@dataclass(frozen=True)
class _DeadLetterStream:
    name: str
    outbox_id: str

    def record_id(self, _payload: dict[str, Any]) -> str:
        return self.outbox_id


def _commit(
    db: FirmsyncDatabase,
    tenant: TenantContext,
    connection_id: uuid.UUID,
    row: Any,
    position: str,
    *,
    refused: str | None,
) -> None:
    """The row's outcome and the cursor past it, in one transaction."""
    with db.tenant(tenant) as session:
        if refused is not None:
            letters = _DeadLetterStream(DEAD_LETTERS, str(row.id))
            record_dead_letter(session, tenant, PROVIDER, connection_id, letters, dict(row.payload), refused)
        session.execute(
            update(OutboxEntry)
            .where(OutboxEntry.firm_id == tenant.firm_id, OutboxEntry.id == row.id)
            .values(
                status="dead" if refused is not None else "processed",
                attempts=OutboxEntry.attempts + 1,
                last_error=refused[:2000] if refused else None,
                processed_at=datetime.now(UTC),
            )
        )
        ConnectionRepository(session, tenant).save_cursor(connection_id, STREAM, position)


# ---- which Slack connections have something to deliver (the sensor's question, across firms)

PENDING = text(
    """
    select c.id, m.max_seq
    from app.connections c
    left join app.sync_state s on s.connection_id = c.id and s.stream = :stream
    join lateral (
        select max(o.seq) as max_seq from app.outbox o
        where o.firm_id = c.firm_id and o.entity = 'notification'
          and o.payload ->> 'connection_id' = c.id::text
          and (o.xid, o.seq) > (cast(split_part(coalesce(s.cursor, :start), ':', 1) as xid8),
                                cast(split_part(coalesce(s.cursor, :start), ':', 2) as bigint))
          and o.xid < pg_snapshot_xmin(pg_current_snapshot())
    ) m on true
    where c.deleted_at is null and c.status = 'active' and c.provider = :provider
      and m.max_seq is not null
    order by c.id
    """
)


def system_pending_notifications(session) -> list[tuple[uuid.UUID, int]]:
    """(Slack connection id, newest notification seq) of every active Slack connection with committed
    notifications past its cursor (owner session: across firms)."""
    rows = session.execute(PENDING, {"stream": STREAM, "start": START, "provider": PROVIDER})
    return [(row.id, int(row.max_seq)) for row in rows]
