"""Local edits of Outlook events pushed back through Graph with If-Match change keys (the calendar push of
pipelines/calendar_push.py with its Microsoft vendor): the plain case, creation, deletion, and both outcomes
of an edit on both sides (ADR 0011's rule), against the sandbox over TLS and real Postgres."""

from __future__ import annotations

import time

import dagster as dg
import pytest
from sqlalchemy import select, text

from core_api.db import tenant_session
from core_api.models import CalendarEvent
from pipelines.assets.microsoft_calendar import APP_CALENDAR_EVENTS, microsoft_calendar
from pipelines.calendar_push import push_calendar
from pipelines.calendar_push_jobs import CALENDAR_PUSH_JOBS, calendar_push
from pipelines.partitions import microsoft_calendar_connections
from pipelines.resources import FirmsyncDatabase
from tests.pipelines.conftest import make_microsoft_target


@pytest.fixture
def target(database_url, sandbox, instance, resources):
    target = make_microsoft_target(sandbox, events=6)
    instance.add_dynamic_partitions(microsoft_calendar_connections.name, [target.key])
    assert _sync(target, instance, resources).success
    return target


def _sync(target, instance, resources):
    return dg.materialize(
        microsoft_calendar.assets, partition_key=target.key, instance=instance, resources=resources
    )


def _push(target, resources, *, expect_changes: bool = True):
    """One push. The push reads only rows of transactions older than every one still running in the cluster
    (commit-safe order), so a long transaction elsewhere on the shared server can hide a fresh row for a
    moment: ask again until it shows (the behaviour under test is what happens once it is read)."""
    deadline = time.monotonic() + 90
    while True:
        result = push_calendar(FirmsyncDatabase(), resources["microsoft_calendar"], target.connection_id)
        if result.changes or not expect_changes or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def _outlook(sandbox, target) -> dict[str, dict]:
    user = target.realm["user"]["id"]
    return {e["id"]: e for e in sandbox.microsoft_admin("GET", f"/users/{user}/events")["value"]}


def _local(target, external_id: str) -> CalendarEvent:
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
        session.expunge(event)
        return event


def _edit_locally(target, external_id: str, title: str) -> None:
    with tenant_session(target.tenant) as session:
        event = session.scalar(
            select(CalendarEvent).where(CalendarEvent.id == _local(target, external_id).id)
        )
        event.title = title


def _conflicts(target, external_id: str):
    with tenant_session(target.tenant) as session:
        return (
            session.execute(
                text(
                    "select resolution from app.sync_conflicts where connection_id = :c and external_id = :x "
                    "order by created_at"
                ),
                {"c": target.connection_id, "x": external_id},
            )
            .scalars()
            .all()
        )


def test_a_local_edit_reaches_outlook_with_the_change_key_and_does_not_echo(
    target, instance, resources, sandbox
):
    external_id = sorted(_outlook(sandbox, target))[0]
    _edit_locally(target, external_id, "Renamed in firmsync")
    result = _push(target, resources)
    assert (result.changes, result.pushed, result.conflicts) == (1, 1, 0)
    outlook = _outlook(sandbox, target)[external_id]
    assert outlook["subject"] == "Renamed in firmsync"
    assert _local(target, external_id).provider_etags["microsoft_calendar"] == outlook["changeKey"]
    assert _push(target, resources, expect_changes=False).changes == 0  # the cursor moved past it
    merged = dg.materialize(
        microsoft_calendar.assets, partition_key=target.key, instance=instance, resources=resources
    )
    meta = next(e for e in merged.get_asset_materialization_events() if e.asset_key == APP_CALENDAR_EVENTS)
    assert meta.materialization.metadata["events_conflicts"].value == 0
    assert _local(target, external_id).title == "Renamed in firmsync"


def test_a_newer_local_edit_wins_over_a_stale_change_key(target, instance, resources, sandbox):
    external_id = sorted(_outlook(sandbox, target))[1]
    user = target.realm["user"]["id"]
    sandbox.microsoft_admin("PATCH", f"/users/{user}/events/{external_id}", json={"subject": "Outlook's"})
    time.sleep(0.05)
    _edit_locally(target, external_id, "Ours")
    result = _push(target, resources)
    assert (result.pushed, result.conflicts) == (1, 1)
    assert _outlook(sandbox, target)[external_id]["subject"] == "Ours"
    assert _conflicts(target, external_id) == ["platform_wins"]


def test_a_newer_outlook_edit_is_kept_and_the_merge_applies_it(target, instance, resources, sandbox):
    external_id = sorted(_outlook(sandbox, target))[2]
    user = target.realm["user"]["id"]
    _edit_locally(target, external_id, "Ours")
    time.sleep(0.05)
    sandbox.microsoft_admin("PATCH", f"/users/{user}/events/{external_id}", json={"subject": "Outlook's"})
    result = _push(target, resources)
    assert result.conflicts == 1
    assert _outlook(sandbox, target)[external_id]["subject"] == "Outlook's"
    assert _local(target, external_id).title == "Outlook's"  # merged at once, by the push
    assert _sync(target, instance, resources).success
    assert _local(target, external_id).title == "Outlook's"
    assert _conflicts(target, external_id) == ["vendor_wins"]  # recorded once


def test_a_local_deletion_deletes_the_outlook_event(target, instance, resources, sandbox):
    from datetime import UTC, datetime

    external_id = sorted(_outlook(sandbox, target))[4]
    with tenant_session(target.tenant) as session:
        event = session.scalar(
            select(CalendarEvent).where(CalendarEvent.id == _local(target, external_id).id)
        )
        event.deleted_at = datetime.now(UTC)
    assert _push(target, resources).pushed == 1
    assert external_id not in _outlook(sandbox, target)
    assert _sync(
        target, instance, resources
    ).success  # the removal comes back as a tombstone: no resurrection
    assert _local(target, external_id).deleted_at is not None


def test_the_sensor_and_the_job_push_a_connection_with_local_edits(target, instance, resources, sandbox):
    external_id = sorted(_outlook(sandbox, target))[5]

    def mine():
        context = dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()})
        result = calendar_push(context)
        return [r for r in getattr(result, "run_requests", None) or [] if r.partition_key == target.key]

    assert mine() == []  # synced, nothing edited
    _edit_locally(target, external_id, "From the job")
    deadline = time.monotonic() + 90  # see `_push`: a long transaction elsewhere may hide the row a moment
    while not mine() and time.monotonic() < deadline:
        time.sleep(0.2)
    [run] = mine()
    assert run.job_name == "microsoft_calendar_push_calendar"
    job = CALENDAR_PUSH_JOBS["microsoft_calendar"]
    assert job.execute_in_process(partition_key=target.key, instance=instance, resources=resources).success
    assert _outlook(sandbox, target)[external_id]["subject"] == "From the job"
    assert mine() == []  # pushed: the cursor is past the edit


def test_an_event_created_here_is_created_in_outlook_once(target, instance, resources, sandbox):
    from datetime import UTC, datetime, timedelta

    from core_api.models import User

    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    with tenant_session(target.tenant) as session:
        staff = session.scalar(select(User.id).where(User.email == target.realm["user"]["upn"]))
        event = CalendarEvent(
            firm_id=target.tenant.firm_id,
            staff_user_id=staff,
            title="Planned here",
            starts_at=start,
            ends_at=start + timedelta(hours=1),
            timezone="Europe/London",
        )
        session.add(event)
        session.flush()
        event_id = event.id
    assert _push(target, resources).pushed == 1
    created = [e for e in _outlook(sandbox, target).values() if e["subject"] == "Planned here"]
    assert len(created) == 1 and created[0]["transactionId"] == str(event_id)
    assert _local(target, created[0]["id"]).id == event_id  # linked to the event made here
    assert _sync(target, instance, resources).success
    assert [e for e in _outlook(sandbox, target).values() if e["subject"] == "Planned here"] == created
