"""Calendar push: a staff member's events edited in firmsync → their calendar at the vendor (ADR 0011, 0015):
Google Calendar and Microsoft 365 (Graph, `If-Match: W/"<changeKey>"`, creates with `transactionId`).

The accounting push (`pipelines/push.py`) sends clients and invoices to the firm's books; this sends
`calendar_event` outbox rows to the calendar connection of the event's staff member, with the same
machinery: commit-safe reading order (xid, seq), one `sync_state` cursor per connection (`push:calendar`),
every outcome committed with the cursor in one tenant transaction.

- Created here (no link yet): inserted into the connection's own calendar with an id derived from the
  platform's id, so a run killed after Google's answer re-sends the same insert and finds the same event.
- Edited: replaced with `If-Match: <etag last merged>` (`provider_etags`). Deleted: deleted with it.
- A stale etag (412) is an edit on both sides: DESIGN's rule — the vendor's `updated` wins unless the
  platform's copy is newer. Platform wins: written again over the vendor's current etag. Vendor wins: the
  vendor's record is stored and merged back over the local copy (a deletion is undone). Both are recorded
  in app.sync_conflicts.
- The vendor's answer is stored in the warehouse as a pull would store it, and its etag as the one last
  merged, so the next pull does not take our own write for a vendor edit.
- Refusals (vendor validation, an event the mapping cannot express) are dead-lettered (stream
  `push:calendar_event`) and the cursor moves on; AuthError marks the connection needs_reauth.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert

from connectors.base import AuthError, ConflictError, PermanentError
from connectors.google_calendar import mapping as google_mapping
from connectors.google_calendar.client import CALENDAR_KEY
from connectors.google_calendar.config import GoogleCalendarCredentials
from connectors.microsoft_calendar import mapping as microsoft_mapping
from connectors.microsoft_calendar.config import MicrosoftCalendarCredentials
from connectors.records import CalendarEventDetails
from core_api.connections.repository import ConnectionRepository
from core_api.models import ExternalRef, SyncConflict
from pipelines.assets.google_calendar import EVENTS as GOOGLE_EVENTS
from pipelines.assets.google_calendar import GOOGLE_CALENDAR, STAFF_USER, merge_events
from pipelines.assets.microsoft_calendar import MICROSOFT_CALENDAR
from pipelines.assets.microsoft_calendar import merge_events as merge_microsoft_events
from pipelines.connection_tokens import ConnectionTokens
from pipelines.push import COMMITTED_ROWS, START, Change, PushDeadLetters, PushFailed, PushResult, collapse
from pipelines.resources import FirmsyncDatabase
from pipelines.streams import StreamSpec
from pipelines.sync_engine import record_dead_letter, write_rows
from pipelines.sync_status import mark_connection

STREAM = "push:calendar"
ENTITY = "calendar_event"
BATCH = 500


@dataclass(frozen=True)
class CalendarPushVendor:
    provider: str
    client_resource: str
    credentials_model: type[BaseModel]
    store: StreamSpec  # the warehouse stream holding the vendor's copy
    calendar_of: Callable[[dict[str, Any]], str]  # connection config → the calendar new events go to
    # (api, calendar_id, details, platform_id) → the vendor's event
    insert: Callable[[Any, str, CalendarEventDetails, uuid.UUID], dict[str, Any]]
    # (api, calendar_id, external_id, details, token) → the vendor's event; ConflictError when stale
    update: Callable[[Any, str, str, CalendarEventDetails, str | None], dict[str, Any]]
    # (api, calendar_id, external_id, token) → None; ConflictError when stale
    delete: Callable[[Any, str, str, str | None], None]
    token_of: Callable[[dict[str, Any]], str | None]
    # (session, tenant, connection_id) → counts: the pull's merge, run after a vendor-wins conflict
    merge: Callable[[Any, Any, Any], dict[str, int]]
    # The warehouse columns of the event's calendar (None: one calendar per connection) and its token.
    calendar_column: str | None = "calendar_id"
    token_column: str = "etag"  # noqa: S105 - a column name
    # The key the vendor's records carry their calendar under in the warehouse (None: they carry none).
    calendar_key: str | None = CALENDAR_KEY

    def updated_at(self, record: dict[str, Any]) -> datetime | None:
        return self.store.map_record(record).get("updated_at")

    def stored(self, record: dict[str, Any], calendar: str | None) -> dict[str, Any]:
        """The vendor's record as the warehouse keeps it (with its calendar, where the vendor has several)."""
        return {**record, self.calendar_key: calendar} if self.calendar_key else record


GOOGLE_CALENDAR_PUSH = CalendarPushVendor(
    provider=GOOGLE_CALENDAR.provider,
    client_resource=GOOGLE_CALENDAR.client_resource,
    credentials_model=GoogleCalendarCredentials,
    store=next(s for s in GOOGLE_CALENDAR.streams if s.asset_key == GOOGLE_EVENTS),
    calendar_of=lambda config: str(config["account_email"]),
    insert=lambda api, calendar, details, platform_id: api.insert_event(
        calendar, google_mapping.event_body(details, event_id=google_mapping.event_id_for(platform_id))
    ),
    update=lambda api, calendar, external_id, details, token: api.update_event(
        calendar, external_id, google_mapping.event_body(details), token
    ),
    delete=lambda api, calendar, external_id, token: api.delete_event(calendar, external_id, token),
    token_of=lambda record: record.get("etag"),
    merge=merge_events,
)

# Microsoft 365: one calendar per connection (the mailbox's own); Graph's change key is the token; a create
# carries the platform's id as `transactionId`, so a retried POST returns the first one's event.
MICROSOFT_CALENDAR_PUSH = CalendarPushVendor(
    provider=MICROSOFT_CALENDAR.provider,
    client_resource=MICROSOFT_CALENDAR.client_resource,
    credentials_model=MicrosoftCalendarCredentials,
    store=MICROSOFT_CALENDAR.streams[0],
    calendar_of=lambda config: str(config["account_email"]),
    insert=lambda api, calendar, details, platform_id: api.create_event(
        microsoft_mapping.event_fields(details, transaction_id=str(platform_id))
    ),
    update=lambda api, calendar, external_id, details, token: api.update_event(
        external_id, token, microsoft_mapping.event_fields(details)
    ),
    delete=lambda api, calendar, external_id, token: api.delete_event(external_id, token),
    token_of=lambda record: record.get("changeKey"),
    merge=merge_microsoft_events,
    calendar_column=None,
    token_column="change_key",  # noqa: S106 - a column name
    calendar_key=None,
)

CALENDAR_PUSH_VENDORS: dict[str, CalendarPushVendor] = {
    v.provider: v for v in (GOOGLE_CALENDAR_PUSH, MICROSOFT_CALENDAR_PUSH)
}


@dataclass
class _Outcome:
    stored: dict[str, Any] | None = None  # the vendor's event, with its calendar id
    ours: bool = False  # the stored record is our own write (its etag is the one merged)
    deleted_external_id: str | None = None
    conflict: dict[str, Any] | None = None
    vendor_wins: bool = False
    refused: str | None = None
    skipped: bool = False
    counts: dict[str, int] = field(default_factory=dict)


# The event, its link to this connection and the vendor's copy as last stored.
_EVENT = text(
    """
    select e.id, e.staff_user_id, e.title, e.description, e.location, e.starts_at, e.ends_at, e.timezone,
           e.all_day, e.deleted_at, e.updated_at, e.provider_etags->>:provider as known_etag,
           r.external_id, {calendar} as calendar_id, w.{token} as stored_etag
    from app.calendar_events e
    left join app.external_refs r
      on r.connection_id = :connection_id and r.entity = :entity and r.entity_id = e.id
    left join {table} w on w.connection_id = :connection_id and w.external_id = r.external_id
    where e.id = :event_id and e.firm_id = :firm_id
    """
)


def push_calendar(
    db: FirmsyncDatabase,
    client_factory: Any,
    connection_id: uuid.UUID,
    *,
    vendor: CalendarPushVendor | None = None,
    batch: int = BATCH,
) -> PushResult:
    """Push the firm's calendar outbox past this connection's cursor to the staff member's calendar."""
    tenant, connection = db.connection(connection_id)
    vendor = vendor or CALENDAR_PUSH_VENDORS[connection.provider]
    result = PushResult(connection_id=connection_id)
    params = {"connection_id": connection_id, "firm_id": tenant.firm_id}
    with db.tenant(tenant) as session:
        result.cursor = ConnectionRepository(session, tenant).get_cursor(connection_id, STREAM) or START
        rows = session.execute(
            COMMITTED_ROWS, {**params, "entities": [ENTITY], "cursor": result.cursor, "batch": batch}
        ).all()
        staff_user_id = session.execute(STAFF_USER, params).scalar()
    changes = collapse(rows)
    if not changes:
        return result
    last = f"{rows[-1].xid}:{rows[-1].seq}"
    result.changes = len(changes)
    calendar = vendor.calendar_of(connection.config)
    tokens = ConnectionTokens(db, tenant, connection_id, vendor.credentials_model)
    read_event = text(
        _EVENT.text.format(
            table=f"{vendor.store.table.schema}.{vendor.store.table.name}",
            calendar=f"w.{vendor.calendar_column}" if vendor.calendar_column else "cast(null as text)",
            token=vendor.token_column,
        )
    )
    merge_after = False
    try:
        api = client_factory.client(connection.config, tokens.load(), on_tokens=tokens.save)
        for position, change in enumerate(changes):
            cursor = changes[position + 1].first_position if position + 1 < len(changes) else last
            with db.tenant(tenant) as session:
                event = session.execute(
                    read_event,
                    {**params, "provider": vendor.provider, "entity": ENTITY, "event_id": change.entity_id},
                ).one_or_none()
            if event is None or staff_user_id is None or event.staff_user_id != staff_user_id:
                outcome = _Outcome(skipped=True)  # not this staff member's calendar
            else:
                outcome = _push_one(vendor, api, calendar, event)
            _commit(db, tenant, vendor, connection_id, change, event, outcome, cursor)
            result.cursor = cursor
            merge_after |= outcome.vendor_wins
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
    finally:
        if merge_after:
            # The vendor won a conflict: bring its version into the app now rather than at the next sync.
            with db.tenant(tenant) as session:
                vendor.merge(session, tenant, connection_id)
    return result


def _push_one(vendor: CalendarPushVendor, api: Any, calendar: str, event: Any) -> _Outcome:
    outcome = _Outcome()
    calendar = event.calendar_id or calendar
    token = event.known_etag or event.stored_etag
    try:
        if event.deleted_at is not None:
            if event.external_id is None:
                return _Outcome(skipped=True)  # never reached the vendor
            _write(
                vendor,
                event,
                outcome,
                lambda tok: vendor.delete(api, calendar, event.external_id, tok),
                token,
                platform_payload={"deleted": True},
            )
            if not outcome.vendor_wins:
                outcome.deleted_external_id = event.external_id
            return outcome
        details = CalendarEventDetails(
            title=event.title,
            description=event.description,
            location=event.location,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            timezone=event.timezone,
            all_day=event.all_day,
        )
        if event.external_id is None:
            record = vendor.insert(api, calendar, details, event.id)
        else:
            record = _write(
                vendor,
                event,
                outcome,
                lambda tok: vendor.update(api, calendar, event.external_id, details, tok),
                token,
                platform_payload=details.model_dump(mode="json"),
            )
        if record is not None:
            outcome.stored, outcome.ours = vendor.stored(record, calendar), True
    except (PermanentError, ValueError, ValidationError) as exc:
        outcome.refused = f"cannot be pushed: {exc}"
    return outcome


def _write(vendor, event, outcome: _Outcome, call, token, *, platform_payload: dict[str, Any]):
    """One vendor write with the conflict rule; the vendor's record (None for a deletion)."""
    try:
        return call(token)
    except ConflictError as conflict:
        current = conflict.current
        if current is None:
            raise PermanentError(vendor.provider, f"{conflict} (and the event is gone)") from None
        vendor_updated_at = vendor.updated_at(current)
        platform_wins = vendor_updated_at is None or event.updated_at > vendor_updated_at
        outcome.conflict = {
            "entity": ENTITY,
            "entity_id": event.id,
            "external_id": event.external_id,
            "platform_updated_at": event.updated_at,
            "vendor_updated_at": vendor_updated_at,
            "resolution": "platform_wins" if platform_wins else "vendor_wins",
            "platform_payload": platform_payload,
            "vendor_payload": current,
        }
        if not platform_wins:
            outcome.vendor_wins = True
            outcome.stored = vendor.stored(current, event.calendar_id)
            return None
        # Once, over the vendor's current etag; a second conflict fails the step (retried from the cursor).
        return call(vendor.token_of(current))


_SET_ETAG = text(
    """
    update app.calendar_events
    set provider_etags = provider_etags || jsonb_build_object(cast(:provider as text), cast(:etag as text))
    where id = :id and firm_id = :firm_id
    """
)
# The vendor won over a local deletion: the event comes back, and the merge (which sees an etag it has not
# merged) overwrites it with the vendor's version.
_UNDELETE = text(
    """
    update app.calendar_events
    set deleted_at = null, provider_etags = provider_etags - cast(:provider as text),
        version = version + 1, updated_at = now()
    where id = :id and firm_id = :firm_id
    """
)


def _commit(db, tenant, vendor: CalendarPushVendor, connection_id, change: Change, event, outcome, cursor):
    now = datetime.now(UTC)
    with db.tenant(tenant) as session:
        ids = {"id": change.entity_id, "firm_id": tenant.firm_id, "provider": vendor.provider}
        if outcome.stored is not None:
            row = {
                **vendor.store.map_record(outcome.stored),
                "firm_id": tenant.firm_id,
                "connection_id": connection_id,
                "synced_at": now,
            }
            row["deleted_at"] = now if vendor.store.tombstone(outcome.stored) else None
            write_rows(session, vendor.store, connection_id, [row], [[] for _ in vendor.store.children])
            session.execute(
                insert(ExternalRef)
                .values(
                    id=uuid.uuid4(),
                    firm_id=tenant.firm_id,
                    entity=ENTITY,
                    entity_id=change.entity_id,
                    provider=vendor.provider,
                    connection_id=connection_id,
                    external_id=row["external_id"],
                )
                .on_conflict_do_nothing(index_elements=["connection_id", "entity", "external_id"])
            )
            if outcome.ours:
                session.execute(_SET_ETAG, ids | {"etag": vendor.token_of(outcome.stored)})
            elif outcome.vendor_wins and event.deleted_at is not None:
                session.execute(_UNDELETE, ids)
        if outcome.deleted_external_id is not None:
            table = vendor.store.table
            session.execute(
                table.update()
                .where(
                    table.c.connection_id == connection_id, table.c.external_id == outcome.deleted_external_id
                )
                .values(deleted_at=now, synced_at=now)
            )
        if outcome.conflict is not None:
            session.add(
                SyncConflict(
                    firm_id=tenant.firm_id,
                    connection_id=connection_id,
                    provider=vendor.provider,
                    **outcome.conflict,
                )
            )
        if outcome.refused:
            letters = PushDeadLetters(f"push:{ENTITY}", str(change.entity_id))
            record_dead_letter(
                session, tenant, vendor.provider, connection_id, letters, change.payload, outcome.refused
            )
        ConnectionRepository(session, tenant).save_cursor(connection_id, STREAM, cursor)


# ---- which calendar connections have something to push (the sensor's question, across firms)

PENDING = text(
    """
    select c.id, c.provider, m.max_seq
    from app.connections c
    left join app.sync_state s on s.connection_id = c.id and s.stream = :stream
    join lateral (
        select max(o.seq) as max_seq from app.outbox o
        where o.firm_id = c.firm_id and o.entity = :entity
          and (o.xid, o.seq) > (cast(split_part(coalesce(s.cursor, :start), ':', 1) as xid8),
                                cast(split_part(coalesce(s.cursor, :start), ':', 2) as bigint))
          and o.xid < pg_snapshot_xmin(pg_current_snapshot())
    ) m on true
    where c.deleted_at is null and c.status = 'active' and c.provider = any(:providers)
      and m.max_seq is not null
    order by c.id
    """
)


def system_pending_calendar_pushes(session) -> list[tuple[uuid.UUID, str, int]]:
    """(connection id, provider, newest outbox seq) of every live calendar connection with committed event
    changes past its push cursor (owner session: across firms)."""
    rows = session.execute(
        PENDING,
        {"stream": STREAM, "entity": ENTITY, "providers": list(CALENDAR_PUSH_VENDORS), "start": START},
    )
    return [(row.id, row.provider, int(row.max_seq)) for row in rows]
