"""`/firmsync` slash commands: signed like Slack signs them (HMAC-SHA256 of `v0:{ts}:{body}` with the signing
secret), through the API; and end to end, sent by the sandbox's Slack emulator to the API served over HTTP."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import uvicorn
from pydantic import SecretStr
from sqlalchemy import text

from connectors.oauth import OAuthApp
from core_api.settings import get_settings
from tests.conftest import set_firm
from tests.factories import create_firm_user
from tests.integration.conftest import login
from tests.support.processes import free_port

URL = "/api/v1/integrations/slack/commands"
APP_SECRET = "the-platform-slack-app-signing-secret"


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }


def command(team_id: str, text_: str = "status") -> bytes:
    return urlencode(
        {
            "token": "deprecated",
            "team_id": team_id,
            "team_domain": "acme",
            "channel_id": "C0123",
            "user_id": "U0123",
            "user_name": "pat",
            "command": "/firmsync",
            "text": text_,
            "api_app_id": "A0FIRMSYNC1",
            "response_url": "https://hooks.slack.com/commands/T/1/x",
            "trigger_id": "1.2.3",
        }
    ).encode()


def connect(api, headers, provider: str, config: dict, credentials: dict, name: str) -> str:
    body = {"provider": provider, "display_name": name, "config": config, "credentials": credentials}
    response = api.post("/api/v1/connections", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


def slack(api, headers, team: str, secret: str) -> str:
    config = {"team_id": team, "channel": "firmsync-alerts"}
    return connect(api, headers, "slack", config, {"signing_secret": secret, "bot_token": "xoxb-1"}, "Slack")


def stripe(api, headers, account: str, name: str) -> str:
    config = {"account_id": account}
    return connect(
        api, headers, "stripe", config, {"api_key": "sk_test_x", "webhook_signing_secret": "whsec_x"}, name
    )


@pytest.fixture
def two_firms(api, app_connection):
    """Alpha (workspace T0ALPHA, a failing Stripe connection) and Beta (T0BETA, its own Stripe)."""
    alpha, beta = (create_firm_user(app_connection, name=n) for n in ("Alpha LLP", "Beta LLP"))
    a, b = login(api, alpha), login(api, beta)
    slack(api, a, "T0ALPHA", "alpha-secret")
    failing = stripe(api, a, "acct_alpha", "Alpha Stripe")
    slack(api, b, "T0BETA", "beta-secret")
    stripe(api, b, "acct_beta", "Beta Stripe Secret Name")
    set_firm(app_connection, alpha.firm_id)
    app_connection.execute(
        text(
            "update app.connections set last_sync_status = 'failed', last_sync_at = now(), "
            "last_sync_error = 'HTTP 401 from Stripe' where id = :c"
        ),
        {"c": failing},
    )
    set_firm(app_connection, None)
    return alpha, beta


def _section_texts(answer: dict) -> str:
    return "\n".join(b["text"]["text"] for b in answer["blocks"] if b["type"] == "section")


def test_status_lists_only_the_signing_workspaces_firm(api, two_firms):
    body = command("T0ALPHA")
    response = api.post(URL, content=body, headers=sign("alpha-secret", body))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["response_type"] == "ephemeral"
    shown = _section_texts(answer)
    assert "Alpha Stripe" in shown and "HTTP 401 from Stripe" in shown and "`failing`" in shown
    assert "Beta" not in response.text  # no tenant leak
    assert "need attention" in shown


def test_a_tampered_body_or_a_stale_timestamp_is_refused(api, two_firms):
    body = command("T0ALPHA")
    tampered = body.replace(b"text=status", b"text=status+")
    refused = api.post(URL, content=tampered, headers=sign("alpha-secret", body))
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["status"] == 401 and "Alpha" not in refused.text
    stale = int((datetime.now(UTC) - timedelta(minutes=6)).timestamp())
    old = api.post(URL, content=body, headers=sign("alpha-secret", body, timestamp=stale))
    assert old.status_code == 401
    # Another workspace's secret does not open this workspace's firm.
    wrong = api.post(URL, content=body, headers=sign("beta-secret", body))
    assert wrong.status_code == 401
    unsigned = api.post(URL, content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status_code == 401


def test_the_replay_window_comes_from_settings(api, two_firms, settings):
    api.app.dependency_overrides[get_settings] = lambda: settings.model_copy(
        update={"webhook_timestamp_tolerance_seconds": 30}
    )
    body = command("T0ALPHA")
    minute_old = int(time.time()) - 60
    assert api.post(URL, content=body, headers=sign("alpha-secret", body, minute_old)).status_code == 401
    assert api.post(URL, content=body, headers=sign("alpha-secret", body)).status_code == 200


def test_unknown_subcommands_get_help(api, two_firms):
    for words in ("", "help", "deploy everything"):
        body = command("T0ALPHA", words)
        answer = api.post(URL, content=body, headers=sign("alpha-secret", body)).json()
        assert answer["response_type"] == "ephemeral" and "/firmsync status" in answer["text"]
        assert "Alpha Stripe" not in answer["text"]
    assert "Unknown command `deploy`" in answer["text"]


def test_an_unknown_workspace_signed_by_the_app_gets_a_polite_answer(api, two_firms, settings):
    app = OAuthApp(
        client_id="1111.2222",
        client_secret=SecretStr("client-secret"),
        config={"signing_secret": APP_SECRET, "api_base_url": "https://slack.com/api"},
    )
    api.app.dependency_overrides[get_settings] = lambda: settings.model_copy(
        update={"oauth_apps": {"slack": app}}
    )
    body = command("T0NOBODY")
    answer = api.post(URL, content=body, headers=sign(APP_SECRET, body))
    assert answer.status_code == 200
    assert answer.json() == {"response_type": "ephemeral", "text": answer.json()["text"]}
    assert "not connected" in answer.json()["text"]
    # Signed by the app, a connected workspace is answered with its own firm's status.
    known = command("T0BETA")
    shown = api.post(URL, content=known, headers=sign(APP_SECRET, known)).json()
    assert "Beta Stripe Secret Name" in _section_texts(shown) and "Alpha" not in str(shown)
    # Without any secret that verifies, an unknown workspace learns nothing either.
    assert api.post(URL, content=body, headers=sign("guess", body)).status_code == 401


# ---- end to end: the sandbox's Slack emulator sends a signed command to the API over HTTP


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # a thread cannot take signals
        pass


@pytest.fixture
def served_api(database_url, settings):
    from core_api.app import create_app

    port = free_port()
    server = _Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning", ws="none")
    )
    thread = threading.Thread(target=server.run, name=f"api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the API did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=15)


def test_the_sandbox_sends_a_signed_command_and_sees_the_firms_status(sandbox, served_api):
    from tests.pipelines.conftest import add_connection, new_firm

    workspace = sandbox.new_slack_workspace(name="E2E Advisors", channels=["general"])
    team = workspace["team_id"]
    tenant = new_firm()
    add_connection(
        tenant,
        {
            "provider": "slack",
            "config": {"team_id": team, "api_base_url": f"{sandbox.slack}/api", "channel": "general"},
            "credentials": {
                "signing_secret": workspace["signing_secret"],
                "bot_token": workspace["bot_token"],
            },
        },
    )
    name = f"Stripe {uuid.uuid4().hex[:6]}"
    add_connection(
        tenant,
        {
            "provider": "stripe",
            "display_name": name,
            "config": {"account_id": f"acct_{uuid.uuid4().hex[:12]}"},
            "credentials": {"api_key": "sk_test_x", "webhook_signing_secret": "whsec_x"},
        },
    )
    other = new_firm()  # another firm, another workspace: never shown
    add_connection(
        other,
        {
            "provider": "stripe",
            "display_name": "Other firm's Stripe",
            "config": {"account_id": f"acct_{uuid.uuid4().hex[:12]}"},
            "credentials": {"api_key": "sk_test_y", "webhook_signing_secret": "whsec_y"},
        },
    )
    url = f"{served_api}{URL}"
    sent = sandbox.slack_admin(
        "POST", f"/workspaces/{team}/slash_commands", json={"url": url, "text": "status"}
    )
    assert sent["status"] == 200 and sent.get("error") is None
    answer = sent["response"]
    assert answer["response_type"] == "ephemeral"
    assert name in _section_texts(answer) and "Other firm" not in sent["response_text"]

    tampered = sandbox.slack_admin(
        "POST", f"/workspaces/{team}/slash_commands", json={"url": url, "text": "status", "tamper": True}
    )
    assert tampered["status"] == 401 and name not in tampered["response_text"]
    stale = sandbox.slack_admin(
        "POST",
        f"/workspaces/{team}/slash_commands",
        json={"url": url, "text": "status", "timestamp": int(time.time()) - 3600},
    )
    assert stale["status"] == 401
