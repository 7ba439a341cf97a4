"""Outlook event resources (learn.microsoft.com/graph/api/resources/event): made from a create body, changed
by a PATCH body, and placed in time for calendar views.

`start`/`end` are dateTimeTimeZone objects. Graph answers them in UTC unless the request asks for a zone with
`Prefer: outlook.timezone` (the sandbox always answers in UTC) and keeps the zone the event was made in as
`originalStartTimeZone`/`originalEndTimeZone`. All-day events start and end at midnight.
"""

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from connectors.sandbox.microsoft import errors
from connectors.sandbox.microsoft.state import User, new_event_id

WRITABLE = {
    "subject",
    "body",
    "start",
    "end",
    "location",
    "isAllDay",
    "attendees",
    "showAs",
    "sensitivity",
    "importance",
    "categories",
    "isReminderOn",
    "reminderMinutesBeforeStart",
    "transactionId",  # the client's id for a create, so a retried POST makes no second event
}


def _zone(name: str | None) -> ZoneInfo:
    if not name or name.upper() in ("UTC", "Z"):
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise errors.bad_request(
            f"TimeZone '{name}' is not supported.", "TimeZoneNotSupportedException"
        ) from None


def instant(value: Any) -> datetime:
    """A dateTimeTimeZone → an aware datetime."""
    if not isinstance(value, dict) or not value.get("dateTime"):
        raise errors.bad_request("start and end need a dateTime and a timeZone.", "ErrorInvalidRequest")
    text = str(value["dateTime"])
    head = text.partition(".")[0]
    try:
        moment = datetime.fromisoformat(head.rstrip("Z"))
    except ValueError:
        raise errors.bad_request(f"Cannot convert '{text}' to a DateTime.", "ErrorInvalidRequest") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=_zone(value.get("timeZone")))
    return moment


def utc_value(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}


def _normalise(event: dict[str, Any]) -> None:
    start, end = instant(event["start"]), instant(event["end"])
    if end < start:
        raise errors.bad_request("The end must be after the start.", "ErrorInvalidRequest")
    if event.get("isAllDay") and (start.time() != datetime.min.time() or end.time() != datetime.min.time()):
        raise errors.bad_request("All-day events must start and end at midnight.", "ErrorInvalidRequest")
    event.setdefault("originalStartTimeZone", event["start"].get("timeZone") or "UTC")
    event.setdefault("originalEndTimeZone", event["end"].get("timeZone") or "UTC")
    event["start"], event["end"] = utc_value(start), utc_value(end)
    body = event.get("body") or {"contentType": "text", "content": ""}
    event["body"] = body
    event["bodyPreview"] = str(body.get("content") or "")[:255]


def new_event(user: User, body: dict[str, Any], web_base: str) -> dict[str, Any]:
    unknown = set(body) - WRITABLE - {"@odata.type"}
    if unknown:
        raise errors.bad_request(
            f"Property '{sorted(unknown)[0]}' does not exist on type event.", "RequestBodyRead"
        )
    if "start" not in body or "end" not in body:
        raise errors.bad_request("An event needs a start and an end.", "ErrorInvalidRequest")
    event_id = new_event_id()
    event: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.event",
        "id": event_id,
        "subject": "",
        "isAllDay": False,
        "isCancelled": False,
        "isOrganizer": True,
        "showAs": "busy",
        "sensitivity": "normal",
        "importance": "normal",
        "type": "singleInstance",
        "seriesMasterId": None,
        "iCalUId": "040000008200E00074C5B7101A82E008" + event_id[-32:].encode().hex()[:48].upper(),
        "webLink": f"{web_base}/owa/?itemid={event_id}&exvsurl=1&path=/calendar/item",
        "location": {"displayName": "", "locationType": "default"},
        "attendees": [],
        "categories": [],
        "organizer": {"emailAddress": {"name": user.display_name, "address": user.upn}},
    }
    event.update({k: v for k, v in body.items() if k in WRITABLE})
    _normalise(event)
    return event


def patched(event: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    unknown = set(changes) - WRITABLE - {"@odata.type"}
    if unknown:
        raise errors.bad_request(
            f"Property '{sorted(unknown)[0]}' does not exist on type event.", "RequestBodyRead"
        )
    updated = {**event, **{k: v for k, v in changes.items() if k in WRITABLE}}
    _normalise(updated)
    return updated


def overlaps(event: dict[str, Any], start: datetime, end: datetime) -> bool:
    """In a calendar view of [start, end): the event ends after the start and begins before the end."""
    return instant(event["end"]) > start and instant(event["start"]) < end
