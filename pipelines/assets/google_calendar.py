"""Google Calendar, declared: each staff member's events → warehouse.google_calendar_events →
app.calendar_events of that staff member; assets built by the asset factory.

One stream, `events`, incremental through `GoogleCalendarClient.pages`: its cursor is the connector's JSON
of every calendar's sync token — opaque, so the cursor check only asks that one is stored. Google reports a
deleted event as a stub with `status: "cancelled"`: a tombstone, so the row keeps its last known columns
and gets `deleted_at`. An expired token (410) makes the engine fall back to a full refresh by itself.

The merge (ADR 0011) is `pipelines.calendar_merge`, shared with Microsoft 365: events are linked through
app.external_refs entity 'calendar_event' (external id: the Google event id — one event seen in two of the
user's calendars is one meeting; the account's own calendar wins), conflicts resolved by DESIGN's rule and
recorded in app.sync_conflicts. The Google etag last merged is kept in `provider_etags['google_calendar']`.
"""

from __future__ import annotations

import dagster as dg

from connectors.google_calendar.config import GoogleCalendarCredentials
from connectors.google_calendar.mapping import event_to_row, is_cancelled
from core_api.models.warehouse_calendar import GOOGLE_CALENDAR_EVENTS, KEY
from pipelines.calendar_merge import ENTITY, STAFF_USER, CalendarSource, merge_calendar
from pipelines.factory import build_vendor_definitions
from pipelines.partitions import google_calendar_connections
from pipelines.streams import CanonicalSpec, StreamSpec, VendorSync

__all__ = [
    "APP_CALENDAR_EVENTS",
    "ENTITY",
    "EVENTS",
    "GOOGLE_CALENDAR",
    "SOURCE",
    "STAFF_USER",
    "google_calendar",
    "merge_events",
]

PROVIDER = "google_calendar"
EVENTS = dg.AssetKey(["google_calendar", "events"])
APP_CALENDAR_EVENTS = dg.AssetKey(["app", "calendar_events_from_google"])

# The app's shape of each warehouse event, one per Google event id (the account's own calendar first).
SOURCE = CalendarSource(
    provider=PROVIDER,
    source_sql="""
        select distinct on (w.external_id)
               -- a cancellation stub's etag is merged into raw only (the row keeps its last columns)
               w.external_id, coalesce(w.raw->>'etag', w.etag) as etag, w.updated_at, w.deleted_at,
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
    """,
)


def merge_events(session, tenant, connection_id) -> dict[str, int]:
    """warehouse.google_calendar_events of one connection → app.calendar_events of its staff member."""
    return merge_calendar(session, tenant, connection_id, SOURCE)


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
