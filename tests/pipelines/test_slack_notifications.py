"""Slack notifications end to end: queued in the fact's transaction, delivered by the `slack_notify` job
through slack-sdk to the sandbox's Slack emulator, read back through its admin API."""

from __future__ import annotations

import time
import uuid

import dagster as dg
import pytest
from sqlalchemy import text

from core_api.db import tenant_session
from core_api.errors import ProblemError
from core_api.notifications import NEW_LEAD, queue_notification
from pipelines.notifications import notify_failure
from pipelines.partitions import slack_connections
from pipelines.resources import FirmsyncDatabase, SlackApi
from pipelines.slack_delivery import STREAM, system_pending_notifications
from pipelines.slack_jobs import slack_notifications, slack_notify_job
from pipelines.sync_status import mark_connection
from tests.pipelines.conftest import add_connection, make_target

CHANNEL = "firmsync-alerts"


def add_slack(
    sandbox, tenant, *, channel: str = CHANNEL, notify: dict | None = None
) -> tuple[dict, uuid.UUID]:
    workspace = sandbox.new_slack_workspace(name="Notify LLP", channels=["general", CHANNEL])
    config = {"team_id": workspace["team_id"], "api_base_url": f"{sandbox.slack}/api", "channel": channel}
    if notify is not None:
        config["notify"] = notify
    connection_id = add_connection(
        tenant,
        {
            "provider": "slack",
            "display_name": "Slack",
            "config": config,
            "credentials": {
                "signing_secret": workspace["signing_secret"],
                "bot_token": workspace["bot_token"],
            },
        },
    )
    return workspace, connection_id


def committed_in_order(slack_id: uuid.UUID, timeout: float = 60.0) -> None:
    """Wait until no transaction older than the rows for this connection is still running anywhere on the
    server (other sessions share it): delivery reads rows only then, as the push engine does."""
    deadline = time.monotonic() + timeout
    while True:
        with FirmsyncDatabase().system() as session:
            younger = session.scalar(
                text(
                    "select count(*) from app.outbox where entity = 'notification' "
                    "and payload ->> 'connection_id' = :c and xid >= pg_snapshot_xmin(pg_current_snapshot())"
                ),
                {"c": str(slack_id)},
            )
        if not younger:
            return
        assert time.monotonic() < deadline, "an older transaction stayed open"
        time.sleep(0.2)


def deliver(instance, slack_id: uuid.UUID, **options) -> dg.ExecuteInProcessResult:
    committed_in_order(slack_id)
    instance.add_dynamic_partitions(slack_connections.name, [str(slack_id)])
    return slack_notify_job.execute_in_process(
        instance=instance,
        partition_key=str(slack_id),
        resources={"db": FirmsyncDatabase(), "slack": SlackApi(timeout_seconds=10, **options)},
        raise_on_error=False,
    )


def texts(sandbox, workspace: dict, channel: str = CHANNEL) -> list[str]:
    return [m["text"] for m in sandbox.slack_messages(workspace["team_id"], channel)]


def sql(tenant, statement: str, **params):
    with tenant_session(tenant) as session:
        return session.execute(text(statement), params).all()


def notifications(tenant) -> list:
    return sql(
        tenant,
        "select payload ->> 'event' as event, payload ->> 'text' as text, status from app.outbox "
        "where firm_id = :f and entity = 'notification' order by xid::text::bigint, seq",
        f=tenant.firm_id,
    )


@pytest.fixture
def firm(database_url, sandbox):
    """A firm with a QuickBooks connection (the one that fails and recovers) and a Slack workspace."""
    target = make_target(sandbox, customers=1)
    workspace, slack_id = add_slack(sandbox, target.tenant)
    return target, workspace, slack_id


def test_a_failed_sync_ends_as_one_message_in_the_channel(firm, sandbox, instance):
    target, workspace, slack_id = firm
    db = FirmsyncDatabase()
    queued = notify_failure(
        db,
        partition_key=target.key,
        request_id=None,
        job_name="quickbooks_sync_job",
        run_id="feedc0de" * 4,
        message="AuthError: invalid_grant",
    )
    assert queued is True
    # The sensor asks for one run for this Slack connection, keyed by its newest notification.
    committed_in_order(slack_id)
    context = dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()})
    result = slack_notifications(context)
    mine = [r for r in result.run_requests if r.partition_key == str(slack_id)]
    assert len(mine) == 1 and mine[0].job_name == "slack_notify"

    run = deliver(instance, slack_id)
    assert run.success
    assert run.output_for_node("slack_deliver")["delivered"] == 1
    (message,) = texts(sandbox, workspace)
    assert "failed" in message and "invalid_grant" in message and "feedc0de" in message
    assert [n.status for n in notifications(target.tenant)] == ["processed"]
    # Exactly once: nothing is left past the cursor, a second run posts nothing, the sensor is quiet.
    assert deliver(instance, slack_id).output_for_node("slack_deliver")["delivered"] == 0
    assert len(texts(sandbox, workspace)) == 1
    with FirmsyncDatabase().system() as session:
        assert slack_id not in {c for c, _ in system_pending_notifications(session)}


def test_a_burst_to_one_channel_arrives_in_order_without_a_failed_run(firm, sandbox, instance):
    target, workspace, slack_id = firm
    stats = f"/workspaces/{workspace['team_id']}/stats"
    with tenant_session(target.tenant) as session:  # five facts in one transaction
        for n in range(5):
            queue_notification(session, target.tenant.firm_id, NEW_LEAD, uuid.uuid4(), f"burst {n}")
    for n in range(5, 8):  # and three more, each its own transaction
        with tenant_session(target.tenant) as session:
            queue_notification(session, target.tenant.firm_id, NEW_LEAD, uuid.uuid4(), f"burst {n}")
    # Paced (the default): a message a second, never refused by Slack's per-channel limit.
    run = deliver(instance, slack_id)
    assert run.success and run.output_for_node("slack_deliver")["delivered"] == 8
    assert texts(sandbox, workspace) == [f"burst {n}" for n in range(8)]
    assert sandbox.slack_admin("GET", stats)["throttled"] == 0
    # Unpaced, Slack answers 429 + Retry-After: slack-sdk sleeps them out, and the order holds.
    with tenant_session(target.tenant) as session:
        for n in range(4):
            queue_notification(session, target.tenant.firm_id, NEW_LEAD, uuid.uuid4(), f"unpaced {n}")
    run = deliver(instance, slack_id, post_interval_seconds=0.0)
    assert run.success and run.output_for_node("slack_deliver")["delivered"] == 4
    assert texts(sandbox, workspace)[8:] == [f"unpaced {n}" for n in range(4)]
    assert sandbox.slack_admin("GET", stats)["throttled"] >= 1


def test_a_revoked_token_dead_letters_marks_the_connection_and_stops_for_good(firm, sandbox, instance):
    target, workspace, slack_id = firm
    sandbox.slack_admin("POST", f"/workspaces/{workspace['team_id']}/revoke", json={})
    with tenant_session(target.tenant) as session:
        for n in range(2):
            queue_notification(session, target.tenant.firm_id, NEW_LEAD, uuid.uuid4(), f"lost {n}")
    run = deliver(instance, slack_id)
    assert not run.success
    failures = [e for e in run.all_events if e.event_type == dg.DagsterEventType.STEP_FAILURE]
    assert len(failures) == 1  # a Failure without retries: no endless retry
    assert "token_revoked" in failures[0].step_failure_data.user_failure_data.description
    (letter,) = sql(
        target.tenant,
        "select stream, error, payload ->> 'text' as text from app.dead_letters where connection_id = :c",
        c=slack_id,
    )
    assert letter.stream == "notify:slack" and "token_revoked" in letter.error and letter.text == "lost 0"
    (connection,) = sql(
        target.tenant, "select status, last_sync_error from app.connections where id = :c", c=slack_id
    )
    assert connection.status == "needs_reauth" and "token_revoked" in connection.last_sync_error
    assert [n.status for n in notifications(target.tenant)] == ["dead", "pending"]
    # The sensor launches nothing more for it; later facts are not even queued until Slack is reconnected.
    with FirmsyncDatabase().system() as session:
        assert slack_id not in {c for c, _ in system_pending_notifications(session)}
    with tenant_session(target.tenant) as session:
        assert queue_notification(session, target.tenant.firm_id, NEW_LEAD, uuid.uuid4(), "later") == 0
    assert texts(sandbox, workspace) == []


def test_a_missing_channel_dead_letters_and_marks_the_connection(database_url, sandbox, instance):
    target = make_target(sandbox, customers=1)
    _, slack_id = add_slack(sandbox, target.tenant, channel="no-such-channel")
    with tenant_session(target.tenant) as session:
        queue_notification(session, target.tenant.firm_id, NEW_LEAD, uuid.uuid4(), "nowhere")
    run = deliver(instance, slack_id)
    assert not run.success
    (letter,) = sql(target.tenant, "select error from app.dead_letters where connection_id = :c", c=slack_id)
    assert "channel_not_found" in letter.error
    (connection,) = sql(
        target.tenant, "select status, status_detail from app.connections where id = :c", c=slack_id
    )
    assert connection.status == "error" and "channel_not_found" in connection.status_detail


def test_the_first_success_after_a_failure_says_the_connection_recovered(firm, sandbox, instance):
    target, workspace, slack_id = firm
    db = FirmsyncDatabase()
    assert (
        mark_connection(db, target.tenant, target.connection_id, outcome="succeeded", records=3).notified == 0
    )
    mark_connection(db, target.tenant, target.connection_id, outcome="failed", error="HTTP 503")
    marked = mark_connection(db, target.tenant, target.connection_id, outcome="succeeded", records=12)
    assert marked.previous == "failed" and marked.notified == 1
    assert mark_connection(db, target.tenant, target.connection_id, outcome="succeeded").notified == 0
    assert [n.event for n in notifications(target.tenant)] == ["sync_recovered"]
    assert deliver(instance, slack_id).success
    (message,) = texts(sandbox, workspace)
    assert "syncing again" in message and "12 records" in message


def test_each_firm_chooses_what_its_channel_hears(database_url, sandbox):
    target = make_target(sandbox, customers=1)
    add_slack(sandbox, target.tenant, notify={"sync_failed": False, "new_lead": False})
    db = FirmsyncDatabase()
    assert not notify_failure(
        db, partition_key=target.key, request_id=None, job_name="j", run_id="r" * 8, message="boom"
    )
    mark_connection(db, target.tenant, target.connection_id, outcome="succeeded")  # recovered: still on
    with tenant_session(target.tenant) as session:
        assert queue_notification(session, target.tenant.firm_id, NEW_LEAD, uuid.uuid4(), "quiet") == 0
    assert [n.event for n in notifications(target.tenant)] == ["sync_recovered"]
    # The choice is validated with the connection's config: a misspelt event is refused.
    with pytest.raises(ProblemError) as refused:
        add_slack(sandbox, target.tenant, notify={"invoice_payed": True})
    assert refused.value.status == 422
    assert [e["field"] for e in refused.value.errors] == ["config.notify.invoice_payed"]


def test_the_cursor_is_kept_per_slack_connection(firm, sandbox, instance):
    target, _, slack_id = firm
    with tenant_session(target.tenant) as session:
        queue_notification(session, target.tenant.firm_id, NEW_LEAD, uuid.uuid4(), "one")
    assert deliver(instance, slack_id).success
    ((cursor,),) = sql(
        target.tenant,
        "select cursor from app.sync_state where connection_id = :c and stream = :s",
        c=slack_id,
        s=STREAM,
    )
    (row,) = sql(
        target.tenant,
        "select xid::text || ':' || seq as position from app.outbox "
        "where firm_id = :f and entity = 'notification'",
        f=target.tenant.firm_id,
    )
    assert cursor == row.position


def test_the_demo_firm_posts_to_the_sandboxs_demo_workspace(database_url, settings, sandbox, instance):
    """`make run`'s demo firm has a Slack connection to the sandbox's demo workspace, #firmsync-alerts."""
    from core_api.demo import DEMO_SLACK_CHANNEL, DEMO_SLACK_TEAM, seed_demo
    from core_api.tenancy import Role, issue_tenant_context

    firm_id = seed_demo(settings, sandbox_url=sandbox.url)
    assert seed_demo(settings, sandbox_url=sandbox.url) == firm_id  # idempotent: still one Slack connection
    tenant = issue_tenant_context(firm_id, Role.firm_admin)
    ((slack_id, status, channel),) = sql(
        tenant, "select id, status, config ->> 'channel' from app.connections where provider = 'slack'"
    )
    assert status == "active" and channel == DEMO_SLACK_CHANNEL
    news = f"demo lead {uuid.uuid4().hex[:8]}"
    with tenant_session(tenant) as session:
        assert queue_notification(session, firm_id, NEW_LEAD, uuid.uuid4(), news) == 1
    assert deliver(instance, slack_id).success
    assert news in [m["text"] for m in sandbox.slack_messages(DEMO_SLACK_TEAM, DEMO_SLACK_CHANNEL)]
