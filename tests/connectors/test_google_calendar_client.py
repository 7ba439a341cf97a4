"""The Google Calendar client through google-api-python-client against the sandbox over HTTP: full and
incremental sync, 410 → CursorExpiredError, pushes with If-Match, token refresh, throttling and faults."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import google_auth_httplib2
import httplib2
import pytest
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build

from connectors.base import AuthError, ConflictError, CursorExpiredError, RetryPolicy, TransientError
from connectors.google_calendar import event_body, event_id_for, event_to_row, is_cancelled
from connectors.records import CalendarEventDetails
from connectors.registry import get_connector

NOON = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def details(title: str = "Tax planning with Okafor LLC", **extra) -> CalendarEventDetails:
    return CalendarEventDetails(
        title=title,
        starts_at=extra.pop("starts_at", NOON),
        ends_at=extra.pop("ends_at", NOON + timedelta(hours=1)),
        timezone="America/New_York",
        **extra,
    )


def read_all(client, cursor=None, page_size=10):
    pages = list(client.pages(cursor, page_size=page_size))
    records = [record for page in pages for record in page.records]
    return pages, records


def test_full_then_incremental_sync_sees_only_changes_and_cancellations(make_google_user):
    user = make_google_user(23, calendars=[{"summary": "Client deadlines", "events": 6}])
    primary, deadlines = user.calendar_ids
    client = user.client()

    pages, records = read_all(client)
    assert len(records) == 29
    assert len({(r["calendarId"], r["id"]) for r in records}) == 29
    assert sum(r["calendarId"] == deadlines for r in records) == 6
    assert [p.has_more for p in pages][-1] is False and all(p.has_more for p in pages[:-1])
    cursor = pages[-1].cursor
    assert set(json.loads(cursor)["calendars"]) == {primary, deadlines}
    # Mid-calendar pages carry only what was complete before them.
    assert pages[0].cursor is None

    edited = next(r for r in records if r["calendarId"] == primary)
    deleted = next(r for r in records if r["calendarId"] == deadlines)
    user.act(
        "PATCH",
        f"/calendars/{primary}/events/{edited['id']}",
        json={"changes": {"summary": "Moved to Friday"}},
    )
    user.act("DELETE", f"/calendars/{deadlines}/events/{deleted['id']}")
    created = user.act("POST", f"/calendars/{primary}/events", json=event_body(details()))

    pages, changes = read_all(client, cursor)
    by_id = {r["id"]: r for r in changes}
    assert set(by_id) == {edited["id"], deleted["id"], created["id"]}
    assert by_id[edited["id"]]["summary"] == "Moved to Friday"
    assert is_cancelled(by_id[deleted["id"]]) and by_id[deleted["id"]]["calendarId"] == deadlines
    row = event_to_row(by_id[deleted["id"]])
    assert row["cancelled"] is True and row["calendar_id"] == deadlines and row["summary"] is None

    _, nothing = read_all(client, pages[-1].cursor)
    assert nothing == []


def test_an_expired_sync_token_raises_cursor_expired_and_a_full_sync_recovers(make_google_user):
    user = make_google_user(5)
    client = user.client()
    pages, _ = read_all(client)
    user.act("POST", f"/calendars/{user.email}/sync-tokens/expire")
    with pytest.raises(CursorExpiredError) as expired:
        list(client.pages(pages[-1].cursor))
    assert expired.value.status_code == 410
    _, records = read_all(client, None)
    assert len(records) == 5


def test_push_insert_update_delete(make_google_user):
    user = make_google_user()
    client = user.client()
    platform_id = uuid.uuid4()
    body = event_body(details(attendee_emails=("client@example.com",)), event_id=event_id_for(platform_id))
    inserted = client.insert_event(user.email, body)
    assert inserted["id"] == event_id_for(platform_id)
    assert inserted["start"] == {"dateTime": "2026-12-03T07:00:00-05:00", "timeZone": "America/New_York"}
    assert inserted["attendees"][0]["email"] == "client@example.com"

    # A retried insert whose first answer was lost finds the event instead of failing or duplicating it.
    assert client.insert_event(user.email, body)["etag"] == inserted["etag"]

    changed = event_body(
        details(
            "Tax planning (moved)",
            starts_at=NOON + timedelta(days=1),
            ends_at=NOON + timedelta(days=1, hours=2),
        )
    )
    updated = client.update_event(user.email, inserted["id"], changed, inserted["etag"])
    assert updated["summary"] == "Tax planning (moved)" and updated["etag"] != inserted["etag"]
    assert "attendees" not in updated  # update replaces the whole event

    patched = client.patch_event(user.email, inserted["id"], {"location": "Video call"}, updated["etag"])
    assert patched["location"] == "Video call" and patched["summary"] == "Tax planning (moved)"

    client.delete_event(user.email, inserted["id"], patched["etag"])
    assert client.get_event(user.email, inserted["id"])["status"] == "cancelled"
    client.delete_event(user.email, inserted["id"])  # already deleted: fine


def test_a_stale_etag_is_a_conflict_carrying_googles_copy(make_google_user):
    user = make_google_user()
    client = user.client()
    ours = client.insert_event(user.email, event_body(details()))
    theirs = user.act(
        "PATCH",
        f"/calendars/{user.email}/events/{ours['id']}",
        json={"changes": {"summary": "Edited in Google"}},
    )
    with pytest.raises(ConflictError) as conflict:
        client.update_event(user.email, ours["id"], event_body(details("Our edit")), ours["etag"])
    assert conflict.value.current["summary"] == "Edited in Google"
    assert conflict.value.current["etag"] == theirs["etag"] and conflict.value.status_code == 412
    with pytest.raises(ConflictError):
        client.delete_event(user.email, ours["id"], ours["etag"])
    assert client.get_event(user.email, ours["id"])["status"] == "confirmed"


def test_a_rejected_access_token_is_refreshed_and_reported_before_use(make_google_user):
    user = make_google_user(2)
    in_an_hour = datetime.now(UTC) + timedelta(hours=1)
    client = user.client(user.credentials(access_token=user.access_token, expires_at=in_an_hour))
    assert len(client.list_calendars()) == 1
    assert user.tokens == []  # the stored token was good: no refresh

    user.act("POST", f"/accounts/{user.email}/tokens/expire")  # Google now refuses it (401)
    assert [c["id"] for c in client.list_calendars()] == [user.email]
    assert len(user.tokens) == 1
    rotated = user.tokens[0]
    assert rotated.access_token != user.access_token
    assert rotated.refresh_token == user.refresh_token  # Google does not rotate refresh tokens
    assert rotated.access_expires_at is not None and rotated.access_expires_at > datetime.now(UTC)
    assert user.outcomes()["401"] == 1


def test_credentials_without_an_access_token_refresh_first(make_google_user):
    user = make_google_user(3)
    _, records = read_all(user.client())
    assert len(records) == 3 and len(user.tokens) == 1
    assert "401" not in user.outcomes()


def test_a_revoked_grant_is_an_auth_error(make_google_user):
    user = make_google_user(1)
    user.act("POST", f"/accounts/{user.email}/tokens/revoke")
    with pytest.raises(AuthError):
        user.client().list_calendars()


@pytest.mark.parametrize(("status", "retry_after"), [(403, None), (429, 1)])
def test_a_rate_limit_storm_converges(make_google_user, status, retry_after):
    user = make_google_user(4)
    limits = {"requests_per_minute": 3, "window_seconds": 1, "rate_limit_status": status}
    limits |= {"retry_after_seconds": retry_after} if retry_after else {"clear_retry_after": True}
    user.act("PUT", f"/accounts/{user.email}/limits", json=limits)
    client = user.client(
        user.credentials(access_token=user.access_token, expires_at=datetime.now(UTC) + timedelta(hours=1)),
        retry_policy=RetryPolicy(max_attempts=10, base_delay=0.2, max_delay=1.0, max_retry_after=5.0),
    )
    for _ in range(9):
        assert len(client.list_calendars()) == 1
    outcomes = user.outcomes()
    assert outcomes["200"] == 9 and outcomes.get(str(status), 0) >= 1


def test_server_errors_and_timeouts_are_retried(make_google_user):
    user = make_google_user(2)
    client = user.client(
        user.credentials(access_token=user.access_token, expires_at=datetime.now(UTC) + timedelta(hours=1)),
        timeout=1.0,
        retry_policy=RetryPolicy(max_attempts=5, base_delay=0.05, max_delay=0.2),
    )
    user.fault("503", path_contains="/events", times=2)
    user.fault("timeout", path_contains="/events", times=1, delay_seconds=3)
    _, records = read_all(client)
    assert len(records) == 2
    outcomes = user.outcomes()
    assert outcomes["503"] == 2 and outcomes["200"] == 1

    user.fault("500", path_contains="/events", times=5)
    with pytest.raises(TransientError):
        read_all(client)
    assert user.outcomes()["500"] == 5


def test_the_sdk_builds_from_the_sandboxs_discovery_document(make_google_user, google_sandbox):
    user = make_google_user(3)
    credentials = Credentials(token=user.access_token)
    http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=5))
    service = build(
        "calendar",
        "v3",
        http=http,
        discoveryServiceUrl=f"{google_sandbox.google_url}/discovery/v1/apis/{{api}}/{{apiVersion}}/rest",
        static_discovery=False,
        cache_discovery=False,
    )
    answer = service.events().list(calendarId="primary", maxResults=2).execute()
    assert len(answer["items"]) == 2 and "nextPageToken" in answer


def test_the_registry_builds_the_client(make_google_user):
    user = make_google_user(1)
    spec = get_connector("google_calendar")
    assert spec.account_id(user.config()) == user.email and spec.streams == ("events",)
    client = spec.build_client(user.config(), user.credentials(), on_tokens=user.tokens.append)
    stream = client.streams()["events"]
    assert stream.primary_key == ("calendarId", "id")
    assert len([r for page in stream.pages(None) for r in page.records]) == 1


def test_a_dropped_connection_is_retried(make_google_user):
    user = make_google_user()
    client = user.client(
        user.credentials(access_token=user.access_token, expires_at=datetime.now(UTC) + timedelta(hours=1))
    )
    user.fault("drop", path_contains="/events", times=1)
    made = client.insert_event(user.email, event_body(details(), event_id=event_id_for(uuid.uuid4())))
    _, records = read_all(client)
    assert [r["id"] for r in records] == [made["id"]]
    assert user.outcomes().get("dropped") == 1


def test_a_grant_without_write_scope_is_an_auth_error(make_google_user):
    readonly = "https://www.googleapis.com/auth/calendar.readonly"
    user = make_google_user(1, scope=readonly)
    client = user.client(config=user.config(scopes=(readonly,)))
    assert len(client.list_calendars()) == 1
    with pytest.raises(AuthError) as denied:
        client.insert_event(user.email, event_body(details()))
    assert denied.value.status_code == 403
