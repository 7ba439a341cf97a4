"""A staff member connects their Outlook calendar through the API's consent flow (start → the sandbox's
identity platform over TLS → callback → connection), msal in the connector."""

from __future__ import annotations

import ssl
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import text

from connectors import registry
from connectors.oauth import OAuthApp
from core_api.security.secrets_box import secrets_box
from core_api.settings import get_settings


@pytest.fixture
def microsoft_api(api, settings, sandbox):
    app = OAuthApp(
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
    configured = settings.model_copy(
        update={"oauth_apps": {"microsoft_calendar": app}, "app_url": "http://spa.test"}
    )
    api.app.dependency_overrides[get_settings] = lambda: configured
    yield api
    api.app.dependency_overrides.pop(get_settings, None)


def test_connect_an_outlook_calendar_through_the_consent_screen(
    microsoft_api, admin_headers, sandbox, app_connection
):
    tenant = sandbox.new_microsoft_tenant(users=[{"events": 3, "seed": 8, "display_name": "Lin Staff"}])
    user = tenant["users"][0]
    started = microsoft_api.post(
        "/api/v1/connections/oauth/microsoft_calendar/start", json={}, headers=admin_headers
    )
    assert started.status_code == 201, started.text
    url = started.json()["authorization_url"]
    query = parse_qs(urlparse(url).query)
    assert query["code_challenge_method"] == ["S256"] and "offline_access" in query["scope"][0].split()

    trust = ssl.create_default_context(cafile=sandbox.ca_bundle)
    consent = httpx.get(httpx.URL(url).copy_merge_params({"login_hint": user["upn"]}), verify=trust)
    assert consent.status_code == 302, consent.text
    location = urlparse(consent.headers["location"])
    assert location.path == "/api/v1/oauth/microsoft_calendar/callback"
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    landing = microsoft_api.get(
        "/api/v1/oauth/microsoft_calendar/callback", follow_redirects=False, params=params
    )
    assert landing.status_code == 303, landing.text
    connected = parse_qs(urlparse(landing.headers["location"]).query)["connected"][0]
    connection = microsoft_api.get(f"/api/v1/connections/{connected}", headers=admin_headers).json()
    assert (connection["provider"], connection["account_id"]) == ("microsoft_calendar", user["upn"])
    assert connection["config"]["tenant_id"] == tenant["tenant_id"]
    assert "refresh_token" not in str(connection)

    # The sealed grant reads the mailbox through msal and Graph.
    spec = registry.get_connector("microsoft_calendar")
    sealed = app_connection.execute(
        text("select credentials_encrypted from app.connections where id = :id"), {"id": connected}
    ).scalar_one()
    config = spec.config_model.model_validate(connection["config"])
    credentials = spec.credentials_model.model_validate(secrets_box().open(bytes(sealed)))
    with spec.build_client(config, credentials, on_tokens=lambda _: None) as client:
        assert client.me()["id"] == user["id"]
