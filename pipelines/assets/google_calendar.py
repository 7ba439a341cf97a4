"""Google Calendar, declared: each staff member's events → warehouse.google_calendar_events →
app.calendar_events of that staff member; assets built by the asset factory.

One stream, `events`, incremental through `GoogleCalendarClient.pages`: its cursor is the connector's JSON
of every calendar's sync token — opaque, so the cursor check only asks that one is stored. Google reports a
deleted event as a stub with `status: "cancelled"`: a tombstone, so the row keeps its last known columns
and gets `deleted_at`. An expired token (410) makes the engine fall back to a full refresh by itself.

The merge (ADR 0011): the connection's `account_email` names the staff member (an app user of the firm,
by e-mail); events are linked through app.external_refs entity 'calendar_event' (external id: the Google
event id — one event seen in two of the user's calendars is one meeting; the account's own calendar wins).
A local event edited since its last push (an outbox change past the connection's `push:calendar` cursor,
see pipelines/calendar_push.py) that Google also changed is a conflict,
resolved by DESIGN's rule — the vendor's `updated` wins unless the platform's copy is newer — and recorded
in app.sync_conflicts. The Google etag last merged is kept in `provider_etags['google_calendar']`, so a
conflict is seen once and a push can send If-Match. Writes are plain SQL: they never echo into the outbox.
"""

from __future__ import annotations

import uuid
from typing import Any

import dagster as dg
from sqlalchemy import text

from connectors.google_calendar.config import GoogleCalendarCredentials
from connectors.google_calendar.mapping import event_to_row, is_cancelled
from core_api.models import SyncConflict
from core_api.models.warehouse_calendar import GOOGLE_CALENDAR_EVENTS, KEY
from pipelines.factory import build_vendor_definitions
from pipelines.partitions import google_calendar_connections
from pipelines.streams import CanonicalSpec, StreamSpec, VendorSync

__all__ = ["APP_CALENDAR_EVENTS", "EVENTS", "GOOGLE_CALENDAR", "google_calendar", "merge_events"]

PROVIDER = "google_calendar"
ENTITY = "calendar_event"
EVENTS = dg.AssetKey(["google_calendar", "events"])
APP_CALENDAR_EVENTS = dg.AssetKey(["app", "calendar_events_from_google"])

STAFF_USER = text(
    """
    select u.id from app.connections c
    join app.users u on lower(u.email) = lower(c.config->>'account_email')
    join app.memberships m on m.user_id = u.id and m.firm_id = c.firm_id
    where c.id = :connection_id and c.firm_id = :firm_id
    """
)

# The app's shape of each warehouse event, one per Google event id (the account's own calendar first),
# with its linked local event and what the merge last saw of it.
_ROWS = text(
    """
    with src as (
        select distinct on (w.external_id)
               -- a cancellation stub's etag is merged into raw only (the row keeps its last columns)
               w.external_id, w.calendar_id, coalesce(w.raw->>'etag', w.etag) as etag, w.updated_at,
               w.deleted_at,
               left(coalesce(nullif(w.summary, ''), '(no title)'), 300) as title,
               w.description, left(w.location, 300) as location, coalesce(w.all_day, false) as all_day,
               coalesce(w.time_zone, 'UTC') as timezone,
               case when w.all_day then w.start_date::timestamp at time zone coalesce(w.time_zone, 'UTC')
                    else w.starts_at end as starts_at,
               case when w.all_day then w.end_date::timestamp at time zone coalesce(w.time_zone, 'UTC')
                    else w.ends_at end as ends_at
        from warehouse.google_calendar_events w
        join app.connections c on c.id = w.connection_id
        where w.connection_id = :connection_id and w.firm_id = :firm_id
        order by w.external_id, (w.calendar_id = c.config->>'account_email') desc, w.calendar_id
    )
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
                     and (o.xid, o.seq) > (cast(split_part(coalesce(p.cursor, '0:0'), ':', 1) as xid8),
                                           cast(split_part(coalesce(p.cursor, '0:0'), ':', 2) as bigint))
                  ) as edited_locally
    from src s
    left join app.external_refs r
      on r.connection_id = :connection_id and r.entity = :entity and r.external_id = s.external_id
    left join app.calendar_events e on e.id = r.entity_id and e.firm_id = :firm_id
    where s.deleted_at is not null or (s.starts_at is not null and s.ends_at is not null)
    """
)

FIELDS = ("title", "description", "location", "all_day", "timezone", "starts_at", "ends_at")

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


def merge_events(session, tenant, connection_id) -> dict[str, int]:
    """warehouse.google_calendar_events of one connection → app.calendar_events of its staff member."""
    params = {
        "connection_id": connection_id,
        "firm_id": tenant.firm_id,
        "provider": PROVIDER,
        "entity": ENTITY,
    }
    counts = dict.fromkeys(
        ("events_created", "events_updated", "events_deleted", "events_conflicts", "events_held"), 0
    )
    staff_user_id = session.execute(STAFF_USER, params).scalar()
    rows = session.execute(_ROWS, params).all()
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
            # Cancelled in Google (or gone from a full refresh): the local copy goes too, once.
            if row.local_deleted_at is None:
                counts["events_deleted"] += session.execute(
                    _DELETE, values | {"deleted_at": row.deleted_at}
                ).rowcount
                if row.edited_locally:
                    _conflict(session, tenant, connection_id, row, "vendor_wins")
                    counts["events_conflicts"] += 1
            continue
        if row.known_etag == row.etag:
            continue  # nothing new from Google since the last merge
        if row.local_deleted_at is not None:
            counts["events_held"] += 1  # deleted here; the push removes it from Google
            session.execute(_SEEN, values)
            continue
        if not _differs(row):
            session.execute(_SEEN, values)
            continue
        if row.edited_locally:
            platform_newer = row.updated_at is None or row.local_updated_at > row.updated_at
            resolution = "platform_wins" if platform_newer else "vendor_wins"
            _conflict(session, tenant, connection_id, row, resolution)
            counts["events_conflicts"] += 1
            if platform_newer:
                session.execute(_SEEN, values)  # the local copy stays; its push overwrites Google's
                counts["events_held"] += 1
                continue
        session.execute(_UPDATE, values)
        counts["events_updated"] += 1
    return counts


def _conflict(session, tenant, connection_id, row: Any, resolution: str) -> None:
    session.add(
        SyncConflict(
            firm_id=tenant.firm_id,
            connection_id=connection_id,
            provider=PROVIDER,
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


GOOGLE_CALENDAR = VendorSync(
    provider=PROVIDER,
    group="google_calendar",
    partitions=google_calendar_connections,
    credentials_model=GoogleCalendarCredentials,
    client_resource="google_calendar",
    kinds=frozenset({"google", "postgres"}),
    streams=(
        StreamSpec(
            name="events",
            asset_key=EVENTS,
            table=GOOGLE_CALENDAR_EVENTS,
            description="Google Calendar events of the connection's calendars (incremental by sync token; "
            "cancelled events are kept with deleted_at).",
            map_record=event_to_row,
            # The event id alone, as the warehouse's external_id (the dead-letter check compares the two).
            record_id=lambda payload: str(payload["id"]),
            pages=lambda client, cursor, page_size: client.pages(cursor, page_size),
            key=KEY,
            is_tombstone=is_cancelled,
            opaque_cursor=True,
        ),
    ),
    canonical=(
        CanonicalSpec(
            asset_key=APP_CALENDAR_EVENTS,
            deps=(EVENTS,),
            description="Google events merged into app.calendar_events of the staff member who owns the "
            "connection (linked through app.external_refs entity 'calendar_event'); cancelled events "
            "soft-delete theirs; edits on both sides resolved by the vendor's `updated` time unless the "
            "platform's copy is newer, and recorded in app.sync_conflicts.",
            merge=merge_events,
        ),
    ),
)

google_calendar = build_vendor_definitions(GOOGLE_CALENDAR)
