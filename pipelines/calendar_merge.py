"""A staff member's synced calendar → their app.calendar_events, for any calendar provider (ADR 0011, 0015).

A provider declares a `CalendarSource`: its name and the SQL of its warehouse events in the app's shape, one
row per vendor event id — `external_id, etag, updated_at, deleted_at, title, description, location, all_day,
timezone, starts_at, ends_at` — for `:connection_id` and `:firm_id`. `etag` is the provider's concurrency
token (Google's etag, Graph's changeKey), kept in `provider_etags[<provider>]` once merged, so a push can send
If-Match and a conflict is seen once.

The connection's `account_email` names the staff member (an app user of the firm, by e-mail); events are
linked through app.external_refs entity 'calendar_event'. A local event edited since its last push (an outbox
change past the connection's `push:calendar` cursor, see pipelines/calendar_push.py) that the vendor also
changed is a conflict, resolved by DESIGN's rule — the vendor's `updated`
wins unless the platform's copy is newer — and recorded in app.sync_conflicts. Writes are plain SQL: they
never echo into the outbox.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from core_api.models import SyncConflict

ENTITY = "calendar_event"
FIELDS = ("title", "description", "location", "all_day", "timezone", "starts_at", "ends_at")
COUNTS = ("events_created", "events_updated", "events_deleted", "events_conflicts", "events_held")

STAFF_USER = text(
    """
    select u.id from app.connections c
    join app.users u on lower(u.email) = lower(c.config->>'account_email')
    join app.memberships m on m.user_id = u.id and m.firm_id = c.firm_id
    where c.id = :connection_id and c.firm_id = :firm_id
    """
)


@dataclass(frozen=True)
class CalendarSource:
    provider: str  # app.external_refs.provider and the provider_etags key
    source_sql: str  # the warehouse events in the app's shape (see the module docstring)


def _rows_sql(source: CalendarSource):
    # The source's events with their linked local event and what the merge last saw of it.
    return text(
        f"""
        with src as ({source.source_sql})
        select s.*, e.id as event_id, e.deleted_at as local_deleted_at, e.updated_at as local_updated_at,
               e.provider_etags->>:provider as known_etag,
               e.title as local_title, e.description as local_description, e.location as local_location,
               e.all_day as local_all_day, e.timezone as local_timezone, e.starts_at as local_starts_at,
               e.ends_at as local_ends_at,
               -- edited here since the last push to this connection (its calendar push cursor "<xid>:<seq>")
               exists (select 1 from app.outbox o
                       left join app.sync_state p
                         on p.connection_id = :connection_id and p.stream = 'push:calendar'
                       where o.firm_id = e.firm_id and o.entity = :entity and o.entity_id = e.id
                         and (o.xid, o.seq) > (
                             cast(split_part(coalesce(p.cursor, '0:0'), ':', 1) as xid8),
                             cast(split_part(coalesce(p.cursor, '0:0'), ':', 2) as bigint))
                      ) as edited_locally
        from src s
        left join app.external_refs r
          on r.connection_id = :connection_id and r.entity = :entity and r.external_id = s.external_id
        left join app.calendar_events e on e.id = r.entity_id and e.firm_id = :firm_id
        where s.deleted_at is not null or (s.starts_at is not null and s.ends_at is not null)
        """  # noqa: S608 - source_sql is a module constant, never input
    )


_INSERT = text(
    """
    insert into app.calendar_events (id, firm_id, staff_user_id, title, description, location, all_day,
                                     timezone, starts_at, ends_at, provider_etags)
    values (:id, :firm_id, :staff_user_id, :title, :description, :location, :all_day, :timezone,
            :starts_at, greatest(:ends_at, :starts_at + interval '1 minute'),
            jsonb_build_object(cast(:provider as text), cast(:etag as text)))
    """
)
_LINK = text(
    """
    insert into app.external_refs (id, firm_id, entity, entity_id, provider, connection_id, external_id)
    values (gen_random_uuid(), :firm_id, :entity, :id, :provider, :connection_id, :external_id)
    """
)
_UPDATE = text(
    """
    update app.calendar_events set
        title = :title, description = :description, location = :location, all_day = :all_day,
        timezone = :timezone, starts_at = :starts_at,
        ends_at = greatest(:ends_at, :starts_at + interval '1 minute'),
        provider_etags = provider_etags || jsonb_build_object(cast(:provider as text), cast(:etag as text)),
        version = version + 1, updated_at = now()
    where id = :id and firm_id = :firm_id
    """
)
_SEEN = text(
    """
    update app.calendar_events
    set provider_etags = provider_etags || jsonb_build_object(cast(:provider as text), cast(:etag as text))
    where id = :id and firm_id = :firm_id
    """
)
_DELETE = text(
    """
    update app.calendar_events set
        deleted_at = coalesce(:deleted_at, now()),
        provider_etags = provider_etags || jsonb_build_object(cast(:provider as text), cast(:etag as text)),
        version = version + 1, updated_at = now()
    where id = :id and firm_id = :firm_id and deleted_at is null
    """
)


def _differs(row: Any) -> bool:
    local = row._mapping
    return any(local[f] != local[f"local_{f}"] for f in FIELDS if f not in ("ends_at",)) or (
        local["ends_at"] != local["local_ends_at"] and local["ends_at"] > local["starts_at"]
    )


def _payload(row: Any, prefix: str) -> dict[str, Any]:
    values = row._mapping
    return {f: _json(values[f"{prefix}{f}"]) for f in FIELDS}


def _json(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


def merge_calendar(session, tenant, connection_id, source: CalendarSource) -> dict[str, int]:
    """One connection's warehouse events → app.calendar_events of its staff member; counts of what changed."""
    params = {
        "connection_id": connection_id,
        "firm_id": tenant.firm_id,
        "provider": source.provider,
        "entity": ENTITY,
    }
    counts = dict.fromkeys(COUNTS, 0)
    staff_user_id = session.execute(STAFF_USER, params).scalar()
    rows = session.execute(_rows_sql(source), params).all()
    if staff_user_id is None:
        # Nobody in the firm has the connection's address: nothing to attach the events to.
        counts["events_skipped_unknown_user"] = sum(1 for r in rows if r.deleted_at is None)
        return counts
    for row in rows:
        values = {f: getattr(row, f) for f in FIELDS} | {"etag": row.etag, **params}
        if row.event_id is None:
            if row.deleted_at is None:
                values |= {"id": uuid.uuid4(), "staff_user_id": staff_user_id, "external_id": row.external_id}
                session.execute(_INSERT, values)
                session.execute(_LINK, values)
                counts["events_created"] += 1
            continue
        values["id"] = row.event_id
        if row.deleted_at is not None:
            # Deleted at the vendor (or gone from a full refresh): the local copy goes too, once.
            if row.local_deleted_at is None:
                counts["events_deleted"] += session.execute(
                    _DELETE, values | {"deleted_at": row.deleted_at}
                ).rowcount
                if row.edited_locally:
                    _conflict(session, tenant, connection_id, source, row, "vendor_wins")
                    counts["events_conflicts"] += 1
            continue
        if row.known_etag == row.etag:
            continue  # nothing new from the vendor since the last merge
        if row.local_deleted_at is not None:
            counts["events_held"] += 1  # deleted here; the push removes it from the vendor
            session.execute(_SEEN, values)
            continue
        if not _differs(row):
            session.execute(_SEEN, values)
            continue
        if row.edited_locally:
            platform_newer = row.updated_at is None or row.local_updated_at > row.updated_at
            resolution = "platform_wins" if platform_newer else "vendor_wins"
            _conflict(session, tenant, connection_id, source, row, resolution)
            counts["events_conflicts"] += 1
            if platform_newer:
                session.execute(_SEEN, values)  # the local copy stays; its push overwrites the vendor's
                counts["events_held"] += 1
                continue
        session.execute(_UPDATE, values)
        counts["events_updated"] += 1
    return counts


def _conflict(session, tenant, connection_id, source: CalendarSource, row: Any, resolution: str) -> None:
    session.add(
        SyncConflict(
            firm_id=tenant.firm_id,
            connection_id=connection_id,
            provider=source.provider,
            entity=ENTITY,
            entity_id=row.event_id,
            external_id=row.external_id,
            platform_updated_at=row.local_updated_at,
            vendor_updated_at=row.updated_at,
            resolution=resolution,
            platform_payload=_payload(row, "local_"),
            vendor_payload=_payload(row, "") | {"etag": row.etag, "cancelled": row.deleted_at is not None},
        )
    )
    session.flush()
