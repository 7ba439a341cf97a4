"""Xero Identity over real HTTP: authorization code flow with PKCE, rotation and the 30-minute grace,
expiry, revocation, connections and what a token may reach."""

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlparse

import jwt

from tests.sandbox.xero_fixtures import CLIENT_ID, DEMO_TENANT, LiveXero, XeroOrg

REDIRECT = "https://app.example/xero/callback"
SCOPE = "openid profile email offline_access accounting.transactions accounting.contacts accounting.settings"


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()


def _authorize(live: LiveXero, **params: str) -> dict[str, str]:
    query = {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT,
        "scope": SCOPE,
        "state": "csrf-42",
        **params,
    }
    response = live.http.get("/identity/connect/authorize", params=query, follow_redirects=False)
    assert response.status_code == 302, response.text
    location = urlparse(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    return {key: values[0] for key, values in parse_qs(location.query).items()}


def _api(live: LiveXero, token: str, tenant: str, path: str = "Organisation"):
    headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": tenant, "Accept": "application/json"}
    return live.http.get(f"/api.xro/2.0/{path}", headers=headers)


def _refresh(live: LiveXero, refresh_token: str):
    return live.token({"grant_type": "refresh_token", "refresh_token": refresh_token})


def test_code_flow_with_pkce_yields_30_minute_jwt_and_connections(xero_live: LiveXero) -> None:
    org = xero_live.new_org(name="Second Org")
    verifier = secrets.token_urlsafe(48)
    answer = _authorize(xero_live, code_challenge=_challenge(verifier), code_challenge_method="S256")
    assert answer["state"] == "csrf-42" and answer["scope"] == SCOPE
    form = {"grant_type": "authorization_code", "code": answer["code"], "redirect_uri": REDIRECT}
    response = xero_live.token({**form, "code_verifier": verifier})
    assert response.status_code == 200, response.text
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 1800
    assert tokens["scope"] == SCOPE and tokens["refresh_token"] and tokens["id_token"]
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["nbf"] == 1800
    assert claims["client_id"] == CLIENT_ID and claims["scope"] == SCOPE.split()
    id_claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert id_claims["aud"] == CLIENT_ID and id_claims["xero_userid"] == claims["xero_userid"]

    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    connections = xero_live.http.get("/connections", headers=bearer).json()
    assert {c["tenantId"]: c["tenantName"] for c in connections} == {
        DEMO_TENANT: "Demo Company (US)",
        org.tenant_id: "Second Org",
    }
    assert {c["authEventId"] for c in connections} == {claims["authentication_event_id"]}
    assert all(c["tenantType"] == "ORGANISATION" for c in connections)
    # xero-python's IdentityApi spells it /Connections; the filter by auth event works on both.
    same = xero_live.http.get(
        "/Connections", params={"authEventId": claims["authentication_event_id"]}, headers=bearer
    )
    assert same.json() == connections
    assert (
        _api(xero_live, tokens["access_token"], org.tenant_id).json()["Organisations"][0]["Name"]
        == "Second Org"
    )


def test_code_is_single_use_and_bound_to_verifier_and_redirect(xero_live: LiveXero) -> None:
    verifier = secrets.token_urlsafe(48)
    code = _authorize(xero_live, code_challenge=_challenge(verifier), code_challenge_method="S256")["code"]
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert xero_live.token({**form, "code_verifier": "not-the-verifier-" + verifier}).json() == {
        "error": "invalid_grant"
    }
    assert xero_live.token(form).status_code == 400  # no verifier for a PKCE code
    wrong_redirect = xero_live.token(
        {**form, "redirect_uri": "https://evil.example/cb", "code_verifier": verifier}
    )
    assert wrong_redirect.json()["error"] == "invalid_grant"
    assert xero_live.token({**form, "code_verifier": verifier}).status_code == 200
    again = xero_live.token({**form, "code_verifier": verifier})
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    # A code is good for 5 minutes.
    late = _authorize(xero_live)["code"]
    xero_live.clock.advance(301)
    assert xero_live.token({**form, "code": late}).json()["error"] == "invalid_grant"
    # Only S256 challenges are supported, and unknown scopes are refused at the authorize step.
    assert (
        _authorize(xero_live, code_challenge="abc", code_challenge_method="plain")["error"]
        == "invalid_request"
    )
    assert _authorize(xero_live, scope="openid accounting.everything")["error"] == "invalid_scope"


def test_public_pkce_client_needs_no_secret_but_others_do(xero_live: LiveXero) -> None:
    verifier = secrets.token_urlsafe(48)
    code = _authorize(xero_live, code_challenge=_challenge(verifier), code_challenge_method="S256")["code"]
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": CLIENT_ID,
    }
    tokens = xero_live.token({**form, "code_verifier": verifier}, auth=None).json()
    refreshed = xero_live.token(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"], "client_id": CLIENT_ID},
        auth=None,
    )
    assert refreshed.status_code == 200, refreshed.text
    # A confidential consent (no PKCE) cannot be used without the secret.
    plain = _authorize(xero_live)["code"]
    no_secret = xero_live.token({**form, "code": plain}, auth=None)
    assert no_secret.json() == {"error": "invalid_client"}
    assert xero_live.token({**form, "code": plain}, auth=(CLIENT_ID, "wrong")).json() == {
        "error": "invalid_client"
    }
    # client_secret_post works like Basic.
    posted = xero_live.token(
        {**form, "code": plain, "client_secret": "firmsync-xero-sandbox-secret"}, auth=None
    )
    assert posted.status_code == 200


def test_refresh_rotates_and_the_previous_token_has_a_30_minute_grace(
    xero_org: XeroOrg, xero_live: LiveXero
) -> None:
    first = xero_org.refresh_token
    rotated = _refresh(xero_live, first)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()
    assert second["refresh_token"] != first and second["access_token"] != xero_org.access_token
    assert _api(xero_live, second["access_token"], xero_org.tenant_id).status_code == 200
    # The answer was "lost": the previous token still works within 30 minutes of its first use.
    xero_live.clock.advance(29 * 60)
    retry = _refresh(xero_live, first)
    assert retry.status_code == 200, retry.text
    assert retry.json()["refresh_token"] not in (first, second["refresh_token"])
    # Past the grace period it is spent for good; its successors are not.
    xero_live.clock.advance(2 * 60)
    assert _refresh(xero_live, first).json() == {"error": "invalid_grant"}
    assert _refresh(xero_live, second["refresh_token"]).status_code == 200
    assert _refresh(xero_live, retry.json()["refresh_token"]).status_code == 200


def test_access_tokens_expire_after_30_minutes_refresh_tokens_after_60_days(
    xero_org: XeroOrg, xero_live: LiveXero
) -> None:
    assert _api(xero_live, xero_org.access_token, xero_org.tenant_id).status_code == 200
    # The sandbox-wide clock endpoint moves Xero's time too.
    moved = xero_live.http.post(f"{xero_live.base}/_sandbox/clock/advance", json={"seconds": 1801})
    assert moved.status_code == 200
    expired = _api(xero_live, xero_org.access_token, xero_org.tenant_id)
    assert expired.status_code == 401
    problem = expired.json()
    assert problem["Title"] == "Unauthorized" and problem["Status"] == 401
    assert problem["Detail"].startswith("TokenExpired: token expired at ")
    assert set(problem) == {"Type", "Title", "Status", "Detail", "Instance", "Extensions"}
    assert _refresh(xero_live, xero_org.refresh_token).status_code == 200
    stale = xero_live.new_org()
    xero_live.clock.advance(60 * 86_400 + 1)
    assert _refresh(xero_live, stale.refresh_token).json() == {"error": "invalid_grant"}


def test_revocation_ends_the_consent(xero_org: XeroOrg, xero_live: LiveXero) -> None:
    response = xero_live.http.post(
        "/identity/connect/revocation",
        data={"token": xero_org.refresh_token},
        auth=(CLIENT_ID, "firmsync-xero-sandbox-secret"),
    )
    assert response.status_code == 200 and response.content == b""
    assert _refresh(xero_live, xero_org.refresh_token).json() == {"error": "invalid_grant"}
    assert _api(xero_live, xero_org.access_token, xero_org.tenant_id).status_code == 401
    connections = xero_live.http.get(
        "/connections", headers={"Authorization": f"Bearer {xero_org.access_token}"}
    )
    assert connections.status_code == 401


def test_admin_revoke_refuses_every_earlier_token_of_the_tenant(
    xero_org: XeroOrg, xero_live: LiveXero
) -> None:
    assert xero_org.admin("POST", "/revoke").json()["revoked"] is True
    assert _api(xero_live, xero_org.access_token, xero_org.tenant_id).status_code == 401
    assert _refresh(xero_live, xero_org.refresh_token).json() == {"error": "invalid_grant"}
    fresh = xero_live.org(xero_org.tenant_id)
    assert _api(xero_live, fresh.access_token, xero_org.tenant_id).status_code == 200


def test_deleting_a_connection_forbids_only_that_tenant(xero_live: LiveXero) -> None:
    one, two = xero_live.new_org(name="One"), xero_live.new_org(name="Two")
    assert (
        xero_live.http.put(
            "/_sandbox/consent", json={"tenant_ids": [one.tenant_id, two.tenant_id]}
        ).status_code
        == 200
    )
    code = _authorize(xero_live)["code"]
    tokens = xero_live.token(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    ).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    connections = xero_live.http.get("/connections", headers=bearer).json()
    assert {c["tenantName"] for c in connections} == {"One", "Two"}
    doomed = next(c for c in connections if c["tenantId"] == one.tenant_id)
    assert xero_live.http.delete(f"/connections/{doomed['id']}", headers=bearer).status_code == 204
    assert xero_live.http.delete(f"/connections/{doomed['id']}", headers=bearer).status_code == 404
    assert [c["tenantName"] for c in xero_live.http.get("/connections", headers=bearer).json()] == ["Two"]
    denied = _api(xero_live, tokens["access_token"], one.tenant_id)
    assert denied.status_code == 403 and denied.json()["Detail"] == "AuthenticationUnsuccessful"
    assert _api(xero_live, tokens["access_token"], two.tenant_id).status_code == 200


def test_requests_need_a_bearer_a_connected_tenant_and_the_scope(
    xero_org: XeroOrg, xero_live: LiveXero
) -> None:
    no_bearer = xero_live.http.get("/api.xro/2.0/Contacts", headers={"xero-tenant-id": xero_org.tenant_id})
    assert no_bearer.status_code == 401 and no_bearer.json()["Title"] == "Unauthorized"
    garbage = _api(xero_live, "not-a-token", xero_org.tenant_id)
    assert garbage.status_code == 401 and garbage.json()["Detail"] == "AuthenticationUnsuccessful"
    other = xero_live.new_org()
    assert _api(xero_live, xero_org.access_token, other.tenant_id).status_code == 403
    missing = xero_live.http.get(
        "/api.xro/2.0/Contacts", headers={"Authorization": f"Bearer {xero_org.access_token}"}
    )
    assert missing.status_code == 403 and missing.json()["Title"] == "Forbidden"
    narrow = xero_org.admin(
        "POST", "/grant", json={"scope": "offline_access accounting.contacts.read"}
    ).json()
    contacts = _api(xero_live, narrow["access_token"], xero_org.tenant_id, "Contacts")
    assert contacts.status_code == 200
    invoices = _api(xero_live, narrow["access_token"], xero_org.tenant_id, "Invoices")
    assert invoices.status_code == 401 and invoices.json()["Detail"] == "AuthorizationUnsuccessful"
    headers = {"Authorization": f"Bearer {narrow['access_token']}", "xero-tenant-id": xero_org.tenant_id}
    write = xero_live.http.put("/api.xro/2.0/Contacts", json={"Name": "Read Only"}, headers=headers)
    assert write.status_code == 401


def test_discovery_and_jwks_describe_the_sandbox(xero_live: LiveXero) -> None:
    document = xero_live.http.get("/identity/.well-known/openid-configuration").json()
    assert document["token_endpoint"] == f"{xero_live.xero}/identity/connect/token"
    assert document["revocation_endpoint"] == f"{xero_live.xero}/identity/connect/revocation"
    assert document["code_challenge_methods_supported"] == ["S256"]
    code = _authorize(xero_live)["code"]
    tokens = xero_live.token(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    ).json()
    keys = xero_live.http.get("/identity/.well-known/openid-configuration/jwks").json()["keys"]
    key = jwt.PyJWK(keys[0])
    claims = jwt.decode(tokens["id_token"], key.key, algorithms=["RS256"], audience=CLIENT_ID)
    assert claims["iss"] == f"{xero_live.xero}/identity"
