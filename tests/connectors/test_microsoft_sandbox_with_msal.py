"""The Microsoft emulator as msal and a plain HTTP client meet it over TLS: instance discovery, the code flow
with PKCE, rotating refresh tokens, client credentials, and Graph's delta, If-Match and subscription rules."""

from __future__ import annotations

import ssl
from urllib.parse import parse_qs, urlsplit

import httpx
import msal
import pytest
import requests

from connectors.microsoft_calendar.transport import PinnedSession

GRAPH_SCOPE = "https://graph.microsoft.com/Calendars.ReadWrite"


@pytest.fixture
def tenant(sandbox):
    return sandbox.new_microsoft_tenant(users=[{"events": 5, "seed": 9, "display_name": "Flow User"}])


def _session(sandbox) -> requests.Session:
    # Not a plain Session with `.verify` set: REQUESTS_CA_BUNDLE in the environment would override it (the
    # pitfall `PinnedSession` exists for; this machine sets one).
    return PinnedSession(sandbox.ca_bundle)


def _trust(sandbox) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=sandbox.ca_bundle)


def _app(sandbox, tenant, **options) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        tenant["client_id"],
        client_credential=tenant["client_secret"],
        authority=f"{sandbox.microsoft}/{tenant['tenant_id']}",
        http_client=_session(sandbox),
        instance_discovery=f"{sandbox.microsoft}/common/discovery/instance",
        **options,
    )


def _graph(sandbox, token: str, path: str, **kwargs) -> httpx.Response:
    return httpx.request(
        kwargs.pop("method", "GET"),
        f"{sandbox.microsoft}/v1.0/{path}",
        headers={"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})},
        verify=_trust(sandbox),
        timeout=10,
        **kwargs,
    )


def test_msal_code_flow_with_pkce_returns_tokens_and_an_id_token_for_the_user(sandbox, tenant):
    user = tenant["users"][0]
    app = _app(sandbox, tenant)
    flow = app.initiate_auth_code_flow(
        [GRAPH_SCOPE], redirect_uri="http://localhost/callback", login_hint=user["upn"]
    )
    assert flow["auth_uri"].startswith(f"{sandbox.microsoft}/{tenant['tenant_id']}/oauth2/v2.0/authorize?")
    assert "code_challenge=" in flow["auth_uri"]
    answer = httpx.get(flow["auth_uri"], verify=_trust(sandbox), follow_redirects=False)
    assert answer.status_code == 302
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == user["upn"]
    assert result["id_token_claims"]["nonce"]  # msal's nonce came back
    assert _graph(sandbox, result["access_token"], "me").json()["id"] == user["id"]
    # The code is single use, and a wrong PKCE verifier is refused.
    again = app.acquire_token_by_auth_code_flow(flow, params)
    assert again.get("error") in ("invalid_grant", "invalid_request") or "state" in str(again)


def test_a_wrong_pkce_verifier_is_refused(sandbox, tenant):
    user = tenant["users"][0]
    app = _app(sandbox, tenant)
    flow = app.initiate_auth_code_flow(
        [GRAPH_SCOPE], redirect_uri="http://localhost/callback", login_hint=user["upn"]
    )
    answer = httpx.get(flow["auth_uri"], verify=_trust(sandbox), follow_redirects=False)
    params = {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["location"]).query).items()}
    flow["code_verifier"] = "x" * 43
    result = app.acquire_token_by_auth_code_flow(flow, params)
    assert result.get("error") == "invalid_grant" and "AADSTS501481" in result["error_description"]


def test_refresh_tokens_rotate_and_a_spent_one_is_refused(sandbox, tenant):
    user = tenant["users"][0]
    app = _app(sandbox, tenant)
    first = app.acquire_token_by_refresh_token(user["refresh_token"], scopes=[GRAPH_SCOPE])
    assert first["refresh_token"] != user["refresh_token"]
    spent = app.acquire_token_by_refresh_token(user["refresh_token"], scopes=[GRAPH_SCOPE])
    assert spent.get("error") == "invalid_grant"
    second = app.acquire_token_by_refresh_token(first["refresh_token"], scopes=[GRAPH_SCOPE])
    assert "access_token" in second


def test_client_credentials_need_dot_default_and_cannot_use_me(sandbox, tenant):
    user = tenant["users"][0]
    # Client credentials search msal's cache, and that asks login.microsoftonline.com for the host's aliases
    # whatever discovery URL was given: for a host of its own an app turns instance discovery off.
    app = msal.ConfidentialClientApplication(
        tenant["client_id"],
        client_credential=tenant["client_secret"],
        authority=f"{sandbox.microsoft}/{tenant['tenant_id']}",
        http_client=_session(sandbox),
        instance_discovery=False,
    )
    refused = app.acquire_token_for_client(scopes=[GRAPH_SCOPE])
    assert refused.get("error") == "invalid_scope"
    token = app.acquire_token_for_client(scopes=["https://graph.microsoft.com/.default"])["access_token"]
    assert _graph(sandbox, token, "me").status_code == 400
    assert _graph(sandbox, token, f"users/{user['upn']}").json()["id"] == user["id"]


def test_instance_discovery_refuses_a_host_it_does_not_serve(sandbox):
    answer = httpx.get(
        f"{sandbox.microsoft}/common/discovery/instance",
        params={
            "authorization_endpoint": "https://evil.example/t/oauth2/v2.0/authorize",
            "api-version": "1.1",
        },
        verify=_trust(sandbox),
    )
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_instance"


def test_graph_delta_if_match_and_revocation(sandbox, tenant):
    user = tenant["users"][0]
    token = user["access_token"]
    window = {"startDateTime": "2000-01-01T00:00:00Z", "endDateTime": "2100-01-01T00:00:00Z"}
    missing = _graph(sandbox, token, "me/calendarView/delta")
    assert missing.status_code == 400 and missing.json()["error"]["code"] == "ErrorInvalidParameter"
    page = _graph(
        sandbox, token, "me/calendarView/delta", params=window, headers={"Prefer": "odata.maxpagesize=2"}
    )
    assert page.headers["preference-applied"] == "odata.maxpagesize=2" and len(page.json()["value"]) == 2
    event = page.json()["value"][0]
    assert event["@odata.etag"] == f'W/"{event["changeKey"]}"'
    stale = {"If-Match": 'W/"not-the-change-key"'}
    refused = _graph(
        sandbox, token, f"me/events/{event['id']}", method="PATCH", json={"subject": "x"}, headers=stale
    )
    assert refused.status_code == 412
    fresh = {"If-Match": event["@odata.etag"]}
    done = _graph(
        sandbox, token, f"me/events/{event['id']}", method="PATCH", json={"subject": "y"}, headers=fresh
    )
    assert done.status_code == 200 and done.json()["changeKey"] != event["changeKey"]
    sandbox.microsoft_admin("POST", f"/users/{user['id']}/revoke")
    assert _graph(sandbox, token, "me").status_code == 401
