"""Pure functions between Microsoft Graph event resources and the platform's shapes.

Events are Graph's JSON (learn.microsoft.com/graph/api/resources/event) as the delta query returns them. A
deletion is a stub `{"id", "@removed": {"reason": "deleted" | "changed"}}` ("changed": gone from the synced
calendar view) — a tombstone. `start`/`end` are dateTimeTimeZone objects: a wall time without offset plus a
zone, UTC unless the request asked for another; all-day events run midnight to midnight, end exclusive.
`originalStartTimeZone` may be a Windows zone name ("Pacific Standard Time"): only IANA names are kept as the
event's zone, else UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.records import CalendarEventDetails

EVENT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "subject",
    "description",
    "body_content_type",
    "location",
    "all_day",
    "starts_at",
    "ends_at",
    "start_date",
    "end_date",
    "time_zone",
    "is_cancelled",
    "show_as",
    "sensitivity",
    "importance",
    "event_type",
    "series_master_id",
    "organizer_email",
    "organizer_name",
    "attendees",
    "ical_uid",
    "web_link",
    "change_key",
    "created_at",
    "updated_at",
    "raw",
)


def is_removed(event: dict[str, Any]) -> bool:
    return "@removed" in event


def _zone(name: Any) -> ZoneInfo | None:
    if not name:
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_graph_instant(value: Any) -> datetime | None:
    """`2017-10-31T12:19:38.4551812Z` (seven fractional digits) → an aware datetime."""
    if not value:
        return None
    text = str(value).strip().replace("Z", "+00:00")
    head, dot, rest = text.partition(".")
    if dot:
        digits = "".join(c for c in rest if c.isdigit())
        offset = rest[len(digits) :]
        text = f"{head}.{digits[:6].ljust(6, '0')}{offset}"
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _when(value: Any) -> datetime | None:
    """A dateTimeTimeZone → an aware datetime."""
    if not isinstance(value, dict) or not value.get("dateTime"):
        return None
    text = str(value["dateTime"])
    head, dot, rest = text.partition(".")
    wall = datetime.fromisoformat(head)
    if dot:
        wall = wall.replace(microsecond=int(rest[:6].ljust(6, "0")))
    if wall.tzinfo is not None:
        return wall
    return wall.replace(tzinfo=_zone(value.get("timeZone")) or UTC)


def _attendee(attendee: dict[str, Any]) -> dict[str, Any]:
    address = attendee.get("emailAddress") or {}
    status = attendee.get("status") or {}
    return {
        "email": address.get("address"),
        "display_name": address.get("name"),
        "response_status": status.get("response"),
        "type": attendee.get("type"),
    }


def event_to_row(event: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.microsoft_calendar_events` columns for one event or removal stub."""
    if not event.get("id"):
        raise ValueError("event has no id")
    raw = dict(event)
    if is_removed(event):
        return dict.fromkeys(EVENT_COLUMNS) | {"external_id": str(event["id"]), "raw": raw}
    all_day = bool(event.get("isAllDay"))
    starts_at, ends_at = _when(event.get("start")), _when(event.get("end"))
    zone = _zone(event.get("originalStartTimeZone"))
    body = event.get("body") if isinstance(event.get("body"), dict) else {}
    content_type = body.get("contentType")
    description = body.get("content") if content_type == "text" else event.get("bodyPreview")
    location = event.get("location") if isinstance(event.get("location"), dict) else {}
    organizer = (event.get("organizer") or {}).get("emailAddress") or {}
    start_date: date | None = starts_at.date() if all_day and starts_at else None
    end_date: date | None = ends_at.date() if all_day and ends_at else None
    return {
        "external_id": str(event["id"]),
        "subject": event.get("subject"),
        "description": description or None,
        "body_content_type": content_type,
        "location": location.get("displayName") or None,
        "all_day": all_day,
        "starts_at": None if all_day else starts_at,
        "ends_at": None if all_day else ends_at,
        "start_date": start_date,
        "end_date": end_date,
        "time_zone": zone.key if zone else "UTC",
        "is_cancelled": bool(event.get("isCancelled")),
        "show_as": event.get("showAs"),
        "sensitivity": event.get("sensitivity"),
        "importance": event.get("importance"),
        "event_type": event.get("type"),
        "series_master_id": event.get("seriesMasterId"),
        "organizer_email": organizer.get("address"),
        "organizer_name": organizer.get("name"),
        "attendees": [_attendee(a) for a in event.get("attendees") or [] if isinstance(a, dict)],
        "ical_uid": event.get("iCalUId"),
        "web_link": event.get("webLink"),
        "change_key": event.get("changeKey"),
        "created_at": parse_graph_instant(event.get("createdDateTime")),
        "updated_at": parse_graph_instant(event.get("lastModifiedDateTime")),
        "raw": raw,
    }


def event_fields(details: CalendarEventDetails, *, transaction_id: str | None = None) -> dict[str, Any]:
    """The Graph fields a push PATCHes (or POSTs) for one app event, times in the event's own zone. A create
    carries `transaction_id` (Graph's `transactionId`): a retried POST then returns the first one's event."""
    zone = ZoneInfo(details.timezone)
    if details.all_day:
        first = details.starts_at.astimezone(zone).date()
        last = max(details.ends_at.astimezone(zone).date(), first)
        start = {"dateTime": f"{first.isoformat()}T00:00:00", "timeZone": details.timezone}
        end_day = last if last > first else date.fromordinal(first.toordinal() + 1)
        end = {"dateTime": f"{end_day.isoformat()}T00:00:00", "timeZone": details.timezone}
    else:
        start = {
            "dateTime": details.starts_at.astimezone(zone).replace(tzinfo=None).isoformat(),
            "timeZone": details.timezone,
        }
        end = {
            "dateTime": details.ends_at.astimezone(zone).replace(tzinfo=None).isoformat(),
            "timeZone": details.timezone,
        }
    fields: dict[str, Any] = {
        "subject": details.title,
        "body": {"contentType": "text", "content": details.description or ""},
        "location": {"displayName": details.location or ""},
        "isAllDay": details.all_day,
        "start": start,
        "end": end,
    }
    if transaction_id is not None:
        fields["transactionId"] = transaction_id
    if details.attendee_emails:
        fields["attendees"] = [
            {"type": "required", "emailAddress": {"address": email}} for email in details.attendee_emails
        ]
    return fields
