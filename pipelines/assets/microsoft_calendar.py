"""Microsoft 365 calendar, declared: each staff member's Outlook events → warehouse.microsoft_calendar_events
→ app.calendar_events of that staff member; assets built by the asset factory.

One stream, `events`, incremental through `MicrosoftCalendarClient.pages` (Graph's calendarView delta): its
cursor is the last `@odata.deltaLink` — opaque, so the cursor check only asks that one is stored. A deletion
arrives as `{"id", "@removed": {...}}`: a tombstone, so the row keeps its last known columns and gets
`deleted_at`. An expired delta token (410 syncStateNotFound) raises CursorExpiredError and the engine falls
back to a full refresh by itself (events not seen again are soft-deleted).

The merge is `pipelines.calendar_merge`, shared with Google Calendar (ADR 0011, 0015): the Graph event id is
the external id, Graph's `changeKey` the concurrency token kept in `provider_etags['microsoft_calendar']`.
"""

from __future__ import annotations

import dagster as dg

from connectors.microsoft_calendar.config import MicrosoftCalendarCredentials
from connectors.microsoft_calendar.mapping import event_to_row, is_removed
from core_api.models.warehouse_microsoft_calendar import KEY, MICROSOFT_CALENDAR_EVENTS
from pipelines.calendar_merge import CalendarSource, merge_calendar
from pipelines.factory import build_vendor_definitions
from pipelines.partitions import microsoft_calendar_connections
from pipelines.streams import CanonicalSpec, StreamSpec, VendorSync

__all__ = [
    "APP_CALENDAR_EVENTS",
    "EVENTS",
    "MICROSOFT_CALENDAR",
    "SOURCE",
    "merge_events",
    "microsoft_calendar",
]

PROVIDER = "microsoft_calendar"
EVENTS = dg.AssetKey(["microsoft_calendar", "events"])
APP_CALENDAR_EVENTS = dg.AssetKey(["app", "calendar_events_from_microsoft"])

# Times of all-day events are their dates at midnight in the event's zone (UTC when Outlook named a Windows
# zone the mapping could not place).
SOURCE = CalendarSource(
    provider=PROVIDER,
    source_sql="""
        select w.external_id, w.change_key as etag, w.updated_at, w.deleted_at,
               left(coalesce(nullif(w.subject, ''), '(no title)'), 300) as title,
               w.description, left(nullif(w.location, ''), 300) as location,
               coalesce(w.all_day, false) as all_day, coalesce(w.time_zone, 'UTC') as timezone,
               case when w.all_day then w.start_date::timestamp at time zone coalesce(w.time_zone, 'UTC')
                    else w.starts_at end as starts_at,
               case when w.all_day then w.end_date::timestamp at time zone coalesce(w.time_zone, 'UTC')
                    else w.ends_at end as ends_at
        from warehouse.microsoft_calendar_events w
        where w.connection_id = :connection_id and w.firm_id = :firm_id
    """,
)


def merge_events(session, tenant, connection_id) -> dict[str, int]:
    """warehouse.microsoft_calendar_events of one connection → app.calendar_events of its staff member."""
    return merge_calendar(session, tenant, connection_id, SOURCE)


MICROSOFT_CALENDAR = VendorSync(
    provider=PROVIDER,
    group="microsoft_calendar",
    partitions=microsoft_calendar_connections,
    credentials_model=MicrosoftCalendarCredentials,
    client_resource="microsoft_calendar",
    kinds=frozenset({"microsoft", "postgres"}),
    streams=(
        StreamSpec(
            name="events",
            asset_key=EVENTS,
            table=MICROSOFT_CALENDAR_EVENTS,
            description="Outlook events of the connection's mailbox in its calendar view (incremental by "
            "Graph delta link; removed events are kept with deleted_at).",
            map_record=event_to_row,
            record_id=lambda payload: str(payload["id"]),
            pages=lambda client, cursor, page_size: client.pages(cursor, page_size),
            key=KEY,
            is_tombstone=is_removed,
            opaque_cursor=True,
        ),
    ),
    canonical=(
        CanonicalSpec(
            asset_key=APP_CALENDAR_EVENTS,
            deps=(EVENTS,),
            description="Outlook events merged into app.calendar_events of the staff member who owns the "
            "connection (linked through app.external_refs entity 'calendar_event'); removed events "
            "soft-delete theirs; edits on both sides resolved by the vendor's lastModifiedDateTime unless "
            "the platform's copy is newer, and recorded in app.sync_conflicts.",
            merge=merge_events,
        ),
    ),
)

microsoft_calendar = build_vendor_definitions(MICROSOFT_CALENDAR)
