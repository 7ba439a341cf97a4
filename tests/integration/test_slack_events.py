"""Facts worth telling the firm's Slack, queued in the same transaction as the fact: a new lead, an invoice
paid in full (through the API's allocations or a billing merge's re-settling)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.conftest import set_firm
from tests.integration.test_billing import _allocate, _client, _get, _invoice, _payment, _send

ONE_LINE = [{"description": "Advisory", "quantity": "1", "unit_price": "100.00"}]


def connect_slack(api, headers, notify: dict | None = None) -> str:
    config = {"team_id": "T0EVENTS", "channel": "firmsync-alerts"}
    if notify is not None:
        config["notify"] = notify
    body = {
        "provider": "slack",
        "config": config,
        "credentials": {"signing_secret": "s", "bot_token": "xoxb-1"},
    }
    response = api.post("/api/v1/connections", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def queued(app_connection, firm_id) -> list[tuple[str, str, str]]:
    set_firm(app_connection, firm_id)
    rows = app_connection.execute(
        text(
            "select payload ->> 'event', payload ->> 'text', payload ->> 'connection_id' from app.outbox "
            "where firm_id = :f and entity = 'notification' order by seq"
        ),
        {"f": firm_id},
    ).all()
    set_firm(app_connection, None)
    return [tuple(r) for r in rows]


def test_a_new_lead_is_told_and_a_refused_one_is_not(api, admin_headers, firm_admin, app_connection):
    slack_id = connect_slack(api, admin_headers)
    created = api.post(
        "/api/v1/leads",
        json={"name": "Dana <Scully>", "company_name": "X & Co", "source": "referral"},
        headers=admin_headers,
    )
    assert created.status_code == 201
    refused = api.post("/api/v1/leads", json={"name": ""}, headers=admin_headers)
    assert refused.status_code == 422
    assert queued(app_connection, firm_admin.firm_id) == [
        ("new_lead", "New lead: Dana &lt;Scully&gt; (X &amp; Co), from referral.", slack_id)
    ]


def test_no_slack_or_a_firm_that_turned_leads_off_queues_nothing(
    api, admin_headers, firm_admin, app_connection
):
    assert api.post("/api/v1/leads", json={"name": "Before Slack"}, headers=admin_headers).status_code == 201
    connect_slack(api, admin_headers, notify={"new_lead": False})
    assert api.post("/api/v1/leads", json={"name": "Quiet"}, headers=admin_headers).status_code == 201
    assert queued(app_connection, firm_admin.firm_id) == []


def test_an_invoice_paid_in_full_is_told_once(api, admin_headers, firm_admin, app_connection):
    slack_id = connect_slack(api, admin_headers)
    client_id = _client(api, admin_headers, "Mulder & Sons")
    invoice = _invoice(api, admin_headers, client_id, lines=ONE_LINE)
    _send(api, admin_headers, invoice["id"])
    payment = _payment(api, admin_headers, client_id, amount="100.00")
    _allocate(api, admin_headers, payment["id"], invoice["id"], "40.00")  # partial: not yet
    assert queued(app_connection, firm_admin.firm_id) == []
    _allocate(api, admin_headers, payment["id"], invoice["id"], "60.00")
    assert _get(api, admin_headers, f"/api/v1/invoices/{invoice['id']}")["status"] == "paid"
    ((event, message, target),) = queued(app_connection, firm_admin.firm_id)
    assert (event, target) == ("invoice_paid", slack_id)
    assert invoice["number"] in message and "Mulder &amp; Sons" in message and "100.00" in message


def test_an_old_payment_recorded_late_is_not_news(api, admin_headers, firm_admin, app_connection):
    connect_slack(api, admin_headers)
    client_id = _client(api, admin_headers)
    invoice = _invoice(api, admin_headers, client_id, lines=ONE_LINE)
    _send(api, admin_headers, invoice["id"])
    old = (date.today() - timedelta(days=40)).isoformat()
    payment = _payment(api, admin_headers, client_id, amount="100.00", received_date=old)
    _allocate(api, admin_headers, payment["id"], invoice["id"], "100.00")
    assert _get(api, admin_headers, f"/api/v1/invoices/{invoice['id']}")["status"] == "paid"
    assert queued(app_connection, firm_admin.firm_id) == []


@pytest.mark.parametrize("turned_off", [False, True])
def test_a_billing_merge_that_settles_an_invoice_paid_tells_it(
    api, admin_headers, firm_admin, app_connection, turned_off
):
    """The merges re-settle invoices with one UPDATE (`billing_merge.resettle`): the trigger sees it too."""
    from pipelines.billing_merge import resettle

    connect_slack(api, admin_headers, notify={"invoice_paid": not turned_off})
    client_id = _client(api, admin_headers)
    invoice = _invoice(api, admin_headers, client_id, lines=ONE_LINE)
    _send(api, admin_headers, invoice["id"])
    payment = _payment(api, admin_headers, client_id, amount="100.00")
    set_firm(app_connection, firm_admin.firm_id)
    # As a vendor's payment merge writes it: the allocation row, then a re-settle of what it touched.
    app_connection.execute(
        text(
            "insert into app.payment_allocations (id, firm_id, payment_id, invoice_id, amount) "
            "values (gen_random_uuid(), :f, :p, :i, 100)"
        ),
        {"f": firm_admin.firm_id, "p": payment["id"], "i": invoice["id"]},
    )
    session = Session(bind=app_connection, join_transaction_mode="create_savepoint")
    assert resettle(session, [invoice["id"]], [payment["id"]]) == (1, 1)
    session.commit()  # releases the savepoint; the test's outer transaction still rolls back
    session.close()
    set_firm(app_connection, None)
    events = [e for e, _, _ in queued(app_connection, firm_admin.firm_id)]
    assert events == ([] if turned_off else ["invoice_paid"])


def test_the_firm_changes_its_choices_and_channel_later(api, admin_headers, firm_admin, app_connection):
    slack_id = connect_slack(api, admin_headers)
    set_firm(app_connection, firm_admin.firm_id)  # delivery found the channel gone
    app_connection.execute(
        text(
            "update app.connections set status = 'error', status_detail = 'channel_not_found' where id = :c"
        ),
        {"c": slack_id},
    )
    set_firm(app_connection, None)
    url = f"/api/v1/connections/{slack_id}"
    config = {"team_id": "T0EVENTS", "channel": "#alerts", "notify": {"new_lead": False}}
    changed = api.patch(url, json={"config": config}, headers=admin_headers)
    assert changed.status_code == 200, changed.text
    out = changed.json()
    assert out["config"]["channel"] == "#alerts" and out["config"]["notify"]["new_lead"] is False
    assert out["config"]["notify"]["invoice_paid"] is True and out["status"] == "active"
    assert api.post("/api/v1/leads", json={"name": "Quiet now"}, headers=admin_headers).status_code == 201
    assert queued(app_connection, firm_admin.firm_id) == []
    # Validated like a new connection's; the workspace (the account) cannot change.
    typo = api.patch(url, json={"config": {**config, "notify": {"new_leads": True}}}, headers=admin_headers)
    assert typo.status_code == 422 and typo.json()["errors"][0]["field"] == "config.notify.new_leads"
    moved = api.patch(url, json={"config": {**config, "team_id": "T0OTHER"}}, headers=admin_headers)
    assert moved.status_code == 422 and moved.json()["errors"] == [
        {"field": "config", "message": "names another account than this connection's (T0EVENTS)"}
    ]
