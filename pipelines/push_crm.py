"""Push to CRMs: the firm's local leads and contacts (app.outbox entities 'lead' and 'contact') → each
Salesforce connection, by upsert on the connection's external-id field (firmsync's id).

- Per connection a cursor, `sync_state` stream `push:crm` = `"<xid>:<seq>"` of the last outbox row handled,
  read in the same commit-safe order as the accounting push (`pipelines/push.py`), changes of one record
  collapsed into one push of its current state.
- Which records: one linked to this connection (an app.external_refs row) is updated by its Salesforce Id,
  with the external-id field set; one created locally (its outbox `created` row) is upserted on the
  external-id field — created once, however often a run is repeated. A contact goes only to an org that
  holds its client's account (its AccountId); others stay local. Records pulled from elsewhere stay local.
  A local deletion is not pushed (Salesforce's copy stays: deleting CRM data is the firm's call there).
- Conflict rule (DESIGN): Salesforce has no concurrency token, so a linked record is read first; if its
  SystemModstamp is newer than the copy the warehouse holds, it changed on both sides. The platform's copy
  wins when it was updated after Salesforce's (LastModifiedDate) and is pushed; otherwise Salesforce's is
  stored in the warehouse and the next pull merge applies it. Both outcomes go to app.sync_conflicts.
- Each outcome (Salesforce's copy into the warehouse, the external ref, a conflict, a dead letter for a
  refusal) commits with the cursor in one tenant transaction. Transient errors propagate (step retries from
  the unchanged cursor); AuthError marks the connection needs_reauth; the API-usage stop fails the run.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from sqlalchemy import exists, select, text
from sqlalchemy.dialects.postgresql import insert

from connectors.base import AuthError, PermanentError
from connectors.salesforce.client import parse_sf_datetime
from connectors.salesforce.config import SalesforceCredentials
from connectors.salesforce.mapping import contact_body, lead_body
from connectors.salesforce.transport import ApiUsageNearLimit
from core_api.connections.repository import ConnectionRepository
from core_api.models import Contact, ExternalRef, Lead, SyncConflict
from core_api.models.audit import OutboxEntry
from pipelines.assets.salesforce import SALESFORCE
from pipelines.connection_tokens import ConnectionTokens
from pipelines.factory import SYNC_RETRY, VENDOR_TAG
from pipelines.partitions import salesforce_connections
from pipelines.push import COMMITTED_ROWS, START, Change, PushFailed, PushResult, collapse
from pipelines.resources import FirmsyncDatabase
from pipelines.sync_engine import record_dead_letter, write_rows
from pipelines.sync_status import mark_connection

STREAM = "push:crm"
ENTITIES = ("lead", "contact")
PROVIDER = "salesforce"
BATCH = 500
STORES = {s.name: s for s in SALESFORCE.streams}
SOBJECT = {"lead": ("Lead", STORES["leads"]), "contact": ("Contact", STORES["contacts"])}


@dataclass
class _Outcome:
    stored: dict[str, Any] | None = None  # Salesforce's copy of the record
    conflict: dict[str, Any] | None = None
    refused: str | None = None
    skipped: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Letters:
    name: str
    entity_id: str

    def record_id(self, _payload: dict[str, Any]) -> str:
        return self.entity_id


def push_crm_connection(
    db: FirmsyncDatabase, client_factory: Any, connection_id: uuid.UUID, *, batch: int = BATCH
) -> PushResult:
    """Push the firm's lead and contact changes past this connection's cursor to its Salesforce org."""
    tenant, connection = db.connection(connection_id)
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
    tokens = ConnectionTokens(db, tenant, connection_id, SalesforceCredentials)
    try:
        api = client_factory.client(connection.config, tokens.load(), on_tokens=tokens.save)
        push = _CrmPush(db, tenant, api, connection_id)
        for position, change in enumerate(changes):
            cursor = changes[position + 1].first_position if position + 1 < len(changes) else last
            outcome = push.change(change)
            _commit(db, tenant, connection_id, change, outcome, cursor)
            result.cursor = cursor
            result.conflicts += outcome.conflict is not None
            if outcome.refused:
                result.dead_lettered += 1
            elif outcome.skipped:
                result.skipped += 1
            else:
                result.pushed += 1
    except AuthError as exc:
        mark_connection(db, tenant, connection_id, outcome="failed", error=str(exc), status="needs_reauth")
        raise PushFailed(f"AuthError: {exc}", permanent=True) from exc
    except ApiUsageNearLimit as exc:
        mark_connection(db, tenant, connection_id, outcome="failed", error=f"push: {exc}", status="error")
        raise PushFailed(str(exc), permanent=True) from exc
    return result


class _CrmPush:
    def __init__(self, db: FirmsyncDatabase, tenant, api, connection_id: uuid.UUID) -> None:
        self.db, self.tenant, self.api, self.connection_id = db, tenant, api, connection_id

    def change(self, change: Change) -> _Outcome:
        outcome = _Outcome()
        try:
            self._push(change, outcome)
        except ApiUsageNearLimit:
            raise
        except AuthError:
            raise
        except PermanentError as exc:  # Salesforce refused the write (validation, several matches)
            outcome.refused = str(exc)
        return outcome

    def _push(self, change: Change, outcome: _Outcome) -> None:
        model = Lead if change.entity == "lead" else Contact
        sobject, stream = SOBJECT[change.entity]
        with self.db.tenant(self.tenant) as session:
            local = session.get(model, change.entity_id)
            if local is not None:
                session.expunge(local)
            external_id = self._ref(session, change.entity, change.entity_id)
            created_here = "created" in change.operations or session.scalar(
                select(
                    exists().where(
                        OutboxEntry.firm_id == self.tenant.firm_id,
                        OutboxEntry.entity == change.entity,
                        OutboxEntry.entity_id == change.entity_id,
                        OutboxEntry.operation == "created",
                    )
                )
            )
            seen = None
            if external_id is not None:
                seen = session.scalar(
                    select(stream.table.c.system_modstamp).where(
                        stream.table.c.connection_id == self.connection_id,
                        stream.table.c.external_id == external_id,
                    )
                )
            account = None
            if change.entity == "contact" and local is not None:
                account = self._ref(session, "client", local.client_id)
        if local is None or local.deleted_at is not None:
            outcome.skipped = True
            return
        if external_id is None and not created_here:
            outcome.skipped = True  # pulled from elsewhere: not this org's
            return
        if change.entity == "contact" and account is None:
            outcome.skipped = True  # its client is no account of this org
            return
        body = self._body(change.entity, local, account)
        external_field = self.api.external_id_field(sobject)
        if external_id is not None:
            current = self.api.record(sobject, external_id)
            stamp = parse_sf_datetime(current["SystemModstamp"])
            if seen is not None and stamp > seen:
                vendor_updated = parse_sf_datetime(current["LastModifiedDate"])
                platform_wins = local.updated_at > vendor_updated
                outcome.conflict = {
                    "entity": change.entity,
                    "entity_id": change.entity_id,
                    "external_id": external_id,
                    "platform_updated_at": local.updated_at,
                    "vendor_updated_at": vendor_updated,
                    "resolution": "platform_wins" if platform_wins else "vendor_wins",
                    "platform_payload": body,
                    "vendor_payload": current,
                }
                if not platform_wins:
                    outcome.stored = current  # the pull merge applies Salesforce's copy
                    return
            self.api.update(sobject, external_id, body | {external_field: str(change.entity_id)})
            record_id = external_id
        else:
            record_id, _ = self.api.upsert(sobject, external_field, str(change.entity_id), body)
        outcome.stored = self.api.record(sobject, record_id)

    def _ref(self, session, entity: str, entity_id: uuid.UUID) -> str | None:
        return session.scalar(
            select(ExternalRef.external_id).where(
                ExternalRef.firm_id == self.tenant.firm_id,
                ExternalRef.connection_id == self.connection_id,
                ExternalRef.entity == entity,
                ExternalRef.entity_id == entity_id,
            )
        )

    @staticmethod
    def _body(entity: str, local: Any, account: str | None) -> dict[str, Any]:
        if entity == "lead":
            status = {"contacted": "Working - Contacted", "lost": "Closed - Not Converted"}.get(local.status)
            return lead_body(
                name=local.name,
                company=local.company_name,
                email=local.email,
                phone=local.phone,
                status=status,
                source=local.source,
            )
        name = " ".join(p for p in (local.first_name, local.last_name) if p)
        return contact_body(
            name=name, email=local.email, phone=local.phone, title=local.title, account_id=account
        )


def _commit(db, tenant, connection_id: uuid.UUID, change: Change, outcome: _Outcome, cursor: str) -> None:
    now = datetime.now(UTC)
    _, stream = SOBJECT[change.entity]
    with db.tenant(tenant) as session:
        if outcome.stored is not None:
            row = {
                **stream.map_record(outcome.stored),
                "firm_id": tenant.firm_id,
                "connection_id": connection_id,
            }
            row |= {"synced_at": now, "deleted_at": None}
            write_rows(session, stream, connection_id, [row], [[]])
            session.execute(
                insert(ExternalRef)
                .values(
                    id=uuid.uuid4(),
                    firm_id=tenant.firm_id,
                    entity=change.entity,
                    entity_id=change.entity_id,
                    provider=PROVIDER,
                    connection_id=connection_id,
                    external_id=row["external_id"],
                )
                .on_conflict_do_nothing(index_elements=["connection_id", "entity", "external_id"])
            )
        if outcome.conflict is not None:
            session.add(
                SyncConflict(
                    firm_id=tenant.firm_id, connection_id=connection_id, provider=PROVIDER, **outcome.conflict
                )
            )
        if outcome.refused:
            letters = _Letters(f"push:{change.entity}", str(change.entity_id))
            record_dead_letter(
                session, tenant, PROVIDER, connection_id, letters, change.payload, outcome.refused
            )
        ConnectionRepository(session, tenant).save_cursor(connection_id, STREAM, cursor)


# ---- the job and the sensor that launches it

PENDING = text(
    """
    select c.id, m.max_seq
    from app.connections c
    left join app.sync_state s on s.connection_id = c.id and s.stream = :stream
    join lateral (
        select max(o.seq) as max_seq from app.outbox o
        where o.firm_id = c.firm_id and o.entity in ('lead', 'contact')
          and (o.xid, o.seq) > (cast(split_part(coalesce(s.cursor, :start), ':', 1) as xid8),
                                cast(split_part(coalesce(s.cursor, :start), ':', 2) as bigint))
          and o.xid < pg_snapshot_xmin(pg_current_snapshot())
    ) m on true
    where c.deleted_at is null and c.status = 'active' and c.provider = :provider and m.max_seq is not null
    order by c.id
    """
)


@dg.op(
    name="salesforce_push",
    required_resource_keys={"db", "salesforce"},
    pool=PROVIDER,
    retry_policy=SYNC_RETRY,
    description="Push the firm's lead and contact changes to one Salesforce connection (upsert).",
)
def _push_op(context):
    connection_id = uuid.UUID(context.partition_key)
    try:
        result = push_crm_connection(context.resources.db, context.resources.salesforce, connection_id)
    except PushFailed as exc:
        raise dg.Failure(description=str(exc), allow_retries=not exc.permanent) from exc
    return dg.Output(result.metadata(), metadata=result.metadata())


@dg.job(
    name="salesforce_push_outbox",
    partitions_def=salesforce_connections,
    tags={VENDOR_TAG: PROVIDER},
    description="Push local leads and contacts to one Salesforce connection (partition).",
)
def salesforce_push_job():
    _push_op()


@dg.sensor(name="crm_outbox_push", job=salesforce_push_job, minimum_interval_seconds=10,
           default_status=dg.DefaultSensorStatus.RUNNING)  # fmt: skip
def crm_outbox_push(context, db: FirmsyncDatabase):
    """A push run per Salesforce connection with committed lead/contact changes past its cursor."""
    with db.system() as session:
        pending = session.execute(PENDING, {"stream": STREAM, "start": START, "provider": PROVIDER}).all()
    for row in pending:
        yield dg.RunRequest(run_key=f"crm-push:{row.id}:{row.max_seq}", partition_key=str(row.id))
