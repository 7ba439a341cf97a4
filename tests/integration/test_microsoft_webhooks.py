"""Microsoft Graph change notifications into the webhook inbox: the validationToken handshake and clientState,
first through HTTP requests shaped as Graph documents them, then from the sandbox's Graph itself, which
validates and notifies a real server running the app."""

from __future__ import annotations

import threading
import time
import uuid
from urllib.parse import quote

import httpx
import pytest
import uvicorn
from sqlalchemy import text

from connectors.base import PermanentError, RetryPolicy
from connectors.microsoft_calendar import (
    MicrosoftCalendarClient,
    MicrosoftCalendarConfig,
    MicrosoftCalendarCredentials,
)
from tests.conftest import set_firm
from tests.support.processes import free_port

SECRET = "graph-client-state-6f1d9a"


def inbox(conn, firm_id: uuid.UUID) -> list:
    set_firm(conn, firm_id)
    rows = (
        conn.execute(
            text(
                "select provider, connection_id::text as connection_id, event_type, payload "
                "from app.webhook_inbox order by seq"
            )
        )
        .mappings()
        .all()
    )
    set_firm(conn, None)
    return list(rows)


@pytest.fixture
def mailbox(sandbox):
    tenant = sandbox.new_microsoft_tenant(users=[{"events": 3, "seed": 2, "display_name": "Hook Staff"}])
    return tenant, tenant["users"][0]


def connect(api, headers, sandbox, tenant, user) -> str:
    body = sandbox.microsoft_connection_body(tenant, user, webhook_client_state=SECRET)
    response = api.post("/api/v1/connections", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def notification(connection_user: str, client_state: str) -> dict:
    event_id = "AAMkAGI2TG93AAA="
    return {
        "value": [
            {
                "subscriptionId": "7f105c7d-2dc5-4530-97cd-4e7ae6534c07",
                "subscriptionExpirationDateTime": "2026-12-05T11:00:00.0000000Z",
                "changeType": "updated",
                "resource": f"Users/{connection_user}/Events/{event_id}",
                "resourceData": {
                    "@odata.type": "#Microsoft.Graph.Event",
                    "@odata.id": f"Users/{connection_user}/Events/{event_id}",
                    "@odata.etag": 'W/"CQAAABYAAAB1"',
                    "id": event_id,
                },
                "clientState": client_state,
                "tenantId": "b7c1e2f3-4a5d-4e6f-8a9b-0c1d2e3f4a5b",
            }
        ]
    }


def test_the_validation_token_is_echoed_as_text_and_stores_nothing(
    api, admin_headers, firm_admin, app_connection, sandbox, mailbox
):
    connection_id = connect(api, admin_headers, sandbox, *mailbox)
    token = "Validation: Testing client application reachability for subscription Request-Id: 3a1f"
    response = api.post(
        f"/webhooks/microsoft_calendar/{connection_id}?validationToken={quote(token)}",
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    assert response.status_code == 200
    assert response.text == token  # URL-decoded, exactly
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert inbox(app_connection, firm_admin.firm_id) == []
    # A URL that names no connection is not validated.
    missing = api.post(f"/webhooks/microsoft_calendar/{uuid.uuid4()}?validationToken=x")
    assert missing.status_code == 404


def test_notifications_are_stored_only_with_the_connections_client_state(
    api, admin_headers, firm_admin, app_connection, sandbox, mailbox
):
    connection_id = connect(api, admin_headers, sandbox, *mailbox)
    path = f"/webhooks/microsoft_calendar/{connection_id}"
    user = mailbox[1]["id"]

    wrong = api.post(path, json=notification(user, "guessed-state"))
    assert wrong.status_code == 401
    missing = api.post(
        path, json={"value": [{**notification(user, SECRET)["value"][0], "clientState": None}]}
    )
    assert missing.status_code == 401
    mixed = notification(user, SECRET)
    mixed["value"].append({**mixed["value"][0], "clientState": "guessed-state"})
    assert api.post(path, json=mixed).status_code == 401
    assert inbox(app_connection, firm_admin.firm_id) == []

    good = api.post(path, json=notification(user, SECRET))
    assert good.status_code == 202 and good.content == b""
    again = api.post(path, json=notification(user, SECRET))  # Graph redelivers: stored once
    assert again.status_code == 202
    [row] = inbox(app_connection, firm_admin.firm_id)
    assert (row["provider"], row["connection_id"], row["event_type"]) == (
        "microsoft_calendar",
        connection_id,
        "event.updated",
    )
    assert row["payload"]["value"][0]["resourceData"]["id"] == "AAMkAGI2TG93AAA="


@pytest.fixture
def served_api(api):
    """The same app (and rolled-back transaction) on a real port, so the sandbox's Graph can reach it."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(api.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "the app did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(10)


def _wait_for_notification(sandbox, url: str) -> dict:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        sent = [n for n in sandbox.microsoft_admin("GET", "/notifications")["value"] if n["url"] == url]
        if sent:
            return sent[-1]
        time.sleep(0.1)
    raise AssertionError(f"no notification was sent to {url}")


@pytest.mark.parametrize("client_state", [SECRET, "not-the-connections-secret"])
def test_graph_validates_the_subscription_then_its_notifications_reach_the_inbox_only_when_signed(
    api, admin_headers, firm_admin, app_connection, sandbox, mailbox, served_api, client_state
):
    tenant, user = mailbox
    connection_id = connect(api, admin_headers, sandbox, tenant, user)
    url = f"{served_api}/webhooks/microsoft_calendar/{connection_id}"
    config = MicrosoftCalendarConfig.model_validate(sandbox.microsoft_config(tenant, user))
    credentials = MicrosoftCalendarCredentials.model_validate(
        {"client_secret": tenant["client_secret"], "refresh_token": user["refresh_token"]}
    )
    fast = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2)
    with MicrosoftCalendarClient(config, credentials, on_tokens=lambda _: None, retry_policy=fast) as client:
        # Graph answers only after our endpoint echoed its validation token.
        subscription = client.subscribe(url, client_state)
    assert subscription["notificationUrl"] == url and subscription["resource"] == "me/events"

    event_id = sandbox.microsoft_admin("GET", f"/users/{user['id']}/events")["value"][0]["id"]
    sandbox.microsoft_admin("PATCH", f"/users/{user['id']}/events/{event_id}", json={"subject": "Changed"})
    sent = _wait_for_notification(sandbox, url)
    rows = inbox(app_connection, firm_admin.firm_id)
    if client_state == SECRET:
        assert sent["outcome"] == "202"
        [row] = rows
        assert row["payload"]["value"][0]["resourceData"]["id"] == event_id
    else:
        assert sent["outcome"] == "401" and rows == []


def test_graph_refuses_a_subscription_whose_endpoint_does_not_echo(sandbox, mailbox):
    tenant, user = mailbox
    config = MicrosoftCalendarConfig.model_validate(sandbox.microsoft_config(tenant, user))
    credentials = MicrosoftCalendarCredentials.model_validate(
        {"client_secret": tenant["client_secret"], "refresh_token": user["refresh_token"]}
    )
    client = MicrosoftCalendarClient(config, credentials, on_tokens=lambda _: None)
    with client, pytest.raises(PermanentError, match="validation"):
        client.subscribe(f"{sandbox.url}/healthz", "state")
    assert httpx.get(f"{sandbox.url}/healthz").status_code == 200
