"""Connecting through the vendor's consent screen (issue 5): start → sandbox consent → callback → connection.

Everything runs for real: the API in-process on the test's transaction, the QuickBooks sandbox over HTTP
(its authorize endpoint approves at once, its token endpoint issues rotating tokens), intuit-oauth in the
connector. The browser is played by following redirects by hand.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from sqlalchemy import text

from connectors.oauth import OAuthApp
from core_api.security.secrets_box import secrets_box
from core_api.settings import get_settings
from tests.conftest import set_firm
from tests.factories import create_firm_user, set_role
from tests.integration.conftest import login


@pytest.fixture
def qbo_app(sandbox) -> OAuthApp:
    return OAuthApp(
        client_id="firmsync-sandbox-client",
        client_secret="firmsync-sandbox-secret",
        config={
            "environment": "sandbox",
            "api_base_url": sandbox.quickbooks,
            "discovery_url": f"{sandbox.quickbooks}/.well-known/openid_sandbox_configuration",
        },
    )


@pytest.fixture
def oauth_api(api, settings, qbo_app):
    configured = settings.model_copy(
        update={"oauth_apps": {"quickbooks": qbo_app}, "app_url": "http://spa.test"}
    )
    api.app.dependency_overrides[get_settings] = lambda: configured
    yield api
    api.app.dependency_overrides.pop(get_settings, None)


def _consent(authorization_url: str, **extra: str) -> dict[str, str]:
    """The browser at the vendor: the sandbox approves and redirects back with code + state."""
    url = httpx.URL(authorization_url)
    response = httpx.get(url.copy_merge_params(extra), follow_redirects=False)
    assert response.status_code == 302, response.text
    location = urlparse(response.headers["location"])
    assert location.path == "/api/v1/oauth/quickbooks/callback"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def _landing(response) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = urlparse(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == "http://spa.test/integrations"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


def _start(api, headers, **body) -> dict:
    response = api.post("/api/v1/connections/oauth/quickbooks/start", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def _connections(api, headers) -> list[dict]:
    return api.get("/api/v1/connections", headers=headers).json()["items"]


def test_connect_quickbooks_end_to_end_and_the_state_works_once(oauth_api, admin_headers, sandbox):
    realm = sandbox.new_realm(customers=3, seed=11)
    started = _start(oauth_api, admin_headers, display_name="Books", sync_interval_minutes=30)
    url = urlparse(started["authorization_url"])
    query = parse_qs(url.query)
    assert query["client_id"] == ["firmsync-sandbox-client"]
    assert query["redirect_uri"] == ["http://127.0.0.1:8000/api/v1/oauth/quickbooks/callback"]
    assert "com.intuit.quickbooks.accounting" in query["scope"][0]

    params = _consent(started["authorization_url"], realmId=realm["realm_id"])
    landing = _landing(
        oauth_api.get("/api/v1/oauth/quickbooks/callback", follow_redirects=False, params=params)
    )
    assert landing["session"] == started["session_id"]
    connection = oauth_api.get(f"/api/v1/connections/{landing['connected']}", headers=admin_headers).json()
    assert (connection["provider"], connection["account_id"]) == ("quickbooks", realm["realm_id"])
    assert (connection["display_name"], connection["sync_interval_minutes"]) == ("Books", 30)
    assert connection["config"]["api_base_url"] == sandbox.quickbooks
    assert "credentials" not in connection and "refresh_token" not in str(connection)
    session = oauth_api.get(
        f"/api/v1/connections/oauth/sessions/{started['session_id']}", headers=admin_headers
    ).json()
    assert (session["status"], session["connection_id"]) == ("completed", connection["id"])

    replay = oauth_api.get("/api/v1/oauth/quickbooks/callback", follow_redirects=False, params=params)
    assert replay.status_code == 400
    assert replay.headers["content-type"] == "application/problem+json"
    assert replay.json()["errors"] == [{"field": "query.state", "message": "unknown, used or expired state"}]
    assert len(_connections(oauth_api, admin_headers)) == 1


def test_the_stored_grant_works_and_disconnect_revokes_it(oauth_api, admin_headers, sandbox, app_connection):
    from connectors import registry
    from core_api.connections.secrets import open_credentials
    from core_api.models import Connection

    realm = sandbox.new_realm(customers=4, seed=12)
    started = _start(oauth_api, admin_headers)
    params = _consent(started["authorization_url"], realmId=realm["realm_id"])
    connected = _landing(
        oauth_api.get("/api/v1/oauth/quickbooks/callback", follow_redirects=False, params=params)
    )["connected"]

    row = app_connection.execute(
        text("select config, credentials_encrypted from app.connections where id = :id"), {"id": connected}
    ).one()
    stored = Connection(id=uuid.UUID(connected), provider="quickbooks", config=row.config)
    stored.credentials_encrypted = row.credentials_encrypted
    spec = registry.get_connector("quickbooks")
    credentials = spec.credentials_model.model_validate(open_credentials(stored))
    rotated = []
    with spec.build_client(
        spec.config_model.model_validate(row.config), credentials, on_tokens=rotated.append
    ) as client:
        assert client.count_customers() == 4

    assert oauth_api.delete(f"/api/v1/connections/{connected}", headers=admin_headers).status_code == 204
    latest = rotated[-1].refresh_token if rotated else credentials.refresh_token.get_secret_value()
    refused = httpx.post(
        f"{sandbox.quickbooks}/oauth2/v1/tokens/bearer",
        data={"grant_type": "refresh_token", "refresh_token": latest},
        auth=("firmsync-sandbox-client", "firmsync-sandbox-secret"),
        headers={"Accept": "application/json"},
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant"


def test_reauthorising_the_same_company_renews_the_existing_connection(
    oauth_api, admin_headers, sandbox, app_connection, firm_admin
):
    realm = sandbox.new_realm(customers=2, seed=13)
    first = _landing(
        oauth_api.get(
            "/api/v1/oauth/quickbooks/callback",
            follow_redirects=False,
            params=_consent(_start(oauth_api, admin_headers)["authorization_url"], realmId=realm["realm_id"]),
        )
    )["connected"]
    set_firm(app_connection, firm_admin.firm_id)
    app_connection.execute(
        text("update app.connections set status = 'needs_reauth', status_detail = 'revoked' where id = :id"),
        {"id": first},
    )
    again = _landing(
        oauth_api.get(
            "/api/v1/oauth/quickbooks/callback",
            follow_redirects=False,
            params=_consent(_start(oauth_api, admin_headers)["authorization_url"], realmId=realm["realm_id"]),
        )
    )["connected"]
    assert again == first
    connection = oauth_api.get(f"/api/v1/connections/{first}", headers=admin_headers).json()
    assert (connection["status"], connection["status_detail"]) == ("active", None)
    assert len(_connections(oauth_api, admin_headers)) == 1


def test_a_refused_consent_lands_with_the_error_and_connects_nothing(oauth_api, admin_headers):
    started = _start(oauth_api, admin_headers)
    state = parse_qs(urlparse(started["authorization_url"]).query)["state"][0]
    landing = _landing(
        oauth_api.get(
            "/api/v1/oauth/quickbooks/callback",
            follow_redirects=False,
            params={"state": state, "error": "access_denied"},
        )
    )
    assert landing["error"] == "access_denied"
    session = oauth_api.get(
        f"/api/v1/connections/oauth/sessions/{started['session_id']}", headers=admin_headers
    ).json()
    assert (session["status"], session["error"]) == ("failed", "access_denied")
    assert _connections(oauth_api, admin_headers) == []


def test_a_bad_code_fails_the_session_with_the_vendors_message(oauth_api, admin_headers, sandbox):
    realm = sandbox.new_realm(customers=1, seed=14)
    started = _start(oauth_api, admin_headers)
    params = {**_consent(started["authorization_url"], realmId=realm["realm_id"]), "code": "forged-code"}
    landing = _landing(
        oauth_api.get("/api/v1/oauth/quickbooks/callback", follow_redirects=False, params=params)
    )
    assert landing["error"] == "exchange_failed"
    session = oauth_api.get(
        f"/api/v1/connections/oauth/sessions/{started['session_id']}", headers=admin_headers
    ).json()
    assert session["status"] == "failed" and "invalid_grant" in session["error"]
    assert _connections(oauth_api, admin_headers) == []


def test_an_expired_session_or_unknown_state_is_refused(
    oauth_api, admin_headers, sandbox, app_connection, firm_admin
):
    realm = sandbox.new_realm(customers=1, seed=15)
    started = _start(oauth_api, admin_headers)
    params = _consent(started["authorization_url"], realmId=realm["realm_id"])
    set_firm(app_connection, firm_admin.firm_id)
    app_connection.execute(
        text("update app.oauth_sessions set expires_at = :t where id = :id"),
        {"t": datetime.now(UTC) - timedelta(seconds=1), "id": started["session_id"]},
    )
    assert (
        oauth_api.get("/api/v1/oauth/quickbooks/callback", follow_redirects=False, params=params).status_code
        == 400
    )
    assert (
        oauth_api.get(
            f"/api/v1/connections/oauth/sessions/{started['session_id']}", headers=admin_headers
        ).json()["status"]
        == "expired"
    )
    unknown = oauth_api.get(
        "/api/v1/oauth/quickbooks/callback", follow_redirects=False, params={"state": "nope", "code": "x"}
    )
    assert unknown.status_code == 400
    assert _connections(oauth_api, admin_headers) == []


def test_a_starter_who_lost_the_permission_connects_nothing(oauth_api, api, app_connection, sandbox):
    partner = create_firm_user(app_connection, name="Gamma")
    headers = login(api, partner)
    realm = sandbox.new_realm(customers=1, seed=16)
    started = _start(oauth_api, headers)
    params = _consent(started["authorization_url"], realmId=realm["realm_id"])
    set_role(app_connection, partner, "readonly")
    refused = oauth_api.get("/api/v1/oauth/quickbooks/callback", follow_redirects=False, params=params)
    assert refused.status_code == 403
    assert _connections(oauth_api, headers) == []


def test_providers_without_an_app_or_a_flow_say_so(api, oauth_api, admin_headers):
    assert api.post("/api/v1/connections/oauth/nope/start", json={}, headers=admin_headers).status_code == 404
    stripe = api.post("/api/v1/connections/oauth/stripe/start", json={}, headers=admin_headers)
    assert stripe.status_code == 422 and stripe.json()["errors"][0]["field"] == "provider"
    bad = api.post(
        "/api/v1/connections/oauth/quickbooks/start", json={"sync_interval_minutes": 1}, headers=admin_headers
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "sync_interval_minutes"


def test_no_configured_app_is_a_conflict(api, settings, admin_headers):
    bare = settings.model_copy(update={"oauth_apps": {}})
    api.app.dependency_overrides[get_settings] = lambda: bare
    try:
        response = api.post("/api/v1/connections/oauth/quickbooks/start", json={}, headers=admin_headers)
    finally:
        api.app.dependency_overrides.pop(get_settings, None)
    assert response.status_code == 409 and "FIRMSYNC_OAUTH_APPS" in response.json()["detail"]


# --- Xero: PKCE, and a consent that reaches several organisations ----------------------------------------


@pytest.fixture
def xero_api(api, settings, sandbox):
    xero = f"{sandbox.url}/xero"
    app = OAuthApp(
        client_id="firmsync-xero-sandbox-client",
        client_secret="firmsync-xero-sandbox-secret",
        config={
            "accounting_url": f"{xero}/api.xro/2.0",
            "connections_url": f"{xero}/connections",
            "authorize_url": f"{xero}/identity/connect/authorize",
            "token_url": f"{xero}/identity/connect/token",
            "revocation_url": f"{xero}/identity/connect/revocation",
        },
    )
    configured = settings.model_copy(update={"oauth_apps": {"xero": app}, "app_url": "http://spa.test"})
    api.app.dependency_overrides[get_settings] = lambda: configured
    yield api
    api.app.dependency_overrides.pop(get_settings, None)
    httpx.put(f"{xero}/_sandbox/consent", json={"tenant_ids": None}).raise_for_status()


def _xero_org(sandbox, name: str) -> str:
    body = {"name": name, "contacts": 2, "items": 1, "invoices": 0, "credit_notes": 0, "seed": 3}
    response = httpx.post(f"{sandbox.url}/xero/_sandbox/tenants", json=body)
    response.raise_for_status()
    return response.json()["tenant_id"]


def test_connect_xero_with_pkce_and_pick_one_of_two_organisations(
    xero_api, admin_headers, sandbox, app_connection
):
    from connectors import registry
    from connectors.xero.config import XeroConfig

    first, second = _xero_org(sandbox, "Harbour Advisory"), _xero_org(sandbox, "Harbour Payroll")
    httpx.put(f"{sandbox.url}/xero/_sandbox/consent", json={"tenant_ids": [first, second]}).raise_for_status()
    started = xero_api.post("/api/v1/connections/oauth/xero/start", json={}, headers=admin_headers).json()
    query = parse_qs(urlparse(started["authorization_url"]).query)
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert "offline_access" in query["scope"][0].split()

    consent = httpx.get(started["authorization_url"], follow_redirects=False)
    assert consent.status_code == 302, consent.text
    location = urlparse(consent.headers["location"])
    assert location.path == "/api/v1/oauth/xero/callback"
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    landing = _landing(xero_api.get("/api/v1/oauth/xero/callback", follow_redirects=False, params=params))
    assert landing["choose"] == "account"

    url = f"/api/v1/connections/oauth/sessions/{started['session_id']}"
    waiting = xero_api.get(url, headers=admin_headers).json()
    assert waiting["status"] == "awaiting_account"
    assert {a["id"]: a["name"] for a in waiting["accounts"]} == {
        first: "Harbour Advisory",
        second: "Harbour Payroll",
    }
    assert _connections(xero_api, admin_headers) == []
    wrong = xero_api.post(f"{url}/account", json={"account_id": str(uuid.uuid4())}, headers=admin_headers)
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "account_id"

    chosen = xero_api.post(f"{url}/account", json={"account_id": second}, headers=admin_headers)
    assert chosen.status_code == 201, chosen.text
    connection = chosen.json()
    assert (connection["provider"], connection["account_id"]) == ("xero", second)
    assert xero_api.get(url, headers=admin_headers).json()["status"] == "completed"
    again = xero_api.post(f"{url}/account", json={"account_id": first}, headers=admin_headers)
    assert again.status_code == 409

    # The stored (encrypted) grant reaches the chosen organisation through xero-python.
    spec = registry.get_connector("xero")
    sealed = app_connection.execute(
        text("select credentials_encrypted from app.connections where id = :id"), {"id": connection["id"]}
    ).scalar_one()
    credentials = spec.credentials_model.model_validate(secrets_box().open(sealed))
    with spec.build_client(
        XeroConfig.model_validate(connection["config"]), credentials, on_tokens=[].append
    ) as xero:
        assert xero.count("contacts") == 2


# --- Google Calendar: a staff member connects their own calendar, with the stack's sandbox app ------------


@pytest.fixture
def google_api(api, settings, sandbox):
    from deploy.local.stack import sandbox_oauth_apps

    # The very FIRMSYNC_OAUTH_APPS entry `make run` configures, so the stack's wiring is what is tested.
    app = OAuthApp.model_validate(sandbox_oauth_apps(sandbox.url)["google_calendar"])
    configured = settings.model_copy(
        update={"oauth_apps": {"google_calendar": app}, "app_url": "http://spa.test"}
    )
    api.app.dependency_overrides[get_settings] = lambda: configured
    yield api
    api.app.dependency_overrides.pop(get_settings, None)
    httpx.put(f"{sandbox.google}/_sandbox/consent", json={"email": None}).raise_for_status()


def test_connect_google_calendar_through_the_consent_screen_and_sync_with_the_grant(
    google_api, admin_headers, sandbox, app_connection
):
    from connectors import registry
    from connectors.google_calendar.config import GoogleCalendarConfig

    account = sandbox.new_google_account(events=4, calendars=[], seed=5)
    httpx.put(f"{sandbox.google}/_sandbox/consent", json={"email": account["email"]}).raise_for_status()
    started = google_api.post(
        "/api/v1/connections/oauth/google_calendar/start", json={}, headers=admin_headers
    ).json()
    query = parse_qs(urlparse(started["authorization_url"]).query)
    assert query["access_type"] == ["offline"] and query["code_challenge_method"] == ["S256"]

    consent = httpx.get(started["authorization_url"], follow_redirects=False)
    assert consent.status_code == 302, consent.text
    location = urlparse(consent.headers["location"])
    assert location.path == "/api/v1/oauth/google_calendar/callback"
    params = {k: v[0] for k, v in parse_qs(location.query).items()}
    landing = _landing(
        google_api.get("/api/v1/oauth/google_calendar/callback", follow_redirects=False, params=params)
    )
    connection = google_api.get(f"/api/v1/connections/{landing['connected']}", headers=admin_headers).json()
    assert (connection["provider"], connection["account_id"]) == ("google_calendar", account["email"])
    assert connection["config"]["account_email"] == account["email"]
    assert connection["config"]["api_endpoint"] == f"{sandbox.google}/calendar/v3/"

    # The stored (encrypted) grant reads the staff member's calendar through google-api-python-client.
    spec = registry.get_connector("google_calendar")
    sealed = app_connection.execute(
        text("select credentials_encrypted from app.connections where id = :id"), {"id": connection["id"]}
    ).scalar_one()
    credentials = spec.credentials_model.model_validate(secrets_box().open(sealed))
    with spec.build_client(
        GoogleCalendarConfig.model_validate(connection["config"]), credentials, on_tokens=[].append
    ) as google:
        events = [record for page in google.pages(None) for record in page.records]
    assert len(events) == 4
