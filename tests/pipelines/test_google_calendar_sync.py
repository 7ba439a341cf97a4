"""The Google Calendar assets, materialised for real: the Google sandbox over HTTP →
warehouse.google_calendar_events → app.calendar_events of the staff member who owns the connection."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import dagster as dg
import httpx
import pytest
from sqlalchemy import select, text

from connectors.google_calendar import event_body
from connectors.records import CalendarEventDetails
from core_api.db import tenant_session
from core_api.models import CalendarEvent
from pipelines.assets.google_calendar import APP_CALENDAR_EVENTS, EVENTS, google_calendar
from pipelines.partitions import google_calendar_connections
from pipelines.resources import GoogleCalendarApi
from tests.pipelines.conftest import make_google_target

ACCOUNT = {"events": 24, "calendars": [{"summary": "Client deadlines", "events": 6}], "all_day_share": 0.25}


@pytest.fixture
def target(database_url, sandbox, instance):
    target = make_google_target(sandbox, **ACCOUNT)
    instance.add_dynamic_partitions(google_calendar_connections.name, [target.key])
    return target


def _materialize(target, instance, resources):
    """The sync job's shape: the vendor's assets with their checks, for one connection."""
    return dg.materialize(
        [*google_calendar.assets, *google_calendar.checks],
        partition_key=target.key,
        instance=instance,
        resources=resources,
        raise_on_error=False,
    )


def _metadata(result, key) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key == key)
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _rows(target, sql: str, **params):
    with tenant_session(target.tenant) as session:
        return session.execute(text(sql), {"c": target.connection_id, **params}).all()


def _admin(sandbox, method: str, path: str, **kwargs):
    response = httpx.request(method, f"{sandbox.google}/_sandbox{path}", timeout=10, **kwargs)
    response.raise_for_status()
    return response.json() if response.content else None


def source(sandbox, account: dict) -> dict[tuple[str, str], dict]:
    """Every live event of every calendar, read straight from the emulated Calendar API (not our connector),
    with a consent of its own."""
    token = _admin(sandbox, "POST", f"/accounts/{account['email']}/consent", json={})["access_token"]
    out = {}
    for calendar in account["calendars"]:
        page_token = None
        while True:
            params = {"maxResults": 2500, "singleEvents": "true"} | (
                {"pageToken": page_token} if page_token else {}
            )
            response = httpx.get(
                f"{sandbox.google}/calendar/v3/calendars/{calendar['id']}/events",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            )
            response.raise_for_status()
            body = response.json()
            out.update({(calendar["id"], item["id"]): item for item in body["items"]})
            page_token = body.get("nextPageToken")
            if not page_token:
                break
    return out


def warehouse(target, *, live: bool = True) -> dict[tuple[str, str], dict]:
    where = " and deleted_at is null" if live else ""
    return {
        (calendar_id, external_id): raw
        for calendar_id, external_id, raw in _rows(
            target,
            "select calendar_id, external_id, raw from warehouse.google_calendar_events "
            f"where connection_id = :c{where}",
        )
    }


def app_events(target) -> dict[str, tuple]:
    """The staff member's live events by Google id, in the app's shape."""
    return {
        row[0]: tuple(row[1:])
        for row in _rows(
            target,
            "select r.external_id, e.title, e.starts_at, e.ends_at, e.all_day, u.email "
            "from app.calendar_events e join app.external_refs r on r.entity_id = e.id "
            "join app.users u on u.id = e.staff_user_id "
            "where r.connection_id = :c and r.entity = 'calendar_event' and e.deleted_at is null",
        )
    }


def expected_app_events(target) -> dict[str, tuple]:
    """What the merge must make of the warehouse: dates at midnight in the event's zone for all-day ones."""
    return {
        row[0]: tuple(row[1:])
        for row in _rows(
            target,
            "select external_id, coalesce(summary, '(no title)'), "
            "case when all_day then start_date::timestamp at time zone coalesce(time_zone, 'UTC') "
            "else starts_at end, "
            "case when all_day then end_date::timestamp at time zone coalesce(time_zone, 'UTC') "
            "else ends_at end, all_day, :email "
            "from warehouse.google_calendar_events where connection_id = :c and deleted_at is null",
            email=target.realm["email"],
        )
    }


def details(title: str) -> CalendarEventDetails:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)
    return CalendarEventDetails(
        title=title, starts_at=start, ends_at=start + timedelta(hours=1), timezone="America/New_York"
    )


def test_a_full_sync_equals_google_and_reaches_the_staff_members_calendar(
    target, instance, resources, sandbox
):
    result = _materialize(target, instance, resources)
    assert result.success
    expected = source(sandbox, target.realm)
    assert len(expected) == 30
    assert warehouse(target) == expected  # every event, content and all
    assert any(raw["start"].get("date") for raw in expected.values())  # all-day events are in the set
    merged = _metadata(result, APP_CALENDAR_EVENTS)
    assert merged["events_created"] == 30
    assert app_events(target) == expected_app_events(target)
    # The cursor is Google's sync tokens (opaque): the cursor check passes without ordering them.
    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert "cursor_monotonic" in checks and all(e.passed for e in checks.values()), checks
    again = _materialize(target, instance, resources)
    cursor = next(
        e for e in again.get_asset_check_evaluations() if e.asset_check_key.name == "cursor_monotonic"
    )
    assert cursor.passed and cursor.metadata["ordering"].value == "opaque"


def test_an_incremental_sync_reads_just_the_changes_and_cancellations(target, instance, resources, sandbox):
    assert _materialize(target, instance, resources).success
    primary, deadlines = (c["id"] for c in target.realm["calendars"])
    before = warehouse(target)
    edited = next(k for k in before if k[0] == primary)
    cancelled = next(k for k in before if k[0] == deadlines)
    _admin(
        sandbox, "PATCH", f"/calendars/{primary}/events/{edited[1]}", json={"changes": {"summary": "Moved"}}
    )
    _admin(sandbox, "DELETE", f"/calendars/{deadlines}/events/{cancelled[1]}")
    created = _admin(sandbox, "POST", f"/calendars/{primary}/events", json=event_body(details("New review")))

    result = _materialize(target, instance, resources)
    assert result.success
    meta = _metadata(result, EVENTS)
    assert (meta["rows_inserted"], meta["rows_updated"], meta["full_refresh"]) == (1, 2, False)
    assert meta["rows_unchanged"] == 0  # nothing but the three changes was read
    assert warehouse(target) == source(sandbox, target.realm)
    # The cancelled event keeps its last known columns, marked deleted.
    [(summary, deleted_at)] = _rows(
        target,
        "select summary, deleted_at from warehouse.google_calendar_events "
        "where connection_id = :c and calendar_id = :cal and external_id = :id",
        cal=deadlines,
        id=cancelled[1],
    )
    assert summary == before[cancelled]["summary"] and deleted_at is not None
    merged = _metadata(result, APP_CALENDAR_EVENTS)
    assert (merged["events_created"], merged["events_updated"], merged["events_deleted"]) == (1, 1, 1)
    events = app_events(target)
    assert events == expected_app_events(target)
    assert events[edited[1]][0] == "Moved" and created["id"] in events and cancelled[1] not in events


def test_an_expired_sync_token_falls_back_to_a_full_refresh_by_itself(target, instance, resources, sandbox):
    assert _materialize(target, instance, resources).success
    primary = target.realm["calendars"][0]["id"]
    gone = next(k for k in warehouse(target) if k[0] == primary)
    for calendar in target.realm["calendars"]:
        _admin(sandbox, "POST", f"/calendars/{calendar['id']}/sync-tokens/expire")
    _admin(sandbox, "DELETE", f"/calendars/{primary}/events/{gone[1]}")

    result = _materialize(target, instance, resources)
    assert result.success
    meta = _metadata(result, EVENTS)
    assert meta["fell_back_to_full_refresh"] is True
    assert warehouse(target) == source(sandbox, target.realm)
    assert gone[1] not in app_events(target)
    assert app_events(target) == expected_app_events(target)
    # The new tokens work: the next sync is incremental again and finds nothing.
    again = _metadata(_materialize(target, instance, resources), EVENTS)
    assert (again["full_refresh"], again["rows_inserted"], again["rows_updated"]) == (False, 0, 0)


def test_a_rate_limit_storm_converges_without_a_failed_run(target, instance, resources, sandbox):
    email = target.realm["email"]
    # Two requests a (one-second) window, then 429 with Retry-After: 1; pages of 5 make seven calls.
    resources = {**resources, "google_calendar": GoogleCalendarApi(timeout_seconds=5, page_size=5)}
    limits = {
        "requests_per_minute": 2,
        "window_seconds": 1,
        "rate_limit_status": 429,
        "retry_after_seconds": 1,
    }
    _admin(sandbox, "PUT", f"/accounts/{email}/limits", json=limits)
    _admin(sandbox, "DELETE", f"/accounts/{email}/stats")
    try:
        result = _materialize(target, instance, resources)
        stats = _admin(sandbox, "GET", f"/accounts/{email}/stats")
    finally:
        _admin(
            sandbox,
            "PUT",
            f"/accounts/{email}/limits",
            json={"requests_per_minute": 600, "window_seconds": 60},
        )
    assert result.success
    failures = [e for e in result.all_events if e.event_type_value in ("STEP_FAILURE", "STEP_UP_FOR_RETRY")]
    assert failures == []  # the client waited out every 429: no step retry, no failed run
    assert stats["by_status"].get("429", 0) >= 1 and stats["by_status"]["200"] >= 7, stats
    assert warehouse(target) == source(sandbox, target.realm)


def _edit_locally(target, external_id: str, title: str) -> None:
    """A staff member edits the event in firmsync (through the ORM: the change goes to the outbox)."""
    with tenant_session(target.tenant) as session:
        event = session.scalar(
            select(CalendarEvent).where(
                CalendarEvent.id
                == select(text("entity_id"))
                .select_from(text("app.external_refs"))
                .where(text("entity = 'calendar_event' and external_id = :x"))
                .scalar_subquery()
            ),
            {"x": external_id},
        )
        event.title = title


@pytest.mark.parametrize("newer", ["platform", "vendor"])
def test_an_event_edited_on_both_sides_ends_by_the_rule_and_is_recorded(
    target, instance, resources, sandbox, newer
):
    assert _materialize(target, instance, resources).success
    primary = target.realm["calendars"][0]["id"]
    external_id = next(k[1] for k in warehouse(target) if k[0] == primary)

    def in_google():
        _admin(
            sandbox,
            "PATCH",
            f"/calendars/{primary}/events/{external_id}",
            json={"changes": {"summary": "Google's"}},
        )

    first, second = (
        (in_google, lambda: _edit_locally(target, external_id, "Ours"))
        if newer == "platform"
        else (
            lambda: _edit_locally(target, external_id, "Ours"),
            in_google,
        )
    )
    first()
    time.sleep(0.05)
    second()

    result = _materialize(target, instance, resources)
    assert result.success
    assert _metadata(result, APP_CALENDAR_EVENTS)["events_conflicts"] == 1
    winner = "Ours" if newer == "platform" else "Google's"
    assert app_events(target)[external_id][0] == winner
    [(resolution, platform_title, vendor_title)] = _rows(
        target,
        "select resolution, platform_payload->>'title', vendor_payload->>'title' from app.sync_conflicts "
        "where connection_id = :c and entity = 'calendar_event' and external_id = :x",
        x=external_id,
    )
    assert (resolution, platform_title, vendor_title) == (f"{newer}_wins", "Ours", "Google's")
    # Seen once: the next sync records no second conflict and keeps the outcome.
    again = _materialize(target, instance, resources)
    assert _metadata(again, APP_CALENDAR_EVENTS)["events_conflicts"] == 0
    assert app_events(target)[external_id][0] == winner


def test_events_of_an_address_nobody_in_the_firm_has_are_skipped_and_counted(
    database_url, sandbox, instance, resources
):
    target = make_google_target(sandbox, staff=False, events=5)
    instance.add_dynamic_partitions(google_calendar_connections.name, [target.key])
    result = _materialize(target, instance, resources)
    assert result.success
    assert len(warehouse(target)) == 5
    assert _metadata(result, APP_CALENDAR_EVENTS)["events_skipped_unknown_user"] == 5
    assert app_events(target) == {}


def test_the_demo_staff_member_gets_the_sandbox_demo_calendar(
    database_url, sandbox, instance, resources, settings
):
    """`make run`'s demo firm: its staff member demo.staff@firmsync.example is connected to the sandbox's
    demo Google user, and a sync fills their firmsync calendar with its events."""
    from core_api.demo import DEMO_STAFF_EMAIL, seed_demo
    from core_api.tenancy import Role, issue_tenant_context

    firm_id = seed_demo(settings, sandbox_url=sandbox.url)
    assert seed_demo(settings, sandbox_url=sandbox.url) == firm_id  # idempotent
    tenant = issue_tenant_context(firm_id, Role.firm_admin)
    with tenant_session(tenant) as session:
        [(connection_id,)] = session.execute(
            text("select id from app.connections where provider = 'google_calendar'")
        ).all()
    key = str(connection_id)
    instance.add_dynamic_partitions(google_calendar_connections.name, [key])
    result = dg.materialize(google_calendar.assets, partition_key=key, instance=instance, resources=resources)
    assert result.success
    with tenant_session(tenant) as session:
        live = session.execute(
            text(
                "select count(*) from warehouse.google_calendar_events "
                "where connection_id = :c and deleted_at is null"
            ),
            {"c": connection_id},
        ).scalar_one()
        mine = session.execute(
            text(
                "select count(*) from app.calendar_events e join app.users u on u.id = e.staff_user_id "
                # the demo staff member also has a Microsoft 365 calendar: count the Google events
                "join app.external_refs r on r.entity_id = e.id and r.provider = 'google_calendar' "
                "where u.email = :email and e.deleted_at is null"
            ),
            {"email": DEMO_STAFF_EMAIL},
        ).scalar_one()
    assert live > 0 and mine == live
