"""The Google Calendar emulator's events: paging, sync tokens (changes, cancellations, 410), etag/If-Match,
validation and recurring series, in-process with a clock the tests move."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from connectors.sandbox.common.clock import Clock

ADMIN = "/google/_sandbox"
API = "/google/calendar/v3"


class User:
    def __init__(self, client: TestClient, grant: dict[str, Any]) -> None:
        self.client = client
        self.grant = grant
        self.email = grant["email"]
        self.access_token = grant["access_token"]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    def events(self, calendar: str = "primary", **params: Any):
        return self.client.get(f"{API}/calendars/{calendar}/events", params=params, headers=self.headers)

    def all_pages(self, **params: Any) -> tuple[list[dict], str]:
        items, token = [], None
        while True:
            response = self.events(**params, **({"pageToken": token} if token else {}))
            assert response.status_code == 200, response.text
            body = response.json()
            items += body["items"]
            token = body.get("nextPageToken")
            if token is None:
                return items, body["nextSyncToken"]
            assert "nextSyncToken" not in body

    def insert(self, body: dict, calendar: str = "primary"):
        return self.client.post(f"{API}/calendars/{calendar}/events", json=body, headers=self.headers)

    def admin(self, method: str, path: str, **kwargs: Any):
        response = self.client.request(method, f"{ADMIN}{path}", **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None


@pytest.fixture
def new_user(sandbox: TestClient):
    def make(**spec: Any) -> User:
        response = sandbox.post(f"{ADMIN}/accounts", json={"recurring_share": 0, **spec})
        assert response.status_code == 201, response.text
        return User(sandbox, response.json())

    return make


MEETING = {
    "summary": "Engagement review",
    "start": {"dateTime": "2026-11-10T09:00:00-08:00", "timeZone": "America/Los_Angeles"},
    "end": {"dateTime": "2026-11-10T10:00:00-08:00", "timeZone": "America/Los_Angeles"},
}


def test_pages_cover_every_event_once_and_only_the_last_has_a_sync_token(new_user):
    user = new_user(events=37, seed=3)
    items, sync_token = user.all_pages(maxResults=10)
    assert len(items) == 37 and len({i["id"] for i in items}) == 37
    assert sync_token
    first = user.events(maxResults=10).json()
    assert len(first["items"]) == 10 and first["kind"] == "calendar#events"
    assert first["items"][0]["kind"] == "calendar#event" and first["items"][0]["etag"].startswith('"')


def test_incremental_sync_returns_changes_and_cancellations_only(new_user):
    user = new_user(events=20, seed=4)
    items, token = user.all_pages()
    edited, deleted = items[3]["id"], items[7]["id"]
    user.admin("PATCH", f"/calendars/{user.email}/events/{edited}", json={"changes": {"summary": "Moved"}})
    user.admin("DELETE", f"/calendars/{user.email}/events/{deleted}")
    created = user.admin("POST", f"/calendars/{user.email}/events", json=MEETING)

    changes, next_token = user.all_pages(syncToken=token)
    by_id = {item["id"]: item for item in changes}
    assert set(by_id) == {edited, deleted, created["id"]}
    assert by_id[edited]["summary"] == "Moved"
    assert by_id[deleted] == {
        "kind": "calendar#event",
        "etag": by_id[deleted]["etag"],
        "id": deleted,
        "status": "cancelled",
    }
    # Nothing changed since: no items, and Google hands the same token back.
    quiet = user.events(syncToken=next_token).json()
    assert quiet["items"] == [] and quiet["nextSyncToken"] == next_token
    # A full list leaves the deleted event out unless showDeleted says otherwise.
    assert deleted not in {i["id"] for i in user.all_pages()[0]}
    assert deleted in {i["id"] for i in user.all_pages(showDeleted="true")[0]}


def test_an_edit_made_while_paging_comes_again_in_the_next_sync(new_user):
    user = new_user(events=12, seed=5)
    first = user.events(maxResults=5).json()
    already_read = first["items"][0]["id"]
    user.admin(
        "PATCH", f"/calendars/{user.email}/events/{already_read}", json={"changes": {"summary": "Late edit"}}
    )
    token, rest = first["nextPageToken"], []
    while token:
        page = user.events(maxResults=5, pageToken=token).json()
        rest += page["items"]
        token = page.get("nextPageToken")
    assert len(first["items"]) + len(rest) == 12
    changes, _ = user.all_pages(syncToken=page["nextSyncToken"])
    assert [c["summary"] for c in changes if c["id"] == already_read] == ["Late edit"]


def test_sync_tokens_refuse_restrictions_and_expire_with_410(new_user, clock: Clock):
    user = new_user(events=3, seed=6)
    _, token = user.all_pages()
    restricted = user.events(syncToken=token, timeMin="2026-01-01T00:00:00Z")
    assert restricted.status_code == 400
    assert restricted.json()["error"]["errors"][0]["reason"] == "syncTokenWithRequestRestrictions"
    assert user.events(syncToken=token, showDeleted="false").status_code == 400
    assert user.events(syncToken="garbage").status_code == 400

    user.admin("POST", f"/calendars/{user.email}/sync-tokens/expire")
    gone = user.events(syncToken=token)
    assert gone.status_code == 410
    error = gone.json()["error"]
    assert error["code"] == 410 and error["errors"][0]["reason"] == "fullSyncRequired"
    assert error["message"] == "Sync token is no longer valid, a full sync is required."

    _, fresh = user.all_pages()  # a full sync starts over with a token that works
    assert user.events(syncToken=fresh).status_code == 200
    user.admin("PUT", f"/accounts/{user.email}/limits", json={"sync_token_ttl_seconds": 60})
    clock.advance(61)
    assert user.events(syncToken=fresh).status_code == 410


def test_time_window_and_sync_token_keep_the_full_syncs_window(new_user):
    user = new_user()
    old = {
        **MEETING,
        "start": {"dateTime": "2020-01-01T09:00:00Z"},
        "end": {"dateTime": "2020-01-01T10:00:00Z"},
    }
    user.insert(old)
    recent = user.insert(MEETING).json()
    items, token = user.all_pages(timeMin="2026-01-01T00:00:00Z")
    assert [i["id"] for i in items] == [recent["id"]]
    assert user.events(timeMin="2026-01-01T00:00:00").status_code == 400  # no offset
    empty = user.events(timeMin="2026-01-02T00:00:00Z", timeMax="2026-01-01T00:00:00Z")
    assert empty.json()["error"]["errors"][0]["reason"] == "timeRangeEmpty"
    user.insert({**old, "summary": "Also old"})
    changes, _ = user.all_pages(syncToken=token)
    assert changes == []


def test_etags_and_if_match(new_user):
    user = new_user()
    created = user.insert(MEETING).json()
    url = f"{API}/calendars/primary/events/{created['id']}"
    stale = created["etag"]
    updated = user.client.put(
        url, json={**MEETING, "summary": "Renamed"}, headers={**user.headers, "If-Match": stale}
    )
    assert updated.status_code == 200 and updated.json()["etag"] != stale
    assert updated.json()["sequence"] == 0  # same times and place: not a new revision for guests

    refused = user.client.put(url, json=MEETING, headers={**user.headers, "If-Match": stale})
    assert refused.status_code == 412
    assert refused.json()["error"]["errors"][0] == {
        "domain": "global",
        "reason": "conditionNotMet",
        "message": "Precondition Failed",
        "locationType": "header",
        "location": "If-Match",
    }
    assert (
        user.client.patch(
            url, json={"location": "Room 2"}, headers={**user.headers, "If-Match": stale}
        ).status_code
        == 412
    )
    assert user.client.delete(url, headers={**user.headers, "If-Match": stale}).status_code == 412

    current = updated.json()["etag"]
    moved = user.client.patch(
        url, json={"location": "Room 2"}, headers={**user.headers, "If-Match": current}
    ).json()
    assert moved["summary"] == "Renamed" and moved["location"] == "Room 2" and moved["sequence"] == 1
    not_modified = user.client.get(url, headers={**user.headers, "If-None-Match": moved["etag"]})
    assert not_modified.status_code == 304
    assert user.client.delete(url, headers={**user.headers, "If-Match": moved["etag"]}).status_code == 204
    assert user.client.get(url, headers=user.headers).json()["status"] == "cancelled"
    again = user.client.delete(url, headers=user.headers)
    assert again.status_code == 410 and again.json()["error"]["errors"][0]["reason"] == "deleted"


def test_inserts_are_validated(new_user):
    user = new_user()
    assert (
        user.insert({"summary": "x", "start": MEETING["start"]}).json()["error"]["message"]
        == "Missing end time."
    )
    backwards = user.insert({**MEETING, "end": {"dateTime": "2026-11-10T08:00:00-08:00"}})
    assert (
        backwards.status_code == 400 and backwards.json()["error"]["errors"][0]["reason"] == "timeRangeEmpty"
    )
    mixed = user.insert({**MEETING, "end": {"date": "2026-11-11"}})
    assert mixed.status_code == 400
    chosen = user.insert({**MEETING, "id": "firmsnc0001"})
    assert chosen.status_code == 200 and chosen.json()["id"] == "firmsnc0001"
    assert user.insert({**MEETING, "id": "firmsnc0001"}).status_code == 409
    assert user.insert({**MEETING, "id": "NOT_BASE32"}).status_code == 400
    all_day = user.insert(
        {"summary": "Filing day", "start": {"date": "2026-11-12"}, "end": {"date": "2026-11-13"}}
    )
    assert all_day.status_code == 200 and all_day.json()["start"] == {"date": "2026-11-12"}


def test_single_events_expands_a_weekly_series(new_user):
    user = new_user()
    weekly = {
        "summary": "Team stand-up",
        "start": {"dateTime": "2026-10-27T09:00:00-07:00", "timeZone": "America/Los_Angeles"},
        "end": {"dateTime": "2026-10-27T09:30:00-07:00", "timeZone": "America/Los_Angeles"},
        "recurrence": ["RRULE:FREQ=WEEKLY;COUNT=3"],
    }
    series = user.insert(weekly).json()
    assert series["recurrence"] == ["RRULE:FREQ=WEEKLY;COUNT=3"]
    masters, _ = user.all_pages()
    assert [m["id"] for m in masters] == [series["id"]]
    instances, _ = user.all_pages(singleEvents="true", orderBy="startTime")
    # Wall time holds at 09:00 Pacific across the end of daylight saving (1 November 2026).
    assert [i["id"] for i in instances] == [
        f"{series['id']}_20261027T160000Z",
        f"{series['id']}_20261103T170000Z",
        f"{series['id']}_20261110T170000Z",
    ]
    assert all(i["recurringEventId"] == series["id"] and "recurrence" not in i for i in instances)
    assert instances[1]["start"]["dateTime"] == "2026-11-03T09:00:00-08:00"
    assert user.events(orderBy="startTime").status_code == 400
    one = user.client.get(f"{API}/calendars/primary/events/{instances[2]['id']}", headers=user.headers)
    assert (
        one.status_code == 200 and one.json()["originalStartTime"]["dateTime"] == "2026-11-10T09:00:00-08:00"
    )
    no_zone = {**weekly, "start": {"dateTime": "2026-10-27T09:00:00-07:00"}}
    assert user.insert(no_zone).status_code == 400  # a series needs a zone to repeat in
