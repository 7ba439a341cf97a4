"""The Slack emulator's Web API, in-process: auth errors, pagination, tiers and per-channel 429s, OAuth v2."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from connectors.sandbox.settings import SandboxSettings

API = "/slack/api"
ADMIN = "/slack/_sandbox"


@pytest.fixture
def workspace(sandbox: TestClient) -> dict:
    response = sandbox.post(f"{ADMIN}/workspaces", json={"name": "Acme Advisors", "channels": ["general"]})
    assert response.status_code == 201, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_auth_errors_are_http_200_with_ok_false(sandbox: TestClient, workspace: dict) -> None:
    missing = sandbox.post(f"{API}/auth.test")
    assert (missing.status_code, missing.json()) == (200, {"ok": False, "error": "not_authed"})
    wrong = sandbox.post(f"{API}/auth.test", headers=bearer("xoxb-1-2-nope"))
    assert (wrong.status_code, wrong.json()) == (200, {"ok": False, "error": "invalid_auth"})
    good = sandbox.post(f"{API}/auth.test", headers=bearer(workspace["bot_token"])).json()
    assert (
        good["ok"] and good["team_id"] == workspace["team_id"] and good["user_id"] == workspace["bot_user_id"]
    )
    # the token may also come as a form argument, as Slack accepts
    assert sandbox.post(f"{API}/auth.test", data={"token": workspace["bot_token"]}).json()["ok"]
    sandbox.post(f"{ADMIN}/workspaces/{workspace['team_id']}/revoke", json={})
    revoked = sandbox.post(f"{API}/auth.test", headers=bearer(workspace["bot_token"])).json()
    assert revoked == {"ok": False, "error": "token_revoked"}


def test_conversations_list_pages_with_next_cursor(sandbox: TestClient, workspace: dict) -> None:
    team = workspace["team_id"]
    for n in range(6):
        sandbox.post(f"{ADMIN}/workspaces/{team}/channels", json={"name": f"project-{n}"})
    sandbox.post(f"{ADMIN}/workspaces/{team}/channels", json={"name": "secret", "is_private": True})
    sandbox.post(f"{ADMIN}/workspaces/{team}/channels", json={"name": "old", "is_archived": True})
    names, cursor, pages = [], "", 0
    while True:
        body = sandbox.get(
            f"{API}/conversations.list",
            params={"limit": 3, "cursor": cursor, "exclude_archived": "true"},
            headers=bearer(workspace["bot_token"]),
        ).json()
        assert body["ok"] and len(body["channels"]) <= 3
        names += [c["name"] for c in body["channels"]]
        pages += 1
        cursor = body["response_metadata"]["next_cursor"]
        if not cursor:
            break
    # public only by default (types=public_channel), archived left out, each channel once
    assert names == ["general", *[f"project-{n}" for n in range(6)]] and pages == 3
    private = sandbox.get(
        f"{API}/conversations.list",
        params={"types": "private_channel"},
        headers=bearer(workspace["bot_token"]),
    ).json()
    assert [c["name"] for c in private["channels"]] == ["secret"] and private["channels"][0]["is_private"]
    for params, error in (({"limit": 1001}, "invalid_limit"), ({"cursor": "bm9wZQ=="}, "invalid_cursor")):
        answer = sandbox.get(
            f"{API}/conversations.list", params=params, headers=bearer(workspace["bot_token"])
        )
        assert answer.json() == {"ok": False, "error": error}


def test_post_message_is_limited_per_channel_with_retry_after(
    sandbox: TestClient, workspace: dict, clock
) -> None:
    team, token = workspace["team_id"], workspace["bot_token"]
    sandbox.post(f"{ADMIN}/workspaces/{team}/channels", json={"name": "alerts"})
    first = sandbox.post(
        f"{API}/chat.postMessage", json={"channel": "general", "text": "one"}, headers=bearer(token)
    )
    assert first.status_code == 200 and first.json()["ok"]
    second = sandbox.post(
        f"{API}/chat.postMessage", json={"channel": "general", "text": "two"}, headers=bearer(token)
    )
    assert second.status_code == 429 and second.headers["Retry-After"] == "1"
    assert second.json() == {"ok": False, "error": "ratelimited"}
    # another channel has its own allowance
    other = sandbox.post(
        f"{API}/chat.postMessage", json={"channel": "alerts", "text": "x"}, headers=bearer(token)
    )
    assert other.status_code == 200
    clock.advance(1.01)
    again = sandbox.post(
        f"{API}/chat.postMessage", json={"channel": "general", "text": "two"}, headers=bearer(token)
    )
    assert again.status_code == 200
    messages = sandbox.get(f"{ADMIN}/workspaces/{team}/channels/general/messages").json()["messages"]
    assert [m["text"] for m in messages] == ["one", "two"]
    assert sandbox.get(f"{ADMIN}/workspaces/{team}/stats").json()["throttled"] == 1


def test_tier_two_methods_answer_429_after_twenty_a_minute(
    sandbox: TestClient, workspace: dict, clock
) -> None:
    token = workspace["bot_token"]
    answers = [sandbox.get(f"{API}/conversations.list", headers=bearer(token)).status_code for _ in range(21)]
    assert answers == [200] * 20 + [429]
    assert (
        sandbox.get(
            f"{API}/conversations.info",
            params={"channel": workspace["channels"][0]["id"]},
            headers=bearer(token),
        ).status_code
        == 200
    )  # tier 3: a separate allowance
    clock.advance(60)
    assert sandbox.get(f"{API}/conversations.list", headers=bearer(token)).status_code == 200


def test_post_message_errors(sandbox: TestClient, workspace: dict) -> None:
    team, token = workspace["team_id"], workspace["bot_token"]
    sandbox.post(f"{ADMIN}/workspaces/{team}/channels", json={"name": "outside", "is_member": False})

    def post(body: dict) -> dict:
        return sandbox.post(f"{API}/chat.postMessage", json=body, headers=bearer(token)).json()

    assert post({"channel": "nowhere", "text": "x"})["error"] == "channel_not_found"
    assert post({"channel": "outside", "text": "x"})["error"] == "not_in_channel"
    assert post({"channel": "general"})["error"] == "no_text"
    # form-encoded blocks arrive as a JSON string
    blocks = '[{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]'
    posted = sandbox.post(
        f"{API}/chat.postMessage", data={"channel": "general", "blocks": blocks}, headers=bearer(token)
    ).json()
    assert posted["ok"] and posted["message"]["blocks"][0]["text"]["text"] == "*hi*"


def test_oauth_v2_install_gives_a_bot_token_once(
    sandbox: TestClient, sandbox_settings: SandboxSettings
) -> None:
    s = sandbox_settings
    consent = sandbox.get(
        "/slack/oauth/v2/authorize",
        params={
            "client_id": s.slack_client_id,
            "scope": "chat:write,channels:read",
            "redirect_uri": "https://app.example/cb",
            "state": "st4te",
        },
        follow_redirects=False,
    )
    assert consent.status_code == 302
    query = parse_qs(urlsplit(consent.headers["location"]).query)
    assert query["state"] == ["st4te"]
    code = query["code"][0]
    secret = s.slack_client_secret.get_secret_value()
    wrong = sandbox.post(
        f"{API}/oauth.v2.access",
        data={"code": code, "redirect_uri": "https://app.example/cb"},
        auth=(s.slack_client_id, "wrong"),
    ).json()
    assert wrong == {"ok": False, "error": "bad_client_secret"}
    grant = sandbox.post(
        f"{API}/oauth.v2.access",
        data={"code": code, "redirect_uri": "https://app.example/cb"},
        auth=(s.slack_client_id, secret),
    ).json()
    assert grant["ok"] and grant["token_type"] == "bot" and grant["access_token"].startswith("xoxb-")
    assert grant["scope"] == "chat:write,channels:read"
    assert grant["team"] == {"name": s.slack_demo_team_name, "id": s.slack_demo_team_id}
    assert sandbox.post(f"{API}/auth.test", headers=bearer(grant["access_token"])).json()["ok"]
    reused = sandbox.post(
        f"{API}/oauth.v2.access", data={"code": code, "client_id": s.slack_client_id, "client_secret": secret}
    ).json()
    assert reused == {"ok": False, "error": "invalid_code"}


def test_injected_fault_answers_before_the_method(sandbox: TestClient, workspace: dict) -> None:
    sandbox.post(f"{ADMIN}/faults", json={"kind": "503", "realm": workspace["team_id"], "times": 1})
    failed = sandbox.post(f"{API}/auth.test", headers=bearer(workspace["bot_token"]))
    assert failed.status_code == 503
    assert sandbox.post(f"{API}/auth.test", headers=bearer(workspace["bot_token"])).json()["ok"]


def test_the_demo_workspace_is_the_same_after_a_restart(sandbox_settings: SandboxSettings) -> None:
    from connectors.sandbox.app import create_app

    def demo(client: TestClient) -> dict:
        return client.get(f"{ADMIN}/workspaces/{sandbox_settings.slack_demo_team_id}").json()

    first, second = (
        demo(TestClient(create_app(sandbox_settings))),
        demo(TestClient(create_app(sandbox_settings))),
    )
    assert first == second and [c["name"] for c in first["channels"]] == [
        "general",
        "random",
        "firmsync-alerts",
    ]
    token = sandbox_settings.slack_demo_bot_token.get_secret_value()
    answer = TestClient(create_app(sandbox_settings)).post(f"{API}/auth.test", headers=bearer(token)).json()
    assert (
        answer["team_id"] == sandbox_settings.slack_demo_team_id and answer["user_id"] == first["bot_user_id"]
    )
