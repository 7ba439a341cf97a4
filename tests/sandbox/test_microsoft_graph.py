"""The Microsoft emulator in-process, with a clock the test moves: the demo mailbox, delta rounds and their
expiry, removals, throttling, change keys and subscriptions' validation — as Graph documents them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from connectors.sandbox.app import create_app

M = "/microsoft"
WINDOW = {"startDateTime": "2020-01-01T00:00:00Z", "endDateTime": "2030-01-01T00:00:00Z"}


@pytest.fixture
def mailbox(sandbox):
    tenant = sandbox.post(f"{M}/_sandbox/tenants", json={"users": [{"events": 7, "seed": 4}]}).json()
    user = tenant["users"][0]
    return user, {"Authorization": f"Bearer {user['access_token']}"}


def _round(sandbox, headers, url=None, size=3):
    headers = {**headers, "Prefer": f"odata.maxpagesize={size}"}
    answer = sandbox.get(
        url or f"{M}/v1.0/me/calendarView/delta", params=None if url else WINDOW, headers=headers
    )
    items = []
    while True:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items += body["value"]
        if "@odata.deltaLink" in body:
            return items, body["@odata.deltaLink"]
        answer = sandbox.get(body["@odata.nextLink"], headers=headers)


def test_the_demo_mailbox_is_seeded_the_same_way_every_start(sandbox, sandbox_settings):
    user = sandbox_settings.microsoft_demo_user_id
    first = sandbox.get(f"{M}/_sandbox/users/{user}/events").json()["value"]
    again = TestClient(create_app(sandbox_settings)).get(f"{M}/_sandbox/users/{user}/events").json()["value"]
    assert len(first) == sandbox_settings.microsoft_demo_events
    assert [(e["id"], e["subject"], e["start"]) for e in first] == [
        (e["id"], e["subject"], e["start"]) for e in again
    ]
    consent = sandbox.post(f"{M}/_sandbox/users/{user}/consent").json()
    assert consent["upn"] == "demo.staff@firmsync.example"
    assert consent["tenant_id"] == sandbox_settings.microsoft_demo_tenant_id


def test_a_round_pages_by_keyset_and_the_next_reads_only_changes(sandbox, mailbox):
    user, headers = mailbox
    items, delta = _round(sandbox, headers)
    assert len(items) == 7 and len({i["id"] for i in items}) == 7
    # Ids are random, so which events come first is too: move a timed one (Graph refuses to give an all-day
    # event a time of day), delete another.
    moved = next(i["id"] for i in items if not i.get("isAllDay"))
    gone = next(i["id"] for i in items if i["id"] != moved)
    assert sandbox.delete(f"{M}/_sandbox/users/{user['id']}/events/{gone}").status_code < 300
    far = {"dateTime": "2040-01-01T10:00:00", "timeZone": "UTC"}
    patched = sandbox.patch(
        f"{M}/_sandbox/users/{user['id']}/events/{moved}",
        json={"start": far, "end": {**far, "dateTime": "2040-01-01T11:00:00"}},
    )
    assert patched.status_code == 200, patched.text
    outside = {"subject": "Far away", "start": far, "end": {**far, "dateTime": "2040-01-01T12:00:00"}}
    sandbox.post(f"{M}/_sandbox/users/{user['id']}/events", json=outside)  # never in the view: not reported
    changes, delta = _round(sandbox, headers, delta)
    assert {c["id"]: c.get("@removed") for c in changes} == {
        gone: {"reason": "deleted"},
        moved: {"reason": "changed"},  # out of the round's window
    }
    assert _round(sandbox, headers, delta)[0] == []


def test_delta_tokens_expire_into_410_sync_state_not_found(sandbox, mailbox, clock, sandbox_settings):
    user, headers = mailbox
    _, delta = _round(sandbox, headers)
    clock.advance(sandbox_settings.microsoft_delta_token_ttl + 1)
    fresh = sandbox.post(f"{M}/_sandbox/users/{user['id']}/consent").json()["access_token"]
    headers = {"Authorization": f"Bearer {fresh}"}
    answer = sandbox.get(delta, headers=headers)
    assert answer.status_code == 410 and answer.json()["error"]["code"] == "syncStateNotFound"
    forged = sandbox.get(f"{M}/v1.0/me/calendarView/delta", params={"$deltatoken": "x.y"}, headers=headers)
    assert forged.status_code == 400


def test_the_mailbox_limit_answers_429_with_retry_after(sandbox, mailbox, clock):
    user, headers = mailbox
    sandbox.put(f"{M}/_sandbox/users/{user['id']}/limits", json={"requests": 2, "window_seconds": 60})
    assert [sandbox.get(f"{M}/v1.0/me", headers=headers).status_code for _ in range(3)] == [200, 200, 429]
    refused = sandbox.get(f"{M}/v1.0/me", headers=headers)
    assert (
        refused.json()["error"]["code"] == "ApplicationThrottled" and int(refused.headers["Retry-After"]) >= 1
    )
    clock.advance(61)
    assert sandbox.get(f"{M}/v1.0/me", headers=headers).status_code == 200


def test_writes_take_new_change_keys_and_if_match_guards_them(sandbox, mailbox):
    _, headers = mailbox
    created = sandbox.post(
        f"{M}/v1.0/me/events",
        json={
            "subject": "Kickoff",
            "start": {"dateTime": "2026-12-10T09:00:00", "timeZone": "America/New_York"},
            "end": {"dateTime": "2026-12-10T10:00:00", "timeZone": "America/New_York"},
        },
        headers=headers,
    ).json()
    assert created["start"] == {"dateTime": "2026-12-10T14:00:00.0000000", "timeZone": "UTC"}
    assert created["originalStartTimeZone"] == "America/New_York"
    url = f"{M}/v1.0/me/events/{created['id']}"
    ok = sandbox.patch(
        url, json={"subject": "Moved"}, headers={**headers, "If-Match": created["@odata.etag"]}
    )
    assert ok.status_code == 200 and ok.json()["changeKey"] != created["changeKey"]
    stale = sandbox.patch(
        url, json={"subject": "Lost"}, headers={**headers, "If-Match": created["@odata.etag"]}
    )
    assert stale.status_code == 412
    bad = sandbox.patch(url, json={"nonsense": 1}, headers=headers)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "RequestBodyRead"
    assert sandbox.delete(url, headers=headers).status_code == 204
    assert sandbox.get(url, headers=headers).status_code == 404


def test_a_subscription_needs_an_endpoint_that_echoes_the_token(sandbox, mailbox):
    _, headers = mailbox
    body = {
        "changeType": "created,updated,deleted",
        "notificationUrl": "http://127.0.0.1:9/unreachable",
        "resource": "me/events",
        "expirationDateTime": "2099-01-01T00:00:00Z",
        "clientState": "s",
    }
    too_long = sandbox.post(f"{M}/v1.0/subscriptions", json=body, headers=headers)
    assert too_long.status_code == 400 and "4230" in too_long.json()["error"]["message"]
    body["expirationDateTime"] = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    unreachable = sandbox.post(f"{M}/v1.0/subscriptions", json=body, headers=headers)
    assert unreachable.status_code == 400 and "validation" in unreachable.json()["error"]["message"]
    assert sandbox.get(f"{M}/_sandbox/subscriptions").json()["value"] == []


def test_delta_links_of_an_earlier_run_answer_410(sandbox, sandbox_settings, clock):
    user = sandbox_settings.microsoft_demo_user_id
    token = sandbox.post(f"{M}/_sandbox/users/{user}/consent").json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    _, delta = _round(sandbox, headers, size=100)
    restarted = TestClient(create_app(sandbox_settings, clock=clock))
    answer = restarted.get(delta, headers=headers)  # the token still verifies; its sync state is gone
    assert answer.status_code == 410 and answer.json()["error"]["code"] == "syncStateNotFound"
