"""The Microsoft 365 calendar assets, materialised for real: msal + requests against the sandbox's TLS port
(trusted through the connection's CA bundle) → warehouse.microsoft_calendar_events → app.calendar_events of
the staff member who owns the connection."""

from __future__ import annotations

import time

import dagster as dg
import pytest
from sqlalchemy import select, text

from core_api.connections.secrets import open_credentials
from core_api.db import tenant_session
from core_api.models import CalendarEvent, Connection
from pipelines.assets.microsoft_calendar import APP_CALENDAR_EVENTS, EVENTS, microsoft_calendar
from pipelines.partitions import microsoft_calendar_connections
from pipelines.resources import MicrosoftCalendarApi
from tests.pipelines.conftest import make_microsoft_target


def test_microsoft_calendar_is_declared_with_an_opaque_cursor_and_its_own_partitions():
    from pipelines.definitions import defs

    assert {"microsoft_calendar_sync_job", "microsoft_calendar_sweep_job"} <= {
        job.name for job in defs.resolve_all_job_defs()
    }
    sync = defs.get_assets_def(EVENTS)
    assert sync.partitions_def == microsoft_calendar_connections and sync.op.pool == "microsoft_calendar"
    merge = defs.get_assets_def(APP_CALENDAR_EVENTS)
    assert set(merge.asset_deps[merge.key]) == {EVENTS}
    assert isinstance(defs.resources["microsoft_calendar"], MicrosoftCalendarApi)


@pytest.fixture
def target(database_url, sandbox, instance):
    target = make_microsoft_target(sandbox, events=24, all_day_share=0.25)
    instance.add_dynamic_partitions(microsoft_calendar_connections.name, [target.key])
    return target


def _materialize(target, instance, resources):
    return dg.materialize(
        [*microsoft_calendar.assets, *microsoft_calendar.checks],
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


def _user(target) -> str:
    return target.realm["user"]["id"]


def source(sandbox, target) -> dict[str, tuple]:
    """Every live event in Outlook, read through the sandbox's admin API (not our connector)."""
    events = sandbox.microsoft_admin("GET", f"/users/{_user(target)}/events")["value"]
    return {e["id"]: (e["subject"], e["changeKey"]) for e in events}


def warehouse(target) -> dict[str, tuple]:
    return {
        row[0]: tuple(row[1:])
        for row in _rows(
            target,
            "select external_id, subject, change_key from warehouse.microsoft_calendar_events "
            "where connection_id = :c and deleted_at is null",
        )
    }


def app_events(target) -> dict[str, tuple]:
    return {
        row[0]: tuple(row[1:])
        for row in _rows(
            target,
            "select r.external_id, e.title, e.starts_at, e.ends_at, e.all_day, u.email "
            "from app.calendar_events e join app.external_refs r on r.entity_id = e.id "
            "join app.users u on u.id = e.staff_user_id "
            "where r.connection_id = :c and r.provider = 'microsoft_calendar' and e.deleted_at is null",
        )
    }


def expected_app_events(target) -> dict[str, tuple]:
    return {
        row[0]: tuple(row[1:])
        for row in _rows(
            target,
            "select external_id, coalesce(nullif(subject, ''), '(no title)'), "
            "case when all_day then start_date::timestamp at time zone time_zone else starts_at end, "
            "case when all_day then end_date::timestamp at time zone time_zone else ends_at end, "
            "all_day, :email "
            "from warehouse.microsoft_calendar_events where connection_id = :c and deleted_at is null",
            email=target.realm["user"]["upn"],
        )
    }


def stored_refresh_token(target) -> str:
    with tenant_session(target.tenant) as session:
        connection = session.get(Connection, target.connection_id)
        return open_credentials(connection)["refresh_token"]


def test_a_full_sync_equals_outlook_and_reaches_the_staff_members_calendar(
    target, instance, resources, sandbox
):
    consent_token = target.realm["user"]["refresh_token"]
    result = _materialize(target, instance, resources)
    assert result.success
    expected = source(sandbox, target)
    assert len(expected) == 24 and warehouse(target) == expected
    assert any(row[4] for row in app_events(target).values())  # all-day events are in the set
    assert _metadata(result, APP_CALENDAR_EVENTS)["events_created"] == 24
    assert app_events(target) == expected_app_events(target)
    checks = {e.asset_check_key.name: e for e in result.get_asset_check_evaluations()}
    assert "cursor_monotonic" in checks and all(e.passed for e in checks.values()), checks
    # msal's refresh rotated the refresh token, and the connection holds the new one.
    assert stored_refresh_token(target) != consent_token


def test_an_incremental_sync_reads_only_the_changes_and_removals_soft_delete(
    target, instance, resources, sandbox
):
    assert _materialize(target, instance, resources).success
    before = warehouse(target)
    edited, removed = sorted(before)[:2]
    user = _user(target)
    sandbox.microsoft_admin("PATCH", f"/users/{user}/events/{edited}", json={"subject": "Moved in Outlook"})
    sandbox.microsoft_admin("DELETE", f"/users/{user}/events/{removed}")
    created = sandbox.microsoft_admin(
        "POST",
        f"/users/{user}/events",
        json={
            "subject": "New review",
            "start": {
                "dateTime": time.strftime("%Y-%m-%dT10:00:00", time.gmtime(time.time() + 86400)),
                "timeZone": "America/New_York",
            },
            "end": {
                "dateTime": time.strftime("%Y-%m-%dT11:00:00", time.gmtime(time.time() + 86400)),
                "timeZone": "America/New_York",
            },
        },
    )

    result = _materialize(target, instance, resources)
    assert result.success
    meta = _metadata(result, EVENTS)
    assert (meta["rows_inserted"], meta["rows_updated"], meta["full_refresh"]) == (1, 2, False)
    assert meta["rows_unchanged"] == 0  # only the three changes were read
    assert warehouse(target) == source(sandbox, target)
    [(subject, deleted_at)] = _rows(
        target,
        "select subject, deleted_at from warehouse.microsoft_calendar_events where connection_id = :c "
        "and external_id = :id",
        id=removed,
    )
    assert subject == before[removed][0] and deleted_at is not None  # last columns kept, marked deleted
    merged = _metadata(result, APP_CALENDAR_EVENTS)
    assert (merged["events_created"], merged["events_updated"], merged["events_deleted"]) == (1, 1, 1)
    events = app_events(target)
    assert events == expected_app_events(target)
    assert events[edited][0] == "Moved in Outlook" and created["id"] in events and removed not in events


def test_an_expired_delta_token_falls_back_to_a_full_refresh_without_a_failed_run(
    target, instance, resources, sandbox
):
    assert _materialize(target, instance, resources).success
    gone = sorted(warehouse(target))[0]
    user = _user(target)
    sandbox.microsoft_admin("POST", f"/users/{user}/reset-sync-state")
    sandbox.microsoft_admin("DELETE", f"/users/{user}/events/{gone}")

    result = _materialize(target, instance, resources)
    assert result.success
    assert [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"] == []
    meta = _metadata(result, EVENTS)
    assert meta["fell_back_to_full_refresh"] is True and meta["rows_marked_deleted"] == 1
    assert warehouse(target) == source(sandbox, target)
    assert gone not in app_events(target) and app_events(target) == expected_app_events(target)
    again = _metadata(_materialize(target, instance, resources), EVENTS)
    assert (again["full_refresh"], again["rows_inserted"], again["rows_updated"]) == (False, 0, 0)


def test_a_429_storm_converges_without_a_failed_run(target, instance, resources, sandbox):
    user = _user(target)
    # Two requests a one-second window, then 429 + Retry-After; pages of 3 make eight delta calls.
    resources = {**resources, "microsoft_calendar": MicrosoftCalendarApi(timeout_seconds=10, page_size=3)}
    sandbox.microsoft_admin("PUT", f"/users/{user}/limits", json={"requests": 2, "window_seconds": 1})
    result = _materialize(target, instance, resources)
    stats = sandbox.microsoft_admin("GET", f"/users/{user}/stats")
    assert result.success
    failures = [e for e in result.all_events if e.event_type_value in ("STEP_FAILURE", "STEP_UP_FOR_RETRY")]
    assert failures == []  # the client waited out every 429
    assert stats["by_status"].get("429", 0) >= 1 and stats["by_status"]["200"] == 8, stats
    assert warehouse(target) == source(sandbox, target)


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
    external_id = sorted(warehouse(target))[0]

    def in_outlook():
        sandbox.microsoft_admin(
            "PATCH", f"/users/{_user(target)}/events/{external_id}", json={"subject": "Outlook's"}
        )

    local = lambda: _edit_locally(target, external_id, "Ours")  # noqa: E731
    first, second = (in_outlook, local) if newer == "platform" else (local, in_outlook)
    first()
    time.sleep(0.05)
    second()

    result = _materialize(target, instance, resources)
    assert result.success
    assert _metadata(result, APP_CALENDAR_EVENTS)["events_conflicts"] == 1
    winner = "Ours" if newer == "platform" else "Outlook's"
    assert app_events(target)[external_id][0] == winner
    [(provider, resolution, platform_title, vendor_title)] = _rows(
        target,
        "select provider, resolution, platform_payload->>'title', vendor_payload->>'title' "
        "from app.sync_conflicts where connection_id = :c and entity = 'calendar_event' and external_id = :x",
        x=external_id,
    )
    assert (provider, resolution, platform_title, vendor_title) == (
        "microsoft_calendar",
        f"{newer}_wins",
        "Ours",
        "Outlook's",
    )
    again = _materialize(target, instance, resources)
    assert _metadata(again, APP_CALENDAR_EVENTS)["events_conflicts"] == 0
    assert app_events(target)[external_id][0] == winner


def test_a_verified_graph_notification_launches_a_sync_of_its_connection(database_url, sandbox, instance):
    """Through the intake's service (clientState checked with the connection's sealed secret) into the inbox,
    then the webhook_inbox sensor asks for the Microsoft sync of that connection."""
    import json

    from connectors.webhooks import WebhookRequest, verifier_for
    from core_api.db import session_factory
    from core_api.settings import get_settings
    from core_api.webhooks import service
    from pipelines.resources import FirmsyncDatabase
    from pipelines.sensors import webhook_inbox
    from tests.pipelines.conftest import add_connection, new_firm

    spec = sandbox.new_microsoft_tenant(users=[{}])
    tenant = new_firm()
    body = sandbox.microsoft_connection_body(spec, spec["users"][0], webhook_client_state="hook-state")
    connection_id = add_connection(tenant, body)
    notification = {
        "value": [{"changeType": "created", "clientState": "hook-state", "resourceData": {"id": "x"}}]
    }
    request = WebhookRequest(
        url=f"https://firmsync.example/webhooks/microsoft_calendar/{connection_id}",
        headers={"Content-Type": "application/json"},
        body=json.dumps(notification).encode(),
    )
    outcome = service.receive(
        session_factory(),
        get_settings(),
        verifier_for("microsoft_calendar"),
        request,
        connection_id=connection_id,
    )
    assert outcome.receipt is not None and outcome.receipt.status == "stored"
    result = webhook_inbox(dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()}))
    [run] = [r for r in result.run_requests if r.partition_key == str(connection_id)]
    assert run.job_name == "microsoft_calendar_sync_job" and run.tags["firmsync/trigger"] == "webhook"


def test_the_demo_staff_member_gets_the_sandbox_demo_outlook_calendar_over_https(
    database_url, sandbox, instance, resources, settings
):
    """`make run`'s demo firm: demo.staff@firmsync.example is connected to the sandbox's demo Microsoft user
    over the TLS port, trusting the sandbox CA from settings; a sync fills their calendar with its events."""
    from core_api.demo import DEMO_STAFF_EMAIL, seed_demo
    from core_api.tenancy import Role, issue_tenant_context

    tls = settings.model_copy(
        update={"sandbox_tls_url": sandbox.https_url, "sandbox_ca_bundle": sandbox.ca_bundle}
    )
    firm_id = seed_demo(tls, sandbox_url=sandbox.url)
    assert seed_demo(tls, sandbox_url=sandbox.url) == firm_id  # idempotent
    tenant = issue_tenant_context(firm_id, Role.firm_admin)
    with tenant_session(tenant) as session:
        [(connection_id, config)] = session.execute(
            text("select id, config from app.connections where provider = 'microsoft_calendar'")
        ).all()
    assert config["graph_url"].startswith("https://") and config["ca_bundle"] == sandbox.ca_bundle
    key = str(connection_id)
    instance.add_dynamic_partitions(microsoft_calendar_connections.name, [key])
    result = dg.materialize(
        microsoft_calendar.assets, partition_key=key, instance=instance, resources=resources
    )
    assert result.success
    with tenant_session(tenant) as session:
        live = session.execute(
            text(
                "select count(*) from warehouse.microsoft_calendar_events "
                "where connection_id = :c and deleted_at is null"
            ),
            {"c": connection_id},
        ).scalar_one()
        mine = session.execute(
            text(
                "select count(*) from app.calendar_events e join app.users u on u.id = e.staff_user_id "
                "join app.external_refs r on r.entity_id = e.id and r.provider = 'microsoft_calendar' "
                "where u.email = :email and e.deleted_at is null"
            ),
            {"email": DEMO_STAFF_EMAIL},
        ).scalar_one()
    assert live > 0 and mine == live
