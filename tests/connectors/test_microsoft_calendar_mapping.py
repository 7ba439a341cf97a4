"""Graph event resources (shaped as learn.microsoft.com/graph/api/resources/event documents them) → warehouse
rows, removal stubs → tombstones, app events → PATCH bodies."""

from __future__ import annotations

from datetime import UTC, date, datetime

from connectors.microsoft_calendar import EVENT_COLUMNS, event_fields, event_to_row, is_removed
from connectors.records import CalendarEventDetails

EVENT = {
    "@odata.etag": 'W/"CQAAABYAAAB1"',
    "id": "AAMkAGI2TG93AAA=",
    "createdDateTime": "2026-11-01T16:00:00.1234567Z",
    "lastModifiedDateTime": "2026-11-02T09:30:00.7654321Z",
    "changeKey": "CQAAABYAAAB1",
    "subject": "Quarterly review",
    "bodyPreview": "Agenda attached",
    "body": {"contentType": "html", "content": "<p>Agenda attached</p>"},
    "start": {"dateTime": "2026-11-03T17:00:00.0000000", "timeZone": "UTC"},
    "end": {"dateTime": "2026-11-03T18:00:00.0000000", "timeZone": "UTC"},
    "originalStartTimeZone": "America/New_York",
    "location": {"displayName": "Room 4.12"},
    "isAllDay": False,
    "isCancelled": False,
    "showAs": "busy",
    "type": "singleInstance",
    "organizer": {"emailAddress": {"name": "Ada Staff", "address": "ada@contoso.example"}},
    "attendees": [
        {
            "type": "required",
            "status": {"response": "accepted", "time": "2026-11-01T17:00:00Z"},
            "emailAddress": {"name": "Client", "address": "client@example.com"},
        }
    ],
}


def test_a_timed_event_maps_to_typed_columns_and_keeps_its_payload():
    row = event_to_row(EVENT)
    assert set(row) == set(EVENT_COLUMNS)
    assert row["starts_at"] == datetime(2026, 11, 3, 17, tzinfo=UTC)
    assert row["ends_at"] == datetime(2026, 11, 3, 18, tzinfo=UTC)
    assert (row["all_day"], row["start_date"], row["time_zone"]) == (False, None, "America/New_York")
    assert row["description"] == "Agenda attached"  # html bodies: the plain preview
    assert row["location"] == "Room 4.12" and row["change_key"] == "CQAAABYAAAB1"
    assert row["updated_at"] == datetime(2026, 11, 2, 9, 30, 0, 765432, tzinfo=UTC)
    assert row["attendees"] == [
        {
            "email": "client@example.com",
            "display_name": "Client",
            "response_status": "accepted",
            "type": "required",
        }
    ]
    assert row["raw"] == EVENT


def test_an_all_day_event_has_dates_and_a_windows_zone_falls_back_to_utc():
    event = EVENT | {
        "isAllDay": True,
        "start": {"dateTime": "2026-12-24T00:00:00.0000000", "timeZone": "UTC"},
        "end": {"dateTime": "2026-12-26T00:00:00.0000000", "timeZone": "UTC"},
        "originalStartTimeZone": "Pacific Standard Time",
    }
    row = event_to_row(event)
    assert (row["start_date"], row["end_date"]) == (date(2026, 12, 24), date(2026, 12, 26))
    assert row["starts_at"] is None and row["time_zone"] == "UTC"


def test_a_removal_stub_is_a_tombstone_with_only_its_id():
    stub = {
        "@odata.type": "#microsoft.graph.event",
        "id": "AAMkAGI2TG93AAA=",
        "@removed": {"reason": "deleted"},
    }
    assert is_removed(stub) and not is_removed(EVENT)
    row = event_to_row(stub)
    assert row["external_id"] == "AAMkAGI2TG93AAA=" and row["subject"] is None and row["raw"] == stub


def test_an_app_event_becomes_graph_fields_in_its_own_zone():
    details = CalendarEventDetails(
        title="Planning",
        starts_at=datetime(2026, 7, 1, 13, tzinfo=UTC),
        ends_at=datetime(2026, 7, 1, 14, tzinfo=UTC),
        timezone="Europe/London",
        attendee_emails=("a@example.com",),
    )
    fields = event_fields(details)
    assert fields["start"] == {"dateTime": "2026-07-01T14:00:00", "timeZone": "Europe/London"}
    assert fields["subject"] == "Planning" and fields["isAllDay"] is False
    assert fields["attendees"] == [{"type": "required", "emailAddress": {"address": "a@example.com"}}]
