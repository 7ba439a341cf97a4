"""Stripe webhook events from app.webhook_inbox, each applied exactly once (ADR 0013).

The API stored the event only after its `Stripe-Signature` verified, once per (provider, connection, event
id): a redelivery adds no row. The `webhook_inbox` sensor starts `stripe_webhooks_job` for the connection;
this module then, for its pending events in `seq` order:

1. reads what each event names from Stripe as it is *now* (`retrieve`: a customer, charge, payment intent,
   refund; a payment intent's latest charge; the charge or payment intent of a paid invoice). The current
   state, not the event's snapshot: events arrive out of order and more than once, and an older snapshot
   must never overwrite a newer row (the events API sync may have written it already). Done before any
   lock is taken, so no transaction waits on Stripe;
2. in ONE tenant transaction: locks each event's inbox row (`FOR UPDATE`, still `pending` or skipped —
   another run applied it), writes the objects into their warehouse tables with the sync's own writes
   (`write_rows`, a deleted customer's stub as a tombstone), marks the row `processed`; then runs the sync's
   merges for the connection (clients, then payments) once for the batch. The inbox status and every
   effect commit together or not at all: an event is applied once, and a crash applies it on the next run.

Dead-lettered (app.dead_letters, stream `webhook_events`, and the inbox row `failed`), never retried on its
own: an event for another Stripe account than the connection's (Connect's `account`), one without a JSON
body, and one naming an object Stripe does not know for this key (404). Events of other types are marked
processed and counted as ignored. An invalid key fails the run (the connection is marked needs_reauth).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from sqlalchemy import select, update

from connectors.base import AuthError, PermanentError
from connectors.stripe.changes import is_deleted
from connectors.stripe.mapping import STREAM_OF_OBJECT
from core_api.models.webhooks import WebhookInboxEntry
from pipelines.assets.stripe import STREAMS_BY_NAME, STRIPE, merge_clients, merge_payments
from pipelines.connection_tokens import ConnectionTokens
from pipelines.partitions import stripe_connections
from pipelines.resources import FirmsyncDatabase
from pipelines.sync_engine import _mapped, mark_tombstones, record_dead_letter, write_rows
from pipelines.sync_status import mark_connection

PROVIDER = "stripe"
DEAD_LETTER_STREAM = "webhook_events"
BATCH = 500  # events applied per transaction (one merge per batch)
APPLIED_TYPES = frozenset(
    {
        "customer.created",
        "customer.updated",
        "customer.deleted",
        "charge.succeeded",
        "charge.refunded",
        "charge.updated",
        "payment_intent.succeeded",
        "refund.created",
        "refund.updated",
        "invoice.payment_succeeded",
    }
)


class _DeadEvent(Exception):
    """An event that can never be applied as it is."""


@dataclass(frozen=True)
class _Entry:
    id: uuid.UUID
    event_id: str
    event_type: str | None
    payload: Any


@dataclass
class _Fetched:
    inbox_id: uuid.UUID
    event_id: str
    event_type: str | None
    payload: Any
    objects: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (stream, current object)
    dead: str | None = None
    ignored: bool = False


def _ref(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def _fetch(client: Any, account_id: str, entry: _Entry) -> _Fetched:
    fetched = _Fetched(entry.id, entry.event_id, entry.event_type, entry.payload)
    event = entry.payload
    try:
        if not isinstance(event, dict) or event.get("object") != "event":
            raise _DeadEvent("the delivery is not a Stripe event (no JSON event body)")
        account = event.get("account")
        if account is not None and account != account_id:
            raise _DeadEvent(f"event of Stripe account {account}, not the connection's {account_id}")
        if event.get("type") not in APPLIED_TYPES:
            fetched.ignored = True
            return fetched
        data_object = event.get("data", {}).get("object") if isinstance(event.get("data"), dict) else None
        if not isinstance(data_object, dict):
            raise _DeadEvent("event without data.object")
        kind = data_object.get("object")
        wanted: list[tuple[str, str]] = []
        if kind == "invoice":
            # A paid invoice: its payment is a charge (older API versions name it) or a payment intent.
            if charge := _ref(data_object.get("charge")):
                wanted.append(("charges", charge))
            if intent := _ref(data_object.get("payment_intent")):
                wanted.append(("payment_intents", intent))
        elif kind in STREAM_OF_OBJECT and _ref(data_object.get("id")):
            wanted.append((STREAM_OF_OBJECT[kind], _ref(data_object.get("id"))))
        else:
            raise _DeadEvent(f"event about a {kind!r} object")
        seen: set[tuple[str, str]] = set()
        while wanted:
            stream, object_id = wanted.pop(0)
            if (stream, object_id) in seen:
                continue
            seen.add((stream, object_id))
            current = client.retrieve(stream, object_id)
            fetched.objects.append((stream, current))
            if stream == "payment_intents" and (charge := _ref(current.get("latest_charge"))):
                wanted.append(("charges", charge))
    except _DeadEvent as exc:
        fetched.dead = str(exc)
    except PermanentError as exc:  # e.g. 404: no such object for this key
        fetched.dead = f"{type(exc).__name__}: {exc}"
    return fetched


def apply_pending_events(
    db: FirmsyncDatabase, client_factory: Any, connection_id: uuid.UUID, *, limit: int = BATCH
) -> dict[str, int]:
    """Apply the connection's pending Stripe events (oldest first, up to `limit`); returns counts."""
    tenant, connection = db.connection(connection_id)
    counts = dict.fromkeys(
        ("events_read", "events_applied", "events_ignored", "events_dead_lettered", "events_skipped"), 0
    )
    with db.tenant(tenant) as session:
        pending = session.execute(
            select(WebhookInboxEntry)
            .where(
                WebhookInboxEntry.firm_id == tenant.firm_id,
                WebhookInboxEntry.connection_id == connection_id,
                WebhookInboxEntry.provider == PROVIDER,
                WebhookInboxEntry.status == "pending",
            )
            .order_by(WebhookInboxEntry.seq)
            .limit(limit)
        ).scalars()
        entries = [
            _Entry(e.id, e.event_id, e.event_type, e.payload) for e in pending
        ]  # detached copies: the session closes before Stripe is called
    counts["events_read"] = len(entries)
    if not entries:
        return counts
    tokens = ConnectionTokens(db, tenant, connection_id, STRIPE.credentials_model)
    client = client_factory.client(connection.config, tokens.load(), on_tokens=tokens.save)
    account_id = str(connection.config.get("account_id"))
    try:
        fetched = [_fetch(client, account_id, entry) for entry in entries]
    except AuthError as exc:
        mark_connection(db, tenant, connection_id, outcome="failed", error=str(exc), status="needs_reauth")
        raise
    finally:
        close = getattr(client, "close", None)
        if close is not None:
            close()

    now = datetime.now(UTC)
    with db.tenant(tenant) as session:
        applied = False
        for item in fetched:
            status = session.execute(
                select(WebhookInboxEntry.status)
                .where(WebhookInboxEntry.id == item.inbox_id)
                .with_for_update()
            ).scalar()
            if status != "pending":
                counts["events_skipped"] += 1  # applied (or dead-lettered) by another run meanwhile
                continue
            error = None
            if item.dead is not None:
                error = item.dead
                record_dead_letter(
                    session,
                    tenant,
                    PROVIDER,
                    connection_id,
                    _DeadLetterStream,
                    item.payload if isinstance(item.payload, dict) else {"id": item.event_id},
                    item.dead,
                )
                counts["events_dead_lettered"] += 1
            elif item.ignored:
                counts["events_ignored"] += 1
            else:
                for stream_name, payload in item.objects:
                    _write(session, tenant, connection_id, stream_name, payload, now)
                counts["events_applied"] += 1
                applied = True
            session.execute(
                update(WebhookInboxEntry)
                .where(WebhookInboxEntry.id == item.inbox_id)
                .values(
                    status="failed" if error else "processed",
                    error=error,
                    attempts=WebhookInboxEntry.attempts + 1,
                    processed_at=now,
                )
            )
        if applied:
            counts |= merge_clients(session, tenant, connection_id)
            counts |= merge_payments(session, tenant, connection_id)
    return counts


class _DeadLetterStream:
    """What `record_dead_letter` needs of a stream: its name and the record's id (the event id)."""

    name = DEAD_LETTER_STREAM

    @staticmethod
    def record_id(payload: dict[str, Any]) -> str:
        return str(payload["id"])


def _write(session, tenant, connection_id, stream_name: str, payload: dict[str, Any], now: datetime) -> None:
    """The sync's own write of one object (a deleted customer's stub as a tombstone)."""
    stream = STREAMS_BY_NAME[stream_name]
    row, kids = _mapped(stream, payload, tenant, connection_id, now)
    if is_deleted(payload):
        mark_tombstones(session, stream, [(row, payload)])
    else:
        write_rows(session, stream, connection_id, [row], [kids])


# --------------------------------------------------------------------------- the job


@dg.op(
    name="stripe_apply_webhooks",
    required_resource_keys={"db", "stripe"},
    pool=PROVIDER,
    retry_policy=dg.RetryPolicy(max_retries=3, delay=15, backoff=dg.Backoff.EXPONENTIAL),
    description="Apply the connection's pending Stripe webhook events, each exactly once.",
)
def stripe_apply_webhooks(context):
    connection_id = uuid.UUID(context.partition_key)
    counts: dict[str, int] = {}
    while True:  # batches of BATCH events, until the connection has none pending
        batch = apply_pending_events(
            context.resources.db, context.resources.stripe, connection_id, limit=BATCH
        )
        for key, value in batch.items():
            if key.startswith("events_"):
                counts[key] = counts.get(key, 0) + value
            else:
                counts[key] = value  # the last merge's counts
        if batch["events_read"] < BATCH or batch["events_skipped"] == batch["events_read"]:
            break  # all done, or another run holds the rest
    context.log.info("stripe webhook events for %s: %s", context.partition_key, counts)
    return dg.Output(counts, metadata=counts)


@dg.job(
    name="stripe_webhooks_job",
    partitions_def=stripe_connections,
    tags={"firmsync/vendor": PROVIDER},
    description="Stripe webhook events of one connection (partition) applied to the warehouse and app "
    "billing.",
)
def stripe_webhooks_job():
    stripe_apply_webhooks()


__all__ = ["APPLIED_TYPES", "apply_pending_events", "stripe_webhooks_job"]
