"""Push: a staff member's local edits to their Outlook events (app.outbox, entity `calendar_event`) →
Microsoft Graph, with the change key last merged as `If-Match`.

- Per connection, `sync_state` stream `push:calendar` holds the last outbox position handled (`"<xid>:<seq>"`,
  read in commit-safe order exactly as the accounting push reads it, `pipelines.push`).
- Only events linked to this connection (app.external_refs) are pushed: an edit PATCHes the event's fields, a
  local deletion deletes it, both with `If-Match: W/"<provider_etags['microsoft_calendar']>"`. Events created
  locally are not created in Outlook (not done yet).
- A stale change key (412) is an edit on both sides, decided by the rule of ADR 0011: the local copy wins when
  it was updated after Outlook's `lastModifiedDateTime` — the PATCH is repeated with Outlook's current change
  key and the conflict recorded here; otherwise Outlook's copy goes into the warehouse and the next merge
  applies it (and records the conflict, by the same rule).
- Outlook's answer is stored in warehouse.microsoft_calendar_events as a pull would store it, the new change
  key in `provider_etags`, the cursor moved — one tenant transaction per change.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from sqlalchemy import select, text

from connectors.base import AuthError, ConflictError, PermanentError
from connectors.microsoft_calendar.config import MicrosoftCalendarCredentials
from connectors.microsoft_calendar.mapping import event_fields, parse_graph_instant
from connectors.records import CalendarEventDetails
from core_api.connections.repository import ConnectionRepository
from core_api.models import CalendarEvent, ExternalRef, SyncConflict
from pipelines.assets.microsoft_calendar import MICROSOFT_CALENDAR
from pipelines.calendar_merge import ENTITY, FIELDS
from pipelines.connection_tokens import ConnectionTokens
from pipelines.factory import SYNC_RETRY, VENDOR_TAG
from pipelines.partitions import microsoft_calendar_connections
from pipelines.push import _READ, BATCH, START, PushFailed, PushResult, collapse
from pipelines.resources import FirmsyncDatabase
from pipelines.sensors import partition_changes
from pipelines.sync_engine import record_dead_letter, write_rows
from pipelines.sync_status import mark_connection

log = logging.getLogger(__name__)

PROVIDER = "microsoft_calendar"
STREAM = "push:calendar"
EVENTS = MICROSOFT_CALENDAR.streams[0]

_SEEN = text(
    """
    update app.calendar_events
    set provider_etags = provider_etags || jsonb_build_object(cast(:provider as text), cast(:etag as text))
    where id = :id and firm_id = :firm_id
    """
)


def push_calendar(
    db: FirmsyncDatabase, client_factory: Any, connection_id: uuid.UUID, *, batch: int = BATCH
) -> PushResult:
    """Push the staff member's committed calendar edits past this connection's cursor to Outlook."""
    tenant, connection = db.connection(connection_id)
    result = PushResult(connection_id=connection_id)
    with db.tenant(tenant) as session:
        result.cursor = ConnectionRepository(session, tenant).get_cursor(connection_id, STREAM) or START
        rows = session.execute(
            _READ, {"firm_id": tenant.firm_id, "entities": [ENTITY], "cursor": result.cursor, "batch": batch}
        ).all()
        changes = collapse(rows)
        last = f"{rows[-1].xid}:{rows[-1].seq}" if rows else result.cursor
    if not changes:
        return result
    result.changes = len(changes)
    tokens = ConnectionTokens(db, tenant, connection_id, MicrosoftCalendarCredentials)
    try:
        api = client_factory.client(connection.config, tokens.load(), on_tokens=tokens.save)
        for position, change in enumerate(changes):
            cursor = changes[position + 1].first_position if position + 1 < len(changes) else last
            outcome = _push_one(db, tenant, api, connection_id, change.entity_id)
            _commit(db, tenant, connection_id, change, outcome, cursor)
            result.cursor = cursor
            result.conflicts += outcome.get("conflict") is not None
            if outcome.get("refused"):
                result.dead_lettered += 1
            elif outcome.get("skipped") or outcome.get("vendor"):  # held: the merge applies Outlook's copy
                result.skipped += 1
            else:
                result.pushed += 1
    except AuthError as exc:
        mark_connection(db, tenant, connection_id, outcome="failed", error=str(exc), status="needs_reauth")
        raise PushFailed(f"AuthError: {exc}", permanent=True) from exc
    return result


def _push_one(db, tenant, api, connection_id, event_id: uuid.UUID) -> dict[str, Any]:
    with db.tenant(tenant) as session:
        external_id = session.scalar(
            select(ExternalRef.external_id).where(
                ExternalRef.firm_id == tenant.firm_id,
                ExternalRef.connection_id == connection_id,
                ExternalRef.entity == ENTITY,
                ExternalRef.entity_id == event_id,
            )
        )
        event = session.get(CalendarEvent, event_id)
        if event is not None:
            session.expunge(event)
    if external_id is None or event is None:
        return {"skipped": True}  # not this mailbox's event (or created locally: not pushed yet)
    change_key = (event.provider_etags or {}).get(PROVIDER)
    try:
        if event.deleted_at is not None:
            try:
                api.delete_event(external_id, change_key)
            except ConflictError as conflict:
                return {"vendor": conflict.current}  # changed in Outlook meanwhile: the merge decides
            return {"deleted": True}  # the next delta reports the removal
        fields = event_fields(
            CalendarEventDetails(
                title=event.title,
                description=event.description,
                location=event.location,
                starts_at=event.starts_at,
                ends_at=event.ends_at,
                timezone=event.timezone,
                all_day=event.all_day,
            )
        )
        try:
            return {"pushed": api.update_event(external_id, change_key, fields), "event": event}
        except ConflictError as conflict:
            current = conflict.current or {}
            vendor_updated = parse_graph_instant(current.get("lastModifiedDateTime"))
            if vendor_updated is not None and event.updated_at <= vendor_updated:
                return {"vendor": current}  # Outlook's edit is newer: the merge applies it and records it
            record = api.update_event(external_id, current.get("changeKey"), fields)
            return {"pushed": record, "event": event, "conflict": current}
    except PermanentError as exc:
        return {"refused": str(exc), "external_id": external_id}


def _commit(db, tenant, connection_id, change, outcome: dict[str, Any], cursor: str) -> None:
    now = datetime.now(UTC)
    with db.tenant(tenant) as session:
        record = outcome.get("pushed") or outcome.get("vendor")
        if record:
            row = EVENTS.map_record(record) | {
                "firm_id": tenant.firm_id,
                "connection_id": connection_id,
                "synced_at": now,
                "deleted_at": None,
            }
            write_rows(session, EVENTS, connection_id, [row], [[]])
        if outcome.get("pushed"):
            params = {"provider": PROVIDER, "etag": record.get("changeKey"), "id": change.entity_id}
            session.execute(_SEEN, params | {"firm_id": tenant.firm_id})
        if outcome.get("conflict") is not None:
            event, current = outcome["event"], outcome["conflict"]
            session.add(
                SyncConflict(
                    firm_id=tenant.firm_id,
                    connection_id=connection_id,
                    provider=PROVIDER,
                    entity=ENTITY,
                    entity_id=change.entity_id,
                    external_id=str(current.get("id")),
                    platform_updated_at=event.updated_at,
                    vendor_updated_at=parse_graph_instant(current.get("lastModifiedDateTime")),
                    resolution="platform_wins",
                    platform_payload={f: _json(getattr(event, f)) for f in FIELDS},
                    vendor_payload={"subject": current.get("subject"), "etag": current.get("changeKey")},
                )
            )
        if outcome.get("refused"):
            record_dead_letter(
                session, tenant, PROVIDER, connection_id, EVENTS,
                {"id": outcome["external_id"], "entity_id": str(change.entity_id)}, outcome["refused"],
            )  # fmt: skip
        ConnectionRepository(session, tenant).save_cursor(connection_id, STREAM, cursor)


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


@dg.op(
    name="microsoft_calendar_push",
    required_resource_keys={"db", "microsoft_calendar"},
    pool=PROVIDER,
    retry_policy=SYNC_RETRY,
    description="Push the staff member's edits of their Outlook events past this connection's cursor.",
)
def _push(context) -> dg.Output:  # not annotated: string annotations confuse dagster
    try:
        result = push_calendar(
            context.resources.db, context.resources.microsoft_calendar, uuid.UUID(context.partition_key)
        )
    except PushFailed as exc:
        raise dg.Failure(description=str(exc), allow_retries=not exc.permanent) from exc
    return dg.Output(result.metadata(), metadata=result.metadata())


@dg.job(
    name="microsoft_calendar_push_outbox",
    partitions_def=microsoft_calendar_connections,
    tags={VENDOR_TAG: PROVIDER},
    description="Push local calendar edits to one Microsoft 365 calendar connection (partition).",
)
def microsoft_calendar_push_outbox():
    _push()


# Microsoft connections with committed edits of events linked to them past their push cursor (across firms).
PENDING = text(
    """
    select c.id, m.max_seq
    from app.connections c
    left join app.sync_state s on s.connection_id = c.id and s.stream = :stream
    join lateral (
        select max(o.seq) as max_seq from app.outbox o
        join app.external_refs r
          on r.connection_id = c.id and r.entity = :entity and r.entity_id = o.entity_id
        where o.firm_id = c.firm_id and o.entity = :entity
          and (o.xid, o.seq) > (cast(split_part(coalesce(s.cursor, :start), ':', 1) as xid8),
                                cast(split_part(coalesce(s.cursor, :start), ':', 2) as bigint))
          and o.xid < pg_snapshot_xmin(pg_current_snapshot())
    ) m on true
    where c.deleted_at is null and c.status = 'active' and c.provider = :provider and m.max_seq is not null
    order by c.id
    """
)


@dg.sensor(
    name="microsoft_calendar_outbox_push",
    minimum_interval_seconds=10,
    default_status=dg.DefaultSensorStatus.RUNNING,
    jobs=[microsoft_calendar_push_outbox],
    description="Launches a calendar push run per Microsoft 365 connection whose events were edited locally.",
)
def microsoft_calendar_outbox_push(context: dg.SensorEvaluationContext, db: FirmsyncDatabase):
    with db.system() as session:
        params = {"stream": STREAM, "entity": ENTITY, "start": START, "provider": PROVIDER}
        pending = [(row.id, int(row.max_seq)) for row in session.execute(PENDING, params)]
    if not pending:
        return dg.SkipReason("no Microsoft 365 connection has local calendar edits past its push cursor")
    runs = [
        dg.RunRequest(
            run_key=f"push:{connection_id}:{max_seq}",
            job_name=microsoft_calendar_push_outbox.name,
            partition_key=str(connection_id),
            tags={"firmsync/trigger": "outbox"},
        )
        for connection_id, max_seq in pending
    ]
    wanted = {PROVIDER: {str(connection_id) for connection_id, _ in pending}}
    return dg.SensorResult(
        run_requests=runs,
        dynamic_partitions_requests=partition_changes(context.instance, wanted, remove=False),
    )
