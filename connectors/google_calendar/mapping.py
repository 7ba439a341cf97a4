"""Pure functions between Google Calendar event resources and the platform's shapes.

Events are the JSON objects of the Calendar API v3 (developers.google.com/calendar/api/v3/reference/events)
exactly as Google sends them, optionally with the `calendarId` the client adds. Only `id` is relied on: a
deleted event seen in an incremental sync is just `{"kind", "etag", "id", "status": "cancelled"}`.

`start`/`end` are EventDateTime objects: `{"dateTime": RFC 3339 with offset, "timeZone"?}` for timed events,
`{"date": "yyyy-mm-dd"}` for all-day ones, whose end date is exclusive.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from connectors.records import CalendarEventDetails

PROVIDER = "google_calendar"

EVENT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "calendar_id",
    "status",
    "cancelled",
    "summary",
    "description",
    "location",
    "all_day",
    "starts_at",
    "ends_at",
    "start_date",
    "end_date",
    "time_zone",
    "attendees",
    "organizer_email",
    "organizer_name",
    "recurring_event_id",
    "original_starts_at",
    "ical_uid",
    "html_link",
    "transparency",
    "visibility",
    "etag",
    "created_at",
    "updated_at",
    "raw",
)


def parse_google_datetime(value: Any) -> datetime | None:
    """An aware datetime from RFC 3339 (`2015-05-28T09:00:00-07:00`, `2011-06-03T10:00:00.000Z`)."""
    if value is None or value == "":
        return None
    parsed = datetime.fromisoformat(str(value).strip())
    if parsed.tzinfo is None:
        raise ValueError(f"not an RFC 3339 time with an offset: {value!r}")
    return parsed


def _when(value: Any) -> tuple[datetime | None, date | None, str | None]:
    """(instant, all-day date, time zone) of an EventDateTime."""
    if not isinstance(value, dict):
        return None, None, None
    zone = value.get("timeZone") or None
    if value.get("date"):
        return None, date.fromisoformat(str(value["date"])), zone
    moment = value.get("dateTime")
    if not moment:
        return None, None, zone
    parsed = datetime.fromisoformat(str(moment))
    if parsed.tzinfo is None:  # allowed by Google when timeZone names the zone
        parsed = parsed.replace(tzinfo=ZoneInfo(zone) if zone else UTC)
    return parsed, None, zone


def is_cancelled(event: dict[str, Any]) -> bool:
    """A deleted event (or a cancelled occurrence of a recurring one)."""
    return event.get("status") == "cancelled"


def _attendee(attendee: dict[str, Any]) -> dict[str, Any]:
    return {
        "email": attendee.get("email"),
        "display_name": attendee.get("displayName"),
        "response_status": attendee.get("responseStatus"),
        "optional": bool(attendee.get("optional", False)),
        "organizer": bool(attendee.get("organizer", False)),
        "self": bool(attendee.get("self", False)),
    }


def event_to_row(event: dict[str, Any], calendar_id: str | None = None) -> dict[str, Any]:
    """The `warehouse.google_calendar_events` columns for one event (`calendar_id` defaults to the
    record's `calendarId`)."""
    if not event.get("id"):
        raise ValueError("event has no id")
    raw = {key: value for key, value in event.items() if key != "calendarId"}
    starts_at, start_date, time_zone = _when(event.get("start"))
    ends_at, end_date, _ = _when(event.get("end"))
    original_at, original_date, _ = _when(event.get("originalStartTime"))
    organizer = event.get("organizer") if isinstance(event.get("organizer"), dict) else {}
    attendees = [_attendee(a) for a in event.get("attendees") or [] if isinstance(a, dict)]
    status = event.get("status") or "confirmed"
    return {
        "external_id": str(event["id"]),
        "calendar_id": calendar_id or event.get("calendarId"),
        "status": status,
        "cancelled": status == "cancelled",
        "summary": event.get("summary"),
        "description": event.get("description"),
        "location": event.get("location"),
        "all_day": start_date is not None,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "start_date": start_date,
        "end_date": end_date,
        "time_zone": time_zone,
        "attendees": attendees,
        "organizer_email": organizer.get("email"),
        "organizer_name": organizer.get("displayName"),
        "recurring_event_id": event.get("recurringEventId"),
        "original_starts_at": original_at
        or (datetime.combine(original_date, datetime.min.time(), UTC) if original_date else None),
        "ical_uid": event.get("iCalUID"),
        "html_link": event.get("htmlLink"),
        "transparency": event.get("transparency"),
        "visibility": event.get("visibility"),
        "etag": event.get("etag"),
        "created_at": parse_google_datetime(event.get("created")),
        "updated_at": parse_google_datetime(event.get("updated")),
        "raw": raw,
    }


def event_id_for(platform_id: uuid.UUID) -> str:
    """A Google event id derived from the platform's event id: base32hex (a-v, 0-9), as Google requires of
    client-chosen ids, so a retried insert names the same event."""
    return base64.b32hexencode(platform_id.bytes).decode("ascii").lower().rstrip("=")


def event_body(details: CalendarEventDetails, *, event_id: str | None = None) -> dict[str, Any]:
    """The Google event resource a push sends for one app event (insert, or update as a full replacement)."""
    zone = ZoneInfo(details.timezone)
    if details.all_day:
        first = details.starts_at.astimezone(zone).date()
        last = details.ends_at.astimezone(zone).date()
        start: dict[str, Any] = {"date": first.isoformat()}
        end: dict[str, Any] = {"date": max(last, first + timedelta(days=1)).isoformat()}
    else:
        start = {"dateTime": details.starts_at.astimezone(zone).isoformat(), "timeZone": details.timezone}
        end = {"dateTime": details.ends_at.astimezone(zone).isoformat(), "timeZone": details.timezone}
    body: dict[str, Any] = {}
    if event_id is not None:
        body["id"] = event_id
    body["summary"] = details.title
    if details.description is not None:
        body["description"] = details.description
    if details.location is not None:
        body["location"] = details.location
    body["start"] = start
    body["end"] = end
    if details.attendee_emails:
        body["attendees"] = [{"email": email} for email in details.attendee_emails]
    return body
