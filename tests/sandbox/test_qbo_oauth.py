"""Intuit OAuth 2.0: discovery, authorization, token grants, rotation, expiry, revocation."""

import base64
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
from fastapi.testclient import TestClient

from connectors.sandbox.app import create_app
from connectors.sandbox.common.clock import Clock
from connectors.sandbox.settings import SandboxSettings
from tests.sandbox.conftest import QBO, QboRealm

TOKEN_URL = f"{QBO}/oauth2/v1/tokens/bearer"
REDIRECT = "https://app.example/callback"
DEMO = "9130357766920001"


def _basic(client_id: str = "firmsync-sandbox-client", secret: str = "firmsync-sandbox-secret") -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def _token(sandbox: TestClient, form: dict, headers: dict | None = None):
    auth = _basic() if headers is None else headers
    return sandbox.post(TOKEN_URL, data=form, headers={"Accept": "application/json", **auth})


def _refresh(sandbox: TestClient, refresh_token: str):
    return _token(sandbox, {"grant_type": "refresh_token", "refresh_token": refresh_token})


def _authorize(sandbox: TestClient, **params: str) -> dict[str, str]:
    query = {
        "client_id": "firmsync-sandbox-client",
        "response_type": "code",
        "scope": "com.intuit.quickbooks.accounting",
        "redirect_uri": REDIRECT,
        "state": "csrf-123",
        **params,
    }
    response = sandbox.get(f"{QBO}/connect/oauth2", params=query, follow_redirects=False)
    assert response.status_code == 302, response.text
    location = urlparse(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {key: values[0] for key, values in parse_qs(location.query).items()}


@pytest.mark.parametrize(
    "path",
    [
        "/.well-known/openid_sandbox_configuration",
        "/.well-known/openid_sandbox_configuration/",
        "/.well-known/openid_configuration",
        "/.well-known/openid_configuration/",
    ],
)
def test_discovery_document_points_every_endpoint_back_here(sandbox: TestClient, path: str) -> None:
    response = sandbox.get(QBO + path)
    assert response.status_code == 200
    doc = response.json()
    endpoints = ("issuer", "authorization_endpoint", "token_endpoint", "revocation_endpoint")
    endpoints += ("userinfo_endpoint", "jwks_uri")
    for key in endpoints:
        assert doc[key].startswith("http://testserver/quickbooks/"), key
    # Every advertised endpoint answers (the issuer is an identifier, not an endpoint).
    assert sandbox.get(doc["jwks_uri"]).status_code == 200
    assert sandbox.post(doc["token_endpoint"], data={}).status_code == 401
    assert sandbox.post(doc["revocation_endpoint"], json={}).status_code == 401
    assert sandbox.get(doc["userinfo_endpoint"]).status_code == 401
    assert sandbox.get(doc["authorization_endpoint"]).status_code == 400
    assert "code" in doc["response_types_supported"]
    assert "client_secret_basic" in doc["token_endpoint_auth_methods_supported"]


def test_discovery_uses_the_host_the_client_called(sandbox: TestClient) -> None:
    doc = sandbox.get(
        f"{QBO}/.well-known/openid_configuration", headers={"Host": "sandbox.local:9999"}
    ).json()
    assert doc["token_endpoint"] == "http://sandbox.local:9999/quickbooks/oauth2/v1/tokens/bearer"


def test_authorization_code_flow_for_the_demo_company(sandbox: TestClient) -> None:
    answer = _authorize(sandbox)
    assert answer["state"] == "csrf-123"
    assert answer["realmId"] == DEMO
    response = _token(
        sandbox, {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": REDIRECT}
    )
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 3600
    assert tokens["x_refresh_token_expires_in"] == 100 * 86400
    assert "id_token" not in tokens  # only with the openid scope
    query = sandbox.get(
        f"{QBO}/v3/company/{DEMO}/query",
        params={"query": "SELECT COUNT(*) FROM Customer"},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert query.status_code == 200

    reused = _token(
        sandbox, {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": REDIRECT}
    )
    assert (reused.status_code, reused.json()["error"]) == (400, "invalid_grant")


def test_authorization_honours_a_realm_hint_and_checks_the_redirect(
    sandbox: TestClient, realm: QboRealm
) -> None:
    answer = _authorize(sandbox, realmId=realm.realm_id)
    assert answer["realmId"] == realm.realm_id
    wrong = _token(
        sandbox, {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": "https://x"}
    )
    assert wrong.json()["error"] == "invalid_grant"
    assert _authorize(sandbox, response_type="token")["error"] == "unsupported_response_type"
    assert _authorize(sandbox, scope="com.intuit.quickbooks.everything")["error"] == "invalid_scope"
    assert _authorize(sandbox, realmId="123")["error"] == "access_denied"


def test_refresh_tokens_rotate_and_the_old_one_dies(sandbox: TestClient, realm: QboRealm) -> None:
    first = _refresh(sandbox, realm.refresh_token)
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh_token"] != realm.refresh_token
    assert rotated["access_token"] != realm.access_token

    reused = _refresh(sandbox, realm.refresh_token)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    assert reused.headers["cache-control"] == "no-store"

    second = _refresh(sandbox, rotated["refresh_token"])
    assert second.status_code == 200
    assert _refresh(sandbox, rotated["refresh_token"]).json()["error"] == "invalid_grant"


def test_client_authentication(sandbox: TestClient, realm: QboRealm) -> None:
    form = {"grant_type": "refresh_token", "refresh_token": realm.refresh_token}
    bad = _token(sandbox, form, headers=_basic(secret="wrong"))
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")
    assert _token(sandbox, form, headers={}).status_code == 401
    # A failed client authentication does not spend the refresh token.
    posted = _token(
        sandbox, {**form, "client_id": realm.client_id, "client_secret": realm.client_secret}, headers={}
    )
    assert posted.status_code == 200


def test_grant_type_errors(sandbox: TestClient, realm: QboRealm) -> None:
    assert _token(sandbox, {"grant_type": "password"}).json()["error"] == "unsupported_grant_type"
    assert _token(sandbox, {"refresh_token": realm.refresh_token}).json()["error"] == "invalid_request"
    assert _token(sandbox, {"grant_type": "refresh_token"}).json()["error"] == "invalid_request"
    assert _refresh(sandbox, "sbx-rt-forged.token").json()["error"] == "invalid_grant"
    assert _refresh(sandbox, realm.access_token).json()["error"] == "invalid_grant"


def test_access_tokens_expire_after_an_hour(sandbox: TestClient, realm: QboRealm, clock: Clock) -> None:
    assert realm.query("SELECT COUNT(*) FROM Customer").status_code == 200
    clock.advance(3599)
    assert realm.query("SELECT COUNT(*) FROM Customer").status_code == 200
    clock.advance(2)
    expired = realm.query("SELECT COUNT(*) FROM Customer")
    assert expired.status_code == 401
    assert expired.json()["fault"]["error"][0]["detail"].startswith("Token expired")
    fresh = _refresh(sandbox, realm.refresh_token).json()
    realm.access_token = fresh["access_token"]
    assert realm.query("SELECT COUNT(*) FROM Customer").status_code == 200


def test_refresh_tokens_expire_after_100_days(sandbox: TestClient, realm: QboRealm, clock: Clock) -> None:
    clock.advance(100 * 86400 + 1)
    assert _refresh(sandbox, realm.refresh_token).json()["error"] == "invalid_grant"


def test_access_token_lifetime_follows_the_realm_limits(
    sandbox: TestClient, realm: QboRealm, clock: Clock
) -> None:
    realm.admin("PUT", "/limits", json={"access_token_ttl_seconds": 30})
    tokens = _refresh(sandbox, realm.refresh_token).json()
    assert tokens["expires_in"] == 30
    realm.access_token = tokens["access_token"]
    clock.advance(31)
    assert realm.query("SELECT COUNT(*) FROM Customer").status_code == 401


def test_revoking_a_refresh_token_disconnects_the_grant(sandbox: TestClient, realm: QboRealm) -> None:
    # intuit-oauth's AuthClient.revoke() posts JSON with Basic client authentication.
    response = sandbox.post(
        f"{QBO}/oauth2/v1/tokens/revoke", json={"token": realm.refresh_token}, headers=_basic()
    )
    assert response.status_code == 200
    assert _refresh(sandbox, realm.refresh_token).json()["error"] == "invalid_grant"
    assert realm.query("SELECT COUNT(*) FROM Customer").status_code == 401
    # Other grants for the same company are unaffected.
    other = sandbox.post(f"{QBO}/_sandbox/realms/{realm.realm_id}/grant").json()
    assert _refresh(sandbox, other["refresh_token"]).status_code == 200


def test_tokens_survive_a_restart_with_the_same_secret(
    sandbox: TestClient, sandbox_settings: SandboxSettings
) -> None:
    grant = sandbox.post(f"{QBO}/_sandbox/realms/{DEMO}/grant").json()
    restarted = TestClient(create_app(sandbox_settings))
    assert _refresh(restarted, grant["refresh_token"]).status_code == 200
    other_secret = TestClient(create_app(SandboxSettings(qbo_demo_customers=40, secret="another-secret")))
    assert _refresh(other_secret, grant["refresh_token"]).json()["error"] == "invalid_grant"


def test_openid_scope_adds_a_verifiable_id_token(sandbox: TestClient) -> None:
    answer = _authorize(sandbox, scope="com.intuit.quickbooks.accounting openid email")
    tokens = _token(
        sandbox, {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": REDIRECT}
    ).json()
    doc = sandbox.get(f"{QBO}/.well-known/openid_sandbox_configuration").json()
    jwks = jwt.PyJWKSet.from_dict(sandbox.get(doc["jwks_uri"]).json())
    header = jwt.get_unverified_header(tokens["id_token"])
    claims = jwt.decode(
        tokens["id_token"], jwks[header["kid"]].key, algorithms=["RS256"], audience="firmsync-sandbox-client"
    )
    assert claims["iss"] == doc["issuer"]
    assert claims["realmid"] == DEMO
    info = sandbox.get(
        doc["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert info.status_code == 200 and info.json()["sub"] == claims["sub"]
