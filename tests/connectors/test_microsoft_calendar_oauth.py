"""The Microsoft 365 connect flow (`connectors.microsoft_calendar.oauth.FLOW`) through msal against the
sandbox's identity platform over TLS: consent with PKCE, the grant, and a connection that then syncs."""

from __future__ import annotations

import ssl
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors import registry
from connectors.base import AuthError
from connectors.microsoft_calendar.oauth import FLOW
from connectors.oauth import OAuthApp, pkce_pair

REDIRECT = "http://localhost:8000/api/v1/oauth/microsoft_calendar/callback"


@pytest.fixture
def app(sandbox) -> OAuthApp:
    return OAuthApp(
        client_id="5f0c6f2e-8d1b-4a57-9c3e-f1a5e0b7c2d4",
        client_secret="firmsync-microsoft-sandbox-secret",
        config={
            "authority_host": sandbox.microsoft,
            "tenant_id": "organizations",
            "instance_discovery": False,
            "graph_url": f"{sandbox.microsoft}/v1.0",
            "ca_bundle": sandbox.ca_bundle,
        },
    )


def _consent(sandbox, url: str, login_hint: str) -> dict[str, str]:
    trust = ssl.create_default_context(cafile=sandbox.ca_bundle)
    answer = httpx.get(httpx.URL(url).copy_merge_params({"login_hint": login_hint}), verify=trust)
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def test_connect_a_staff_members_outlook_calendar_with_pkce(sandbox, app):
    tenant = sandbox.new_microsoft_tenant(users=[{"events": 4, "seed": 3, "display_name": "Grace Staff"}])
    user = tenant["users"][0]
    verifier, challenge = pkce_pair()
    url = FLOW.authorization_url(app, REDIRECT, "state-123", challenge)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{sandbox.microsoft}/organizations/oauth2/v2.0/authorize?")
    assert (query["state"], query["code_challenge_method"]) == (["state-123"], ["S256"])
    params = _consent(sandbox, url, user["upn"])
    assert params["state"] == "state-123"

    grant = FLOW.exchange(app, params, REDIRECT, verifier)
    [account] = grant.accounts
    assert (account.id, account.name) == (user["upn"], "Grace Staff")
    config, credentials = FLOW.connection(app, account, grant.tokens)
    assert (config.tenant_id, config.account_email) == (tenant["tenant_id"], user["upn"])
    spec = registry.get_connector("microsoft_calendar")
    assert spec.oauth is FLOW and spec.account_id(config) == user["upn"]
    with spec.build_client(config, credentials, on_tokens=lambda _: None) as client:
        assert client.me()["id"] == user["id"]
        assert sum(len(p.records) for p in client.pages(None)) == 4


def test_a_wrong_verifier_or_a_refusal_is_an_auth_error(sandbox, app):
    tenant = sandbox.new_microsoft_tenant(users=[{}])
    _, challenge = pkce_pair()
    params = _consent(
        sandbox, FLOW.authorization_url(app, REDIRECT, "s", challenge), tenant["users"][0]["upn"]
    )
    with pytest.raises(AuthError):
        FLOW.exchange(app, params, REDIRECT, pkce_pair()[0])
    with pytest.raises(AuthError):
        FLOW.exchange(app, {"error": "access_denied", "state": "s"}, REDIRECT, None)
