"""Calendars and their events: what the Calendar API reads and writes (developers.google.com/calendar/api/v3/
reference/events).

Every change to an event (insert, update, patch, delete, and edits made "in Google" through the admin API)
gives it a new `updated`, a new `etag` and the calendar's next change number (`seq`). Sync tokens and page
tokens are built on those numbers (see `listing`). Deleting marks the event `cancelled` and keeps it: list
calls with a sync token or `showDeleted` return it, `get` still answers it, and deleting it again is 410.
"""

import base64
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from connectors.sandbox.google import errors, recurrence
from connectors.sandbox.google.errors import bad_request
from connectors.sandbox.google.timefmt import bound, rfc3339_ms, zone

# Set by Google, ignored when a client sends them (organizer only changes through events.move/import).
READ_ONLY = frozenset(
    {"kind", "etag", "id", "htmlLink", "created", "updated", "creator", "organizer", "recurringEventId"}
)
# What Google lets a client choose as an event id: base32hex (a-v, 0-9), 5 to 1024 characters.
EVENT_ID = re.compile(r"^[a-v0-9]{5,1024}$")
STATUSES = ("confirmed", "tentative", "cancelled")
# A patch replaces these whole: a start that becomes all-day must lose its dateTime.
WHOLE = frozenset({"start", "end", "originalStartTime"})
# Google's field order in event resources, so answers read like the reference's.
FIELD_ORDER = (
    "kind",
    "etag",
    "id",
    "status",
    "htmlLink",
    "created",
    "updated",
    "summary",
    "description",
    "location",
    "colorId",
    "creator",
    "organizer",
    "start",
    "end",
    "endTimeUnspecified",
    "recurrence",
    "recurringEventId",
    "originalStartTime",
    "transparency",
    "visibility",
    "iCalUID",
    "sequence",
    "attendees",
    "reminders",
    "eventType",
)
# A change to any of these makes the event a new revision for attendees (Google bumps `sequence`).
SEQUENCE_FIELDS = ("start", "end", "recurrence", "location")


@dataclass
class StoredEvent:
    resource: dict[str, Any]
    seq: int

    @property
    def cancelled(self) -> bool:
        return self.resource.get("status") == "cancelled"


@dataclass
class Calendar:
    id: str
    summary: str
    time_zone: str
    owner: str
    primary: bool = False
    description: str | None = None
    events: dict[str, StoredEvent] = field(default_factory=dict)
    seq: int = 0
    last_us: int = 0
    # Sync tokens issued at or before this instant answer 410 (expired through the admin API).
    sync_tokens_expired_at: float = 0.0

    # ---- stamps

    def _stamp(self, at: float) -> tuple[int, int]:
        """(microseconds for `updated`, change number); both strictly increase per calendar."""
        micros = max(int(at * 1_000_000), self.last_us + 1000)
        self.last_us = max(self.last_us, micros)
        self.seq += 1
        return micros, self.seq

    def _html_link(self, event_id: str) -> str:
        eid = base64.urlsafe_b64encode(f"{event_id} {self.id}".encode()).decode().rstrip("=")
        return f"https://www.google.com/calendar/event?eid={eid}"

    def list_entry(self) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "kind": "calendar#calendarListEntry",
            "etag": f'"{self.last_us or 1}"',
            "id": self.id,
            "summary": self.summary,
        }
        if self.description:
            entry["description"] = self.description
        entry.update(
            timeZone=self.time_zone,
            colorId="14",
            backgroundColor="#9fe1e7",
            foregroundColor="#000000",
            selected=True,
            accessRole="owner",
            defaultReminders=[{"method": "popup", "minutes": 10}] if self.primary else [],
            conferenceProperties={"allowedConferenceSolutionTypes": ["hangoutsMeet"]},
        )
        if self.primary:
            entry["primary"] = True
        return entry

    # ---- reads

    def stored(self, event_id: str) -> StoredEvent:
        stored = self.events.get(event_id)
        if stored is None:
            raise errors.not_found()
        return stored

    def get(self, event_id: str) -> dict[str, Any]:
        """events.get: cancelled events too; an instance id of a recurring series is computed."""
        stored = self.events.get(event_id)
        if stored is not None:
            return stored.resource
        master_id, _, _ = event_id.rpartition("_")
        master = self.events.get(master_id)
        if master is not None and "recurrence" in master.resource and not master.cancelled:
            instance = recurrence.find(master.resource, self.time_zone, event_id)
            if instance is not None:
                return instance
        raise errors.not_found()

    # ---- writes

    def insert(self, body: dict[str, Any], at: float, *, creator: str | None = None) -> dict[str, Any]:
        event_id = body.get("id")
        if event_id is None:
            event_id = base64.b32hexencode(secrets.token_bytes(16)).decode().lower().rstrip("=")
        elif not isinstance(event_id, str) or not EVENT_ID.match(event_id):
            raise bad_request("Invalid resource id value.", location="id")
        if event_id in self.events:
            raise errors.duplicate()
        writable = {k: v for k, v in body.items() if k not in READ_ONLY}
        resource = {
            **writable,
            "kind": "calendar#event",
            "id": event_id,
            "status": writable.get("status") or "confirmed",
            "htmlLink": self._html_link(event_id),
            "creator": {"email": creator or self.owner, "self": True},
            "organizer": self._organizer(),
            "iCalUID": writable.get("iCalUID") or f"{event_id}@google.com",
            "sequence": int(writable.get("sequence") or 0),
            "reminders": writable.get("reminders") or {"useDefault": True},
            "eventType": writable.get("eventType") or "default",
        }
        self._validate(resource)
        micros, seq = self._stamp(at)
        resource["created"] = rfc3339_ms(micros / 1e6)
        self._save(event_id, resource, micros, seq)
        return self.events[event_id].resource

    def _organizer(self) -> dict[str, Any]:
        organizer: dict[str, Any] = {"email": self.id}
        if not self.primary:
            organizer["displayName"] = self.summary
        organizer["self"] = True
        return organizer

    def replace(self, event_id: str, body: dict[str, Any], at: float, if_match: str | None) -> dict[str, Any]:
        """events.update: every writable field from `body`; what it leaves out is cleared."""
        stored = self.stored(event_id)
        self._check_etag(stored, if_match)
        old = stored.resource
        writable = {k: v for k, v in body.items() if k not in READ_ONLY}
        return self._revise(stored, {**{k: old[k] for k in READ_ONLY if k in old}, **writable}, at)

    def patch(self, event_id: str, body: dict[str, Any], at: float, if_match: str | None) -> dict[str, Any]:
        """events.patch: objects merged field by field, arrays replaced, null clears a field."""
        stored = self.stored(event_id)
        self._check_etag(stored, if_match)
        changes = {k: v for k, v in body.items() if k not in READ_ONLY}
        merged = _merge(stored.resource, {k: v for k, v in changes.items() if k not in WHOLE})
        merged.update({k: v for k, v in changes.items() if k in WHOLE and v is not None})
        return self._revise(stored, merged, at)

    def delete(self, event_id: str, at: float, if_match: str | None) -> None:
        stored = self.stored(event_id)
        if stored.cancelled:
            raise errors.deleted()
        self._check_etag(stored, if_match)
        self._revise(stored, {**stored.resource, "status": "cancelled"}, at)

    @staticmethod
    def _check_etag(stored: StoredEvent, if_match: str | None) -> None:
        if if_match is None or if_match.strip() == "*":
            return
        wanted = {tag.strip().removeprefix("W/") for tag in if_match.split(",")}
        if stored.resource["etag"] not in wanted:
            raise errors.precondition_failed()

    def _revise(self, stored: StoredEvent, resource: dict[str, Any], at: float) -> dict[str, Any]:
        old = stored.resource
        resource.setdefault("status", "confirmed")
        resource.setdefault("reminders", {"useDefault": True})
        resource.setdefault("eventType", "default")
        resource.setdefault("iCalUID", old["iCalUID"])
        if any(resource.get(name) != old.get(name) for name in SEQUENCE_FIELDS):
            resource["sequence"] = max(int(resource.get("sequence") or 0), int(old.get("sequence") or 0) + 1)
        else:
            resource["sequence"] = max(int(resource.get("sequence") or 0), int(old.get("sequence") or 0))
        if resource["status"] != "cancelled":
            self._validate(resource)
        micros, seq = self._stamp(at)
        self._save(old["id"], resource, micros, seq)
        return self.events[old["id"]].resource

    def _save(self, event_id: str, resource: dict[str, Any], micros: int, seq: int) -> None:
        resource["updated"] = rfc3339_ms(micros / 1e6)
        resource["etag"] = f'"{micros * 1000 + seq % 1000}"'
        resource.pop("kind", None)
        ordered = {"kind": "calendar#event"}
        ordered.update({key: resource[key] for key in FIELD_ORDER if key in resource and key != "kind"})
        ordered.update({key: value for key, value in resource.items() if key not in ordered})
        self.events[event_id] = StoredEvent(ordered, seq)

    def _validate(self, event: dict[str, Any]) -> None:
        if event.get("status") not in STATUSES:
            raise bad_request("Invalid value for: status", location="status")
        start, end = event.get("start"), event.get("end")
        if not isinstance(start, dict) or not (start.get("date") or start.get("dateTime")):
            raise bad_request("Missing start time.", reason="required")
        if not isinstance(end, dict) or not (end.get("date") or end.get("dateTime")):
            raise bad_request("Missing end time.", reason="required")
        if ("date" in start) != ("date" in end) or (start.get("date") and start.get("dateTime")):
            raise bad_request("Start and end times must either both be date or both be dateTime.")
        for name, when in (("start", start), ("end", end)):
            _check_when(name, when, recurring="recurrence" in event)
        first, last = bound(start, self.time_zone), bound(end, self.time_zone)
        if last < first or ("date" in start and last == first):
            raise errors.GoogleError(
                400, "timeRangeEmpty", "The specified time range is empty.", domain="calendar", location="end"
            )
        if "recurrence" in event:
            if not isinstance(event["recurrence"], list) or not event["recurrence"]:
                raise bad_request("Invalid recurrence rule.", location="recurrence")
            recurrence.validate(event, self.time_zone)
        attendees = event.get("attendees")
        if attendees is not None:
            if not isinstance(attendees, list):
                raise bad_request("Invalid attendee.", location="attendees")
            for attendee in attendees:
                if not isinstance(attendee, dict) or "@" not in str(attendee.get("email", "")):
                    raise bad_request("Invalid attendee email.", location="attendees")
                attendee.setdefault("responseStatus", "needsAction")


def _check_when(name: str, when: dict[str, Any], *, recurring: bool) -> None:
    if "date" in when:
        try:
            datetime.strptime(when["date"], "%Y-%m-%d")
        except (TypeError, ValueError):
            raise bad_request(f"Invalid {name} date.", location=f"{name}.date") from None
        return
    try:
        value = datetime.fromisoformat(when["dateTime"])
    except (TypeError, ValueError):
        raise bad_request(f"Invalid {name} time.", location=f"{name}.dateTime") from None
    tz_name = when.get("timeZone")
    if tz_name is not None and zone(tz_name) is None:
        raise bad_request(f"Invalid time zone definition for {name} time.", location=f"{name}.timeZone")
    if value.tzinfo is None and tz_name is None:
        raise bad_request(f"Missing time zone definition for {name} time.", reason="required")
    if recurring and tz_name is None:
        # A series needs a zone to repeat in (developers.google.com/calendar/api/concepts/events-calendars).
        raise bad_request(f"Missing time zone definition for {name} time.", reason="required")


def _merge(old: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = dict(old)
    for key, value in changes.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged
