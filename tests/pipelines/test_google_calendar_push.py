"""Calendar push, for real: events edited in firmsync → the staff member's Google calendar (the sandbox over
HTTP, through google-api-python-client), with If-Match on the etag last merged and DESIGN's conflict rule."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest

from core_api.db import tenant_session
from core_api.models import CalendarEvent
from pipelines.calendar_push import push_calendar
from pipelines.calendar_push_jobs import CALENDAR_PUSH_JOBS, calendar_push
from pipelines.partitions import google_calendar_connections
from pipelines.resources import FirmsyncDatabase
from tests.pipelines.conftest import add_staff_user, make_google_target
from tests.pipelines.test_google_calendar_sync import _admin, _materialize, _rows, app_events, source

ACCOUNT = {"events": 3, "calendars": []}


@pytest.fixture
def target(database_url, sandbox, instance):
    target = make_google_target(sandbox, **ACCOUNT)
    instance.add_dynamic_partitions(google_calendar_connections.name, [target.key])
    assert _materialize(target, instance, _resources()).success
    return target


def _resources():
    from pipelines.resources import GoogleCalendarApi

    return {
        "db": FirmsyncDatabase(),
        "google_calendar": GoogleCalendarApi(timeout_seconds=5, max_attempts=8, retry_base_delay_seconds=0.2),
    }


def _push(target):
    resources = _resources()
    return push_calendar(resources["db"], resources["google_calendar"], target.connection_id)


def _staff_id(target) -> uuid.UUID:
    [(user_id,)] = _rows(target, "select id from app.users where email = :e", e=target.realm["email"])
    return user_id


def _create(target, title: str, staff_user_id: uuid.UUID | None = None) -> uuid.UUID:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    with tenant_session(target.tenant) as session:
        event = CalendarEvent(
            firm_id=target.tenant.firm_id,
            staff_user_id=staff_user_id or _staff_id(target),
            title=title,
            location="Room 4",
            starts_at=start,
            ends_at=start + timedelta(minutes=45),
            timezone="America/New_York",
        )
        session.add(event)
        session.flush()
        return event.id


def _edit(target, event_id: uuid.UUID, **changes) -> None:
    with tenant_session(target.tenant) as session:
        event = session.get(CalendarEvent, event_id)
        for name, value in changes.items():
            setattr(event, name, value)


def _google_id(target, event_id: uuid.UUID) -> str:
    [(external_id,)] = _rows(
        target,
        "select external_id from app.external_refs where connection_id = :c and entity_id = :e",
        e=event_id,
    )
    return external_id


def _in_google(sandbox, target) -> dict[str, dict]:
    return {key[1]: event for key, event in source(sandbox, target.realm).items()}


def test_an_event_made_in_firmsync_reaches_google_once_and_the_next_sync_takes_it_as_ours(
    target, sandbox, instance
):
    event_id = _create(target, "Quarterly review")
    result = _push(target)
    assert (result.changes, result.pushed, result.conflicts) == (1, 1, 0)
    external_id = _google_id(target, event_id)
    google = _in_google(sandbox, target)[external_id]
    assert (google["summary"], google["location"]) == ("Quarterly review", "Room 4")
    assert google["start"]["timeZone"] == "America/New_York"
    # The warehouse holds Google's answer and the event remembers its etag, so the pull sees nothing new.
    [(etag, stored_etag)] = _rows(
        target,
        "select e.provider_etags->>'google_calendar', w.etag from app.calendar_events e "
        "join warehouse.google_calendar_events w on w.connection_id = :c and w.external_id = :x "
        "where e.id = :e",
        x=external_id,
        e=event_id,
    )
    assert etag == stored_etag == google["etag"]
    assert _push(target).changes == 0  # the cursor moved past it
    sync = _materialize(target, instance, _resources())
    assert sync.success
    assert app_events(target)[external_id][0] == "Quarterly review"
    assert _rows(target, "select count(*) from app.sync_conflicts where connection_id = :c")[0][0] == 0
    assert _rows(target, "select version from app.calendar_events where id = :e", e=event_id)[0][0] == 1


def test_edits_and_a_deletion_in_firmsync_are_sent_with_the_etag_last_merged(target, sandbox):
    event_id = _create(target, "Kick-off")
    _push(target)
    external_id = _google_id(target, event_id)
    _edit(target, event_id, title="Kick-off (moved)", location=None)
    result = _push(target)
    assert (result.pushed, result.conflicts) == (1, 0)
    google = _in_google(sandbox, target)[external_id]
    assert google["summary"] == "Kick-off (moved)" and "location" not in google
    _edit(target, event_id, deleted_at=datetime.now(UTC))
    assert _push(target).pushed == 1
    assert external_id not in _in_google(sandbox, target)  # cancelled in Google
    [(deleted_at,)] = _rows(
        target,
        "select deleted_at from warehouse.google_calendar_events "
        "where connection_id = :c and external_id = :x",
        x=external_id,
    )
    assert deleted_at is not None


@pytest.mark.parametrize("newer", ["platform", "vendor"])
def test_an_event_edited_on_both_sides_between_syncs_ends_by_the_rule_on_both_sides(
    target, sandbox, instance, newer
):
    """The push meets Google's newer etag (412): the newer edit wins on both sides, the conflict recorded."""
    event_id = _create(target, "Budget call")
    _push(target)
    external_id = _google_id(target, event_id)
    calendar = target.realm["email"]

    def in_google():
        _admin(
            sandbox,
            "PATCH",
            f"/calendars/{calendar}/events/{external_id}",
            json={"changes": {"summary": "Google's"}},
        )

    first, second = (
        (in_google, lambda: _edit(target, event_id, title="Ours"))
        if newer == "platform"
        else (lambda: _edit(target, event_id, title="Ours"), in_google)
    )
    first()
    time.sleep(1.1)  # Google's `updated` has millisecond precision; keep the order unambiguous
    second()
    result = _push(target)
    assert result.conflicts == 1
    winner = "Ours" if newer == "platform" else "Google's"
    assert _in_google(sandbox, target)[external_id]["summary"] == winner
    assert app_events(target)[external_id][0] == winner
    [(resolution, platform_title, vendor_title)] = _rows(
        target,
        "select resolution, platform_payload->>'title', vendor_payload->>'summary' from app.sync_conflicts "
        "where connection_id = :c and entity = 'calendar_event' and external_id = :x",
        x=external_id,
    )
    assert (resolution, platform_title, vendor_title) == (f"{newer}_wins", "Ours", "Google's")
    # Settled: the next sync and push change nothing and record nothing more.
    assert _materialize(target, instance, _resources()).success
    assert _push(target).changes == 0
    assert app_events(target)[external_id][0] == winner
    assert _in_google(sandbox, target)[external_id]["summary"] == winner
    assert _rows(target, "select count(*) from app.sync_conflicts where connection_id = :c")[0][0] == 1


def test_a_deletion_here_loses_to_a_newer_edit_in_google_and_the_event_comes_back(target, sandbox):
    event_id = _create(target, "Site visit")
    _push(target)
    external_id = _google_id(target, event_id)
    _edit(target, event_id, deleted_at=datetime.now(UTC))
    time.sleep(1.1)
    _admin(
        sandbox,
        "PATCH",
        f"/calendars/{target.realm['email']}/events/{external_id}",
        json={"changes": {"summary": "Site visit (confirmed)"}},
    )
    result = _push(target)
    assert result.conflicts == 1
    assert _in_google(sandbox, target)[external_id]["summary"] == "Site visit (confirmed)"
    [(title, deleted_at)] = _rows(
        target, "select title, deleted_at from app.calendar_events where id = :e", e=event_id
    )
    assert (title, deleted_at) == ("Site visit (confirmed)", None)


def test_events_of_other_staff_members_are_not_pushed_to_this_calendar(target, sandbox):
    colleague = add_staff_user(target.tenant, f"colleague-{uuid.uuid4().hex[:8]}@firmsync.example")
    before = set(_in_google(sandbox, target))
    event_id = _create(target, "Not theirs", staff_user_id=colleague)
    result = _push(target)
    assert (result.changes, result.skipped, result.pushed) == (1, 1, 0)
    assert set(_in_google(sandbox, target)) == before
    assert _rows(target, "select count(*) from app.external_refs where entity_id = :e", e=event_id)[0][0] == 0


def test_the_sensor_asks_one_run_per_connection_and_the_job_pushes(target, sandbox, instance):
    _create(target, "Through Dagster")
    context = dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()})
    result = calendar_push(context)
    mine = [r for r in result.run_requests if r.partition_key == target.key]
    assert len(mine) == 1 and mine[0].job_name == "google_calendar_push_calendar"
    run = CALENDAR_PUSH_JOBS["google_calendar"].execute_in_process(
        partition_key=target.key, instance=instance, resources=_resources()
    )
    assert run.success
    assert "Through Dagster" in {e["summary"] for e in _in_google(sandbox, target).values()}
    again = calendar_push(dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()}))
    assert not [r for r in getattr(again, "run_requests", None) or [] if r.partition_key == target.key]
