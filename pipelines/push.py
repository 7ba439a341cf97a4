"""Push: the firm's local changes (app.outbox) → every accounting connection that should have them.

- Each accounting connection keeps its own cursor, `sync_state` stream `push:outbox` = the last outbox
  `seq` handled, so one change reaches every connection and a crashed run resumes where it stopped.
- Which connections get a change: every connection that already holds a copy of the entity (an
  `app.external_refs` row for that connection), and — for entities that were created locally (the
  outbox has their `created` row) — every accounting connection of the firm, which creates them. A
  record that came from a pull is only pushed back to the connection(s) it is linked to.
- Rows are read in commit-safe order: only rows whose writer's transaction is older than every transaction
  still running (`xid < pg_snapshot_xmin(pg_current_snapshot())`), ordered by (xid, seq). That set never
  grows behind the cursor, so a slow writer's row is never skipped (seq alone is drawn before commit). The
  cursor is `"<xid>:<seq>"` of the last row handled.
- Several changes of one entity in a run collapse into one push of its CURRENT state, read from the app
  tables. Invoices are pushed once issued (drafts stay local); a void invoice is voided at the vendor.
- Every outcome (vendor copy into the warehouse, external ref, conflict, dead letter) commits in ONE
  tenant transaction with the cursor. Vendor writes carry a request id derived from the outbox row (Intuit
  `requestid`, Xero `Idempotency-Key`), so a run killed between the vendor's answer and the commit
  re-sends the same write and the vendor applies it once.
- Conflicts (ADR 0009): a stale concurrency token is an edit on both sides. The platform's copy wins
  when it was updated after the vendor's (the push is retried once on the vendor's current token);
  otherwise the vendor's record goes into the warehouse and the pull merge overwrites the local edit.
  Both outcomes are written to `app.sync_conflicts`.
- Permanent refusals (vendor validation, a mapping that does not validate) dead-letter the change with the
  message (`app.dead_letters`, stream `push:<entity>`) and the cursor moves on; transient errors propagate
  (the step's RetryPolicy re-runs from the unchanged cursor); AuthError marks the connection needs_reauth.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import exists, select, text, update
from sqlalchemy.dialects.postgresql import insert

from connectors.base import AuthError, ConflictError, PermanentError
from connectors.records import CanonicalInvoice, CanonicalInvoiceLine, ClientDetails
from core_api.connections.repository import ConnectionRepository
from core_api.models import Client, DeadLetter, ExternalRef, SyncConflict
from core_api.models.audit import OutboxEntry
from core_api.models.billing import Invoice
from core_api.tenancy import TenantContext
from pipelines.connection_tokens import ConnectionTokens
from pipelines.push_vendors import PUSH_VENDORS, PushVendor
from pipelines.resources import FirmsyncDatabase
from pipelines.sync_engine import record_dead_letter, write_rows
from pipelines.sync_status import mark_connection

log = logging.getLogger(__name__)

STREAM = "push:outbox"
ENTITIES = ("client", "invoice")
ACCOUNTING_PROVIDERS = tuple(PUSH_VENDORS)
BATCH = 500
START = "0:0"  # the cursor before the first row
ISSUED = ("sent", "partial", "paid", "void")  # a draft is not in the books yet


class PushFailed(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


class Refused(Exception):
    """This change cannot be pushed as it is (a mapping, a vendor validation): dead-letter it."""


@dataclass
class Change:
    """Every outbox row of one entity in this run, collapsed."""

    entity: str
    entity_id: uuid.UUID
    first_seq: int
    last_seq: int
    first_position: str  # the cursor just before this change's first row ("<xid>:<seq - 1>")
    outbox_id: uuid.UUID  # of the latest row: the vendor request ids derive from it
    payload: dict[str, Any]
    operations: set[str] = field(default_factory=set)


@dataclass
class PushResult:
    connection_id: uuid.UUID
    cursor: str = START  # "<xid>:<seq>" of the last outbox row handled
    changes: int = 0
    pushed: int = 0
    skipped: int = 0
    conflicts: int = 0
    dead_lettered: int = 0

    def metadata(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "changes": self.changes,
            "pushed": self.pushed,
            "skipped": self.skipped,
            "conflicts": self.conflicts,
            "dead_lettered": self.dead_lettered,
        }


@dataclass
class _Outcome:
    """What pushing one change produced, written with the cursor in one transaction."""

    stored: list[tuple[str, uuid.UUID, dict[str, Any]]] = field(default_factory=list)  # entity, id, record
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    refused: str | None = None
    skipped: bool = False


def collapse(rows: list) -> list[Change]:
    """One `Change` per entity, in the order each entity first changed (a client before its invoice).
    `rows` are outbox rows in commit-safe order, each with its `xid` as text."""
    changes: dict[tuple[str, uuid.UUID], Change] = {}
    for row in rows:
        key = (row.entity, row.entity_id)
        change = changes.get(key)
        if change is None:
            change = changes[key] = Change(
                row.entity, row.entity_id, row.seq, row.seq, f"{row.xid}:{row.seq - 1}", row.id, row.payload
            )
        change.last_seq, change.outbox_id, change.payload = row.seq, row.id, row.payload
        change.operations.add(row.operation)
    return list(changes.values())  # dicts keep first-insertion order: the order of each first row


# Rows past a "<xid>:<seq>" cursor whose transactions are all finished, in commit-safe order.
COMMITTED_ROWS = text(
    """
    select o.id, o.seq, o.xid::text as xid, o.entity, o.entity_id, o.operation, o.payload
    from app.outbox o
    where o.firm_id = :firm_id and o.entity = any(:entities)
      and (o.xid, o.seq) > (cast(split_part(:cursor, ':', 1) as xid8),
                            cast(split_part(:cursor, ':', 2) as bigint))
      and o.xid < pg_snapshot_xmin(pg_current_snapshot())
    order by o.xid, o.seq
    limit :batch
    """
)


def push_connection(
    db: FirmsyncDatabase,
    client_factory: Any,
    connection_id: uuid.UUID,
    *,
    batch: int = BATCH,
    vendor: PushVendor | None = None,
) -> PushResult:
    """Push the firm's outbox past this connection's cursor (at most `batch` committed rows) to it."""
    tenant, connection = db.connection(connection_id)
    vendor = vendor or PUSH_VENDORS[connection.provider]
    result = PushResult(connection_id=connection_id)
    with db.tenant(tenant) as session:
        result.cursor = ConnectionRepository(session, tenant).get_cursor(connection_id, STREAM) or START
        rows = session.execute(
            COMMITTED_ROWS,
            {"firm_id": tenant.firm_id, "entities": list(ENTITIES), "cursor": result.cursor, "batch": batch},
        ).all()
        changes = collapse(rows)
        last = f"{rows[-1].xid}:{rows[-1].seq}" if rows else result.cursor
    if not changes:
        return result
    result.changes = len(changes)
    mapping, mapping_problem = _mapping(vendor, connection.mapping)
    tokens = ConnectionTokens(db, tenant, connection_id, vendor.credentials_model)
    try:
        api = client_factory.client(connection.config, tokens.load(), on_tokens=tokens.save)
        push = _Push(db, tenant, vendor, api, connection_id, mapping, mapping_problem)
        for position, change in enumerate(changes):
            # The cursor may pass this change only up to the first row of the next one not yet pushed.
            cursor = changes[position + 1].first_position if position + 1 < len(changes) else last
            outcome = push.change(change)
            _commit(db, tenant, vendor, connection_id, change, outcome, cursor)
            result.cursor = cursor
            result.conflicts += len(outcome.conflicts)
            if outcome.refused:
                result.dead_lettered += 1
            elif outcome.skipped:
                result.skipped += 1
            else:
                result.pushed += 1
    except AuthError as exc:
        mark_connection(db, tenant, connection_id, outcome="failed", error=str(exc), status="needs_reauth")
        raise PushFailed(f"AuthError: {exc}", permanent=True) from exc
    return result


def _mapping(vendor: PushVendor, stored: dict | None) -> tuple[Any, str | None]:
    try:
        return vendor.mapping_model.model_validate(stored or {}), None
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'mapping'}: {error['msg']}" for error in exc.errors()
        )
        return None, (
            f"the connection's {vendor.provider} mapping is incomplete ({fields}): "
            "set it with PUT /connections/{id}/mapping"
        )


def _request_id(change: Change, purpose: str) -> str:
    return uuid.uuid5(change.outbox_id, purpose).hex


class _Push:
    """Pushing one change to one connection: reads with short transactions, then vendor calls."""

    def __init__(self, db, tenant, vendor: PushVendor, api, connection_id, mapping, mapping_problem) -> None:
        self.db, self.tenant, self.vendor, self.api = db, tenant, vendor, api
        self.connection_id, self.mapping, self.mapping_problem = connection_id, mapping, mapping_problem

    def change(self, change: Change) -> _Outcome:
        outcome = _Outcome()
        try:
            if change.entity == "client":
                self._client(change, change.entity_id, outcome, create=None)
            else:
                self._invoice(change, outcome)
        except Refused as exc:
            outcome.refused = str(exc)
        except AuthError:
            raise
        except PermanentError as exc:  # the vendor refused the write (validation): keep it for a person
            outcome.refused = str(exc)
        except ValueError as exc:  # a payload builder refused the record (too long a name, a missing token)
            outcome.refused = f"cannot be pushed: {exc}"

        return outcome

    # ---- reading local state and what the vendor has

    def _local(self, model, entity_id: uuid.UUID):
        with self.db.tenant(self.tenant) as session:
            row = session.get(model, entity_id)
            if row is not None:
                session.expunge(row)
            return row

    def _copy(self, entity: str, entity_id: uuid.UUID) -> tuple[str | None, Any, dict | None]:
        """(external id, concurrency token, vendor record as last seen) of this connection's copy."""
        table = self.vendor.stores[entity].table
        with self.db.tenant(self.tenant) as session:
            external_id = session.scalar(
                select(ExternalRef.external_id).where(
                    ExternalRef.firm_id == self.tenant.firm_id,
                    ExternalRef.connection_id == self.connection_id,
                    ExternalRef.entity == entity,
                    ExternalRef.entity_id == entity_id,
                )
            )
            if external_id is None:
                return None, None, None
            raw = session.scalar(
                select(table.c.raw).where(
                    table.c.connection_id == self.connection_id, table.c.external_id == external_id
                )
            )
        if raw is None:  # linked, but the warehouse lost its copy: ask the vendor
            raw = self.vendor.fetch(self.api, entity, external_id)
        return external_id, self.vendor.token_of(raw), raw

    def _created_locally(self, entity: str, entity_id: uuid.UUID) -> bool:
        with self.db.tenant(self.tenant) as session:
            return bool(
                session.scalar(
                    select(
                        exists().where(
                            OutboxEntry.firm_id == self.tenant.firm_id,
                            OutboxEntry.entity == entity,
                            OutboxEntry.entity_id == entity_id,
                            OutboxEntry.operation == "created",
                        )
                    )
                )
            )

    # ---- clients

    def _client(self, change: Change, client_id: uuid.UUID, outcome: _Outcome, *, create: bool | None):
        """Push a client; returns its external id here, or None when it is not this connection's."""
        client = self._local(Client, client_id)
        if client is None:
            outcome.skipped = True
            return None
        external_id, token, _ = self._copy("client", client_id)
        created_here = create or (change.entity == "client" and "created" in change.operations)
        if external_id is None and not (created_here or self._created_locally("client", client_id)):
            outcome.skipped = True  # pulled from elsewhere: only the connections holding it get its edits
            return None
        details = ClientDetails(
            name=client.name,
            email=client.email,
            phone=client.phone,
            address_line1=client.address_line1,
            address_line2=client.address_line2,
            city=client.city,
            region=client.region,
            postal_code=client.postal_code,
            country=client.country,
            active=client.status == "active" and client.deleted_at is None,
        )
        purpose = "client" if change.entity == "client" else f"client-of:{change.entity_id}"
        record = self._write(
            change,
            "client",
            client_id,
            client.updated_at,
            details.model_dump(mode="json"),
            external_id,
            token,
            lambda tok, rid: self.vendor.push_client(self.api, details, external_id, tok, rid),
            purpose,
            outcome,
        )
        outcome.stored.append(("client", client_id, record))
        return self.vendor.stores["client"].map_record(record)["external_id"]

    # ---- invoices

    def _invoice(self, change: Change, outcome: _Outcome) -> None:
        invoice = self._local(Invoice, change.entity_id)
        if invoice is None or invoice.deleted_at is not None or invoice.status not in ISSUED:
            outcome.skipped = True  # drafts (and deleted drafts) never reached the books
            return
        external_id, token, seen = self._copy("invoice", invoice.id)
        if external_id is None and (
            invoice.status == "void"
            or not ("created" in change.operations or self._created_locally("invoice", invoice.id))
        ):
            outcome.skipped = True  # never pushed here: nothing to void, nothing of ours
            return
        if invoice.status == "void":
            if seen is not None and self.vendor.is_voided(seen):
                outcome.skipped = True
                return
            record = self._write(
                change,
                "invoice",
                invoice.id,
                invoice.updated_at,
                {"number": invoice.number, "status": "void"},
                external_id,
                token,
                lambda tok, _rid: self.vendor.void_invoice(self.api, external_id, tok),
                "void",
                outcome,
            )
            outcome.stored.append(("invoice", invoice.id, record))
            return
        if self.mapping_problem:
            raise Refused(self.mapping_problem)
        customer = self._copy("client", invoice.client_id)[0] or self._client(
            change, invoice.client_id, outcome, create=True
        )
        if customer is None:
            raise Refused(f"client {invoice.client_id} of invoice {invoice.number} no longer exists")
        try:
            canonical = CanonicalInvoice(
                number=invoice.number,
                customer_external_id=customer,
                currency=invoice.currency,
                issue_date=invoice.issue_date,
                due_date=invoice.due_date,
                notes=invoice.notes,
                lines=tuple(
                    CanonicalInvoiceLine(
                        description=line.description,
                        quantity=line.quantity,
                        unit_price=line.unit_price,
                        amount=line.amount,
                        tax_rate=line.tax_rate,
                    )
                    for line in invoice.lines
                ),
            )
        except ValidationError as exc:
            raise Refused(f"invoice {invoice.number} cannot be pushed: {exc}") from None

        def send(tok, rid):
            try:
                return self.vendor.push_invoice(self.api, canonical, self.mapping, external_id, tok, rid)
            except ValueError as exc:  # the payload builder: e.g. a tax rate the mapping has no code for
                raise Refused(str(exc)) from None

        record = self._write(
            change,
            "invoice",
            invoice.id,
            invoice.updated_at,
            canonical.model_dump(mode="json"),
            external_id,
            token,
            send,
            "invoice",
            outcome,
        )
        outcome.stored.append(("invoice", invoice.id, record))

    # ---- one vendor write, with the conflict rule

    def _write(
        self,
        change: Change,
        entity: str,
        entity_id: uuid.UUID,
        platform_updated_at: datetime,
        platform_payload: dict[str, Any],
        external_id: str | None,
        token: Any,
        call: Callable[[Any, str], dict[str, Any]],
        purpose: str,
        outcome: _Outcome,
    ) -> dict[str, Any]:
        try:
            return call(token, _request_id(change, purpose))
        except ConflictError as conflict:
            current = conflict.current
            if current is None:
                raise Refused(f"{conflict} (and the vendor no longer returns the record)") from None
            vendor_updated_at = self.vendor.updated_at(entity, current)
            platform_wins = vendor_updated_at is None or platform_updated_at > vendor_updated_at
            outcome.conflicts.append(
                {
                    "entity": entity,
                    "entity_id": entity_id,
                    "external_id": str(external_id),
                    "platform_updated_at": platform_updated_at,
                    "vendor_updated_at": vendor_updated_at,
                    "resolution": "platform_wins" if platform_wins else "vendor_wins",
                    "platform_payload": platform_payload,
                    "vendor_payload": current,
                }
            )
            log.info(
                "conflict on %s %s (%s): platform %s, vendor %s → %s",
                entity,
                entity_id,
                external_id,
                platform_updated_at,
                vendor_updated_at,
                "platform wins" if platform_wins else "vendor wins",
            )
            if not platform_wins:
                return current  # stored as the vendor has it; the pull merge overwrites the local edit
            # Once, on the vendor's current token; a second conflict fails the step (retried later).
            return call(self.vendor.token_of(current), _request_id(change, f"{purpose}:retry"))


@dataclass(frozen=True)
class PushDeadLetters:
    name: str
    entity_id: str

    def record_id(self, _payload: dict[str, Any]) -> str:
        return self.entity_id


def _commit(
    db: FirmsyncDatabase,
    tenant: TenantContext,
    vendor: PushVendor,
    connection_id: uuid.UUID,
    change: Change,
    outcome: _Outcome,
    cursor: str,
) -> None:
    now = datetime.now(UTC)
    with db.tenant(tenant) as session:
        for entity, entity_id, record in outcome.stored:
            stream = vendor.stores[entity]
            row = {
                **stream.map_record(record),
                "firm_id": tenant.firm_id,
                "connection_id": connection_id,
                "synced_at": now,
            }
            row["deleted_at"] = stream.deleted_at(row) if stream.deleted_at else None
            owned = {"firm_id": tenant.firm_id, "connection_id": connection_id}
            kids = [[{**kid, **owned} for kid in child.rows(record)] for child in stream.children]
            write_rows(session, stream, connection_id, [row], [kids])
            session.execute(
                insert(ExternalRef)
                .values(
                    id=uuid.uuid4(),
                    firm_id=tenant.firm_id,
                    entity=entity,
                    entity_id=entity_id,
                    provider=vendor.provider,
                    connection_id=connection_id,
                    external_id=row["external_id"],
                )
                .on_conflict_do_nothing(index_elements=["connection_id", "entity", "external_id"])
            )
        for conflict in outcome.conflicts:
            session.add(
                SyncConflict(
                    firm_id=tenant.firm_id, connection_id=connection_id, provider=vendor.provider, **conflict
                )
            )
        letters = PushDeadLetters(f"push:{change.entity}", str(change.entity_id))
        if outcome.refused:
            record_dead_letter(
                session, tenant, vendor.provider, connection_id, letters, change.payload, outcome.refused
            )
        elif not outcome.skipped:
            # Pushed now: an earlier refusal of this entity is settled.
            session.execute(
                update(DeadLetter)
                .where(
                    DeadLetter.firm_id == tenant.firm_id,
                    DeadLetter.connection_id == connection_id,
                    DeadLetter.stream == letters.name,
                    DeadLetter.external_id == letters.entity_id,
                    DeadLetter.status != "resolved",
                )
                .values(status="resolved", resolved_at=now)
            )
        ConnectionRepository(session, tenant).save_cursor(connection_id, STREAM, cursor)


# ---- which connections have something to push (the sensor's question, across firms)

PENDING = text(
    """
    select c.id, c.provider, m.max_seq
    from app.connections c
    left join app.sync_state s on s.connection_id = c.id and s.stream = :stream
    join lateral (
        select max(o.seq) as max_seq from app.outbox o
        where o.firm_id = c.firm_id and o.entity in ('client', 'invoice')
          and (o.xid, o.seq) > (cast(split_part(coalesce(s.cursor, :start), ':', 1) as xid8),
                                cast(split_part(coalesce(s.cursor, :start), ':', 2) as bigint))
          and o.xid < pg_snapshot_xmin(pg_current_snapshot())
    ) m on true
    where c.deleted_at is null and c.status = 'active' and c.provider = any(:providers)
      and m.max_seq is not null
    order by c.id
    """
)


def system_pending_pushes(session) -> list[tuple[uuid.UUID, str, int]]:
    """(connection id, provider, newest outbox seq) of every live accounting connection with committed
    changes past its push cursor (owner session: across firms)."""
    rows = session.execute(
        PENDING, {"stream": STREAM, "providers": list(ACCOUNTING_PROVIDERS), "start": START}
    )
    return [(row.id, row.provider, int(row.max_seq)) for row in rows]
