"""The Slack connector through slack-sdk against the sandbox's Slack emulator, over HTTP."""

from __future__ import annotations

import time
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from connectors.base import AuthError, PermanentError, RateLimitedError
from connectors.oauth import OAuthApp
from connectors.registry import get_connector
from connectors.sandbox.settings import SandboxSettings
from connectors.slack import oauth
from connectors.slack.client import SlackClient
from connectors.slack.config import SlackConfig, SlackCredentials


def client_for(
    sandbox, workspace: dict, *, channel: str | None = "firmsync-alerts", **options
) -> SlackClient:
    config = SlackConfig(team_id=workspace["team_id"], api_base_url=f"{sandbox.slack}/api", channel=channel)
    credentials = SlackCredentials(
        signing_secret=SecretStr(workspace["signing_secret"]), bot_token=SecretStr(workspace["bot_token"])
    )
    return SlackClient(config, credentials, **options)


@pytest.fixture
def workspace(sandbox) -> dict:
    return sandbox.new_slack_workspace(name="Acme Advisors", channels=["general", "firmsync-alerts"])


def test_notifications_are_posted_and_read_back(sandbox, workspace: dict) -> None:
    client = client_for(sandbox, workspace)
    assert client.auth_test()["team_id"] == workspace["team_id"]
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Sync failed* for QuickBooks"}}]
    posted = client.post_notification("Sync failed for QuickBooks", blocks)
    assert posted["ok"] and posted["ts"]
    messages = sandbox.slack_messages(workspace["team_id"], "firmsync-alerts")
    assert [(m["text"], m["blocks"], m["ts"]) for m in messages] == [
        ("Sync failed for QuickBooks", blocks, posted["ts"])
    ]
    assert sandbox.slack_messages(workspace["team_id"], "general") == []


def test_the_registry_builds_the_slack_client(sandbox, workspace: dict) -> None:
    spec = get_connector("slack")
    config = spec.config_model.model_validate(
        {"team_id": workspace["team_id"], "api_base_url": f"{sandbox.slack}/api", "channel": "general"}
    )
    credentials = spec.credentials_model.model_validate(
        {"signing_secret": workspace["signing_secret"], "bot_token": workspace["bot_token"]}
    )
    client = spec.build_client(config, credentials, on_tokens=lambda tokens: None)
    client.post_notification("hello from the registry")
    assert spec.account_id(config) == workspace["team_id"] and spec.oauth is not None
    assert [m["text"] for m in sandbox.slack_messages(workspace["team_id"], "general")] == [
        "hello from the registry"
    ]


def test_a_429_storm_converges_by_honouring_retry_after(sandbox, workspace: dict) -> None:
    client = client_for(sandbox, workspace)
    started = time.monotonic()
    for n in range(3):  # one message per second per channel: the 2nd and 3rd are answered 429 first
        client.post_notification(f"alert {n}")
    assert time.monotonic() - started >= 1.5  # it waited as told instead of hammering
    texts = [m["text"] for m in sandbox.slack_messages(workspace["team_id"], "firmsync-alerts")]
    assert texts == ["alert 0", "alert 1", "alert 2"]
    assert sandbox.slack_admin("GET", f"/workspaces/{workspace['team_id']}/stats")["throttled"] >= 2
    # with no retries left the 429 surfaces as a typed, retryable error with the vendor's Retry-After
    impatient = client_for(sandbox, workspace, channel="general", max_rate_limit_retries=0)
    impatient.post_notification("first")
    with pytest.raises(RateLimitedError) as caught:
        impatient.post_notification("second")
    assert caught.value.retry_after == 1 and caught.value.retryable


def test_injected_429s_on_other_methods_converge(sandbox, workspace: dict) -> None:
    sandbox.slack_admin(
        "POST", "/faults", json={"kind": "429", "realm": workspace["team_id"], "times": 3, "retry_after": 0}
    )
    assert client_for(sandbox, workspace).auth_test()["ok"]
    assert sandbox.slack_admin("GET", "/faults")["faults"] == []


def test_channels_are_read_page_by_page(sandbox) -> None:
    names = [f"team-{n:02d}" for n in range(7)]
    workspace = sandbox.new_slack_workspace(channels=names)
    sandbox.slack_admin(
        "POST", f"/workspaces/{workspace['team_id']}/channels", json={"name": "gone", "is_archived": True}
    )
    client = client_for(sandbox, workspace)
    channels = list(client.channels(page_size=2))
    assert [c["name"] for c in channels] == names  # four pages, archived left out
    assert client.channel_info(channels[0]["id"])["name"] == "team-00"


def test_revoked_and_invalid_tokens_are_auth_errors(sandbox, workspace: dict) -> None:
    client = client_for(sandbox, workspace)
    client.post_notification("before")
    sandbox.slack_admin("POST", f"/workspaces/{workspace['team_id']}/revoke", json={})
    with pytest.raises(AuthError, match="token_revoked"):
        client.post_notification("after")
    with pytest.raises(AuthError, match="invalid_auth"):
        client_for(sandbox, {**workspace, "bot_token": "xoxb-1-2-unknown"}).auth_test()
    without_token = SlackClient(
        SlackConfig(team_id=workspace["team_id"], api_base_url=f"{sandbox.slack}/api"),
        SlackCredentials(signing_secret=SecretStr("s")),
    )
    with pytest.raises(AuthError):
        without_token.auth_test()


def test_vendor_refusals_are_permanent_errors(sandbox, workspace: dict) -> None:
    client = client_for(sandbox, workspace, channel="no-such-channel")
    with pytest.raises(PermanentError, match="channel_not_found"):
        client.post_notification("lost")
    with pytest.raises(PermanentError, match="no channel configured"):
        client_for(sandbox, workspace, channel=None).post_notification("nowhere")


def test_oauth_install_flow_through_the_sandbox(sandbox) -> None:
    settings = SandboxSettings()
    app = OAuthApp(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        config={
            "authorize_url": f"{sandbox.slack}/oauth/v2/authorize",
            "api_base_url": f"{sandbox.slack}/api",
            "signing_secret": "app-signing-secret",
            "channel": "firmsync-alerts",
        },
    )
    redirect_uri = "https://firmsync.example/api/v1/oauth/slack/callback"
    url = oauth.FLOW.authorization_url(app, redirect_uri, "state-123", None)
    assert "scope=chat%3Awrite%2Cchannels%3Aread%2Cgroups%3Aread%2Ccommands" in url
    consent = httpx.get(url, follow_redirects=False)
    assert consent.status_code == 302
    params = dict(parse_qsl(urlsplit(consent.headers["location"]).query))
    assert params["state"] == "state-123"
    grant = oauth.FLOW.exchange(app, params, redirect_uri, None)
    assert [a.id for a in grant.accounts] == [settings.slack_demo_team_id]
    config, credentials = oauth.FLOW.connection(app, grant.accounts[0], grant.tokens)
    assert config.team_id == settings.slack_demo_team_id and config.channel == "firmsync-alerts"
    assert credentials.signing_secret.get_secret_value() == "app-signing-secret"
    client = SlackClient(config, credentials)
    assert client.auth_test()["team_id"] == settings.slack_demo_team_id
    with pytest.raises(AuthError, match="invalid_code"):  # a code is good once
        oauth.FLOW.exchange(app, params, redirect_uri, None)
    oauth.FLOW.revoke(config, credentials)
    with pytest.raises(AuthError, match="token_revoked"):
        client.auth_test()
