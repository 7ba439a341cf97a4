"""Google event resources → warehouse rows, and app events → Google event bodies.

The payloads are Google's published examples: the "Create events" guide's event
(developers.google.com/calendar/api/guides/create-events) and the "Recurring events" guide's series
(developers.google.com/calendar/api/guides/recurringevents), each with the fields Google adds when it stores
an event (`kind`, `etag`, `id`, `status`, `created`, `updated`, `organizer`, as listed on the Events
resource reference, developers.google.com/calendar/api/v3/reference/events), an all-day event in the
reference's `start.date` form, and the deleted event an incremental sync returns (guides/sync: "deleted
events … only the id field is guaranteed").
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from connectors.google_calendar import EVENT_COLUMNS, event_body, event_id_for, event_to_row, is_cancelled
from connectors.records import CalendarEventDetails

GOOGLE_IO = {
    "kind": "calendar#event",
    "etag": '"2880271584384000"',
    "id": "7cbh8rpc10lrc0ckih9tafss99",
    "status": "confirmed",
    "created": "2015-05-20T18:03:12.000Z",
    "updated": "2015-05-20T18:03:12.192Z",
    "summary": "Google I/O 2015",
    "location": "800 Howard St., San Francisco, CA 94103",
    "description": "A chance to hear more about Google's developer products.",
    "organizer": {"email": "organizer@example.com", "displayName": "Organizer", "self": True},
    "start": {"dateTime": "2015-05-28T09:00:00-07:00", "timeZone": "America/Los_Angeles"},
    "end": {"dateTime": "2015-05-28T17:00:00-07:00", "timeZone": "America/Los_Angeles"},
    "recurrence": ["RRULE:FREQ=DAILY;COUNT=2"],
    "attendees": [{"email": "lpage@example.com"}, {"email": "sbrin@example.com"}],
    "reminders": {
        "useDefault": False,
        "overrides": [{"method": "email", "minutes": 24 * 60}, {"method": "popup", "minutes": 10}],
    },
    "calendarId": "organizer@example.com",
}

APPOINTMENT_INSTANCE = {
    "kind": "calendar#event",
    "etag": '"2617460446134000"',
    "id": "i8fggh1fu4ljtpn1cil5ml8oe0_20110610T170000Z",
    "status": "confirmed",
    "updated": "2011-06-01T12:00:00.000Z",
    "summary": "Appointment",
    "location": "Somewhere",
    "start": {"dateTime": "2011-06-10T10:00:00-07:00", "timeZone": "America/Los_Angeles"},
    "end": {"dateTime": "2011-06-10T10:25:00-07:00", "timeZone": "America/Los_Angeles"},
    "recurringEventId": "i8fggh1fu4ljtpn1cil5ml8oe0",
    "originalStartTime": {"dateTime": "2011-06-10T10:00:00-07:00", "timeZone": "America/Los_Angeles"},
    "attendees": [{"email": "attendeeEmail", "responseStatus": "accepted", "optional": True}],
}

ALL_DAY = {
    "kind": "calendar#event",
    "etag": '"3181161784712000"',
    "id": "0a1b2c3d4e5f6g7h8i9j",
    "status": "confirmed",
    "updated": "2020-06-01T10:05:30.123Z",
    "summary": "Filing deadline",
    "start": {"date": "2026-04-15"},
    "end": {"date": "2026-04-16"},
    "transparency": "transparent",
}

CANCELLED = {
    "kind": "calendar#event",
    "etag": '"3181161784712001"',
    "id": "7cbh8rpc10lrc0ckih9tafss99",
    "status": "cancelled",
}


def test_a_timed_event_maps_to_aware_times_attendees_and_raw():
    row = event_to_row(GOOGLE_IO)
    assert set(row) == set(EVENT_COLUMNS)
    pacific = timezone(timedelta(hours=-7))
    assert row["starts_at"] == datetime(2015, 5, 28, 9, tzinfo=pacific)
    assert row["ends_at"] == datetime(2015, 5, 28, 16, tzinfo=UTC) + timedelta(hours=8)
    assert row["starts_at"].utcoffset() is not None
    assert (row["all_day"], row["start_date"], row["time_zone"]) == (False, None, "America/Los_Angeles")
    assert (
        row["calendar_id"] == "organizer@example.com" and row["external_id"] == "7cbh8rpc10lrc0ckih9tafss99"
    )
    assert [a["email"] for a in row["attendees"]] == ["lpage@example.com", "sbrin@example.com"]
    assert row["attendees"][0]["optional"] is False
    assert (row["organizer_email"], row["organizer_name"]) == ("organizer@example.com", "Organizer")
    assert row["updated_at"] == datetime(2015, 5, 20, 18, 3, 12, 192000, tzinfo=UTC)
    assert row["etag"] == '"2880271584384000"' and row["cancelled"] is False
    assert "calendarId" not in row["raw"] and row["raw"]["recurrence"] == ["RRULE:FREQ=DAILY;COUNT=2"]


def test_an_instance_of_a_series_names_its_series():
    row = event_to_row(APPOINTMENT_INSTANCE, "primary-calendar@example.com")
    assert row["recurring_event_id"] == "i8fggh1fu4ljtpn1cil5ml8oe0"
    assert row["original_starts_at"] == datetime(2011, 6, 10, 17, tzinfo=UTC)
    assert row["calendar_id"] == "primary-calendar@example.com"
    assert row["attendees"][0]["response_status"] == "accepted" and row["attendees"][0]["optional"] is True


def test_an_all_day_event_keeps_dates_not_instants():
    row = event_to_row(ALL_DAY, "c")
    assert row["all_day"] is True
    assert (row["start_date"], row["end_date"]) == (date(2026, 4, 15), date(2026, 4, 16))
    assert row["starts_at"] is None and row["ends_at"] is None
    assert row["transparency"] == "transparent"


def test_a_deleted_event_from_an_incremental_sync():
    assert is_cancelled(CANCELLED)
    row = event_to_row(CANCELLED, "c")
    assert row["cancelled"] is True and row["status"] == "cancelled"
    assert row["summary"] is None and row["starts_at"] is None and row["attendees"] == []
    with pytest.raises(ValueError):
        event_to_row({"status": "cancelled"})


def test_an_app_event_becomes_a_google_body_in_its_zone():
    details = CalendarEventDetails(
        title="Quarterly review",
        description="Bring the draft accounts.",
        location="Client office",
        starts_at=datetime(2026, 3, 9, 14, 30, tzinfo=UTC),
        ends_at=datetime(2026, 3, 9, 15, 30, tzinfo=UTC),
        timezone="America/New_York",
        attendee_emails=("cfo@example.com",),
    )
    body = event_body(details, event_id="abc12")
    assert body == {
        "id": "abc12",
        "summary": "Quarterly review",
        "description": "Bring the draft accounts.",
        "location": "Client office",
        "start": {"dateTime": "2026-03-09T10:30:00-04:00", "timeZone": "America/New_York"},
        "end": {"dateTime": "2026-03-09T11:30:00-04:00", "timeZone": "America/New_York"},
        "attendees": [{"email": "cfo@example.com"}],
    }
    # What Google sends back maps to the same instants.
    row = event_to_row({**body, "status": "confirmed"}, "c")
    assert (row["starts_at"], row["ends_at"]) == (details.starts_at, details.ends_at)


def test_an_all_day_app_event_has_an_exclusive_end_date():
    one_day = CalendarEventDetails(
        title="Out of office",
        starts_at=datetime(2026, 7, 3, 4, tzinfo=UTC),  # midnight in New York
        ends_at=datetime(2026, 7, 3, 4, tzinfo=UTC),
        timezone="America/New_York",
        all_day=True,
    )
    assert event_body(one_day)["start"] == {"date": "2026-07-03"}
    assert event_body(one_day)["end"] == {"date": "2026-07-04"}
    three = one_day.model_copy(update={"ends_at": datetime(2026, 7, 6, 4, tzinfo=UTC)})
    assert event_body(three)["end"] == {"date": "2026-07-06"}


def test_event_ids_for_platform_events_are_stable_base32hex():
    platform_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    event_id = event_id_for(platform_id)
    assert event_id == event_id_for(platform_id) and event_id != event_id_for(uuid.uuid4())
    assert re.fullmatch(r"[a-v0-9]{5,1024}", event_id) and len(event_id) == 26
