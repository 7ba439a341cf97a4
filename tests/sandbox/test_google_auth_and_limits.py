"""The Google emulator's OAuth 2.0 (code flow with PKCE, refresh, revocation, expiry), scopes, per-user quota
(403 rateLimitExceeded or 429) and injected faults, in-process."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from connectors.sandbox.common.clock import Clock

G = "/google"
ADMIN = f"{G}/_sandbox"
CLIENT_ID = "firmsync-google-sandbox.apps.googleusercontent.com"
SECRET = "firmsync-google-sandbox-secret"
REDIRECT = "http://localhost:5173/oauth/google/callback"
LIST = f"{G}/calendar/v3/users/me/calendarList"


@pytest.fixture
def user(sandbox: TestClient) -> dict:
    response = sandbox.post(f"{ADMIN}/accounts", json={"email": "ana.lopez@firmsync.example", "events": 2})
    assert response.status_code == 201, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def token_call(sandbox: TestClient, **form: str):
    return sandbox.post(f"{G}/token", data={"client_id": CLIENT_ID, "client_secret": SECRET, **form})


def test_code_flow_with_pkce_gives_offline_tokens_once(sandbox: TestClient, user: dict):
    verifier = "v" * 64
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    approved = sandbox.get(
        f"{G}/o/oauth2/v2/auth",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "scope": "https://www.googleapis.com/auth/calendar.events https://www.googleapis.com/auth/calendar.readonly",
            "state": "s-123",
            "access_type": "offline",
            "login_hint": user["email"],
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
        follow_redirects=False,
    )
    assert approved.status_code == 302
    query = parse_qs(urlsplit(approved.headers["location"]).query)
    assert query["state"] == ["s-123"]
    code = query["code"][0]

    wrong = token_call(
        sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier="x" * 64
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    tokens = token_call(
        sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier
    )
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert (
        body["token_type"] == "Bearer"
        and body["expires_in"] == 3599
        and body["refresh_token"].startswith("1//")
    )
    reused = token_call(
        sandbox, grant_type="authorization_code", code=code, redirect_uri=REDIRECT, code_verifier=verifier
    )
    assert reused.json()["error"] == "invalid_grant"

    calendars = sandbox.get(LIST, headers=bearer(body["access_token"])).json()["items"]
    assert calendars[0]["id"] == user["email"] and calendars[0]["primary"] is True


def test_access_tokens_live_an_hour_and_refresh_without_rotating(
    sandbox: TestClient, user: dict, clock: Clock
):
    assert sandbox.get(LIST).status_code == 401
    assert sandbox.get(LIST, headers=bearer(user["access_token"])).status_code == 200
    clock.advance(3600)
    expired = sandbox.get(LIST, headers=bearer(user["access_token"]))
    assert expired.status_code == 401
    assert expired.json()["error"]["errors"][0]["reason"] == "authError"

    refreshed = token_call(sandbox, grant_type="refresh_token", refresh_token=user["refresh_token"])
    assert refreshed.status_code == 200 and "refresh_token" not in refreshed.json()
    assert sandbox.get(LIST, headers=bearer(refreshed.json()["access_token"])).status_code == 200

    bad_client = sandbox.post(
        f"{G}/token",
        data={
            "client_id": CLIENT_ID,
            "client_secret": "nope",
            "grant_type": "refresh_token",
            "refresh_token": "x",
        },
    )
    assert bad_client.status_code == 401 and bad_client.json()["error"] == "invalid_client"


def test_admin_expiry_and_revocation(sandbox: TestClient, user: dict):
    email = user["email"]
    assert sandbox.post(f"{ADMIN}/accounts/{email}/tokens/expire").status_code == 200
    assert sandbox.get(LIST, headers=bearer(user["access_token"])).status_code == 401
    refreshed = token_call(sandbox, grant_type="refresh_token", refresh_token=user["refresh_token"]).json()
    assert sandbox.get(LIST, headers=bearer(refreshed["access_token"])).status_code == 200

    assert sandbox.post(f"{G}/revoke", data={"token": user["refresh_token"]}).status_code == 200
    gone = token_call(sandbox, grant_type="refresh_token", refresh_token=user["refresh_token"])
    assert gone.status_code == 400 and gone.json()["error"] == "invalid_grant"
    assert sandbox.get(LIST, headers=bearer(refreshed["access_token"])).status_code == 401


def test_consent_without_a_browser_and_scopes(sandbox: TestClient, user: dict):
    email = user["email"]
    readonly = sandbox.post(
        f"{ADMIN}/accounts/{email}/consent",
        json={"scope": "https://www.googleapis.com/auth/calendar.readonly", "redirect_uri": REDIRECT},
    ).json()
    exchanged = token_call(
        sandbox, grant_type="authorization_code", code=readonly["code"], redirect_uri=REDIRECT
    )
    assert exchanged.status_code == 200 and exchanged.json()["scope"].endswith("calendar.readonly")
    events = f"{G}/calendar/v3/calendars/primary/events"
    assert sandbox.get(events, headers=bearer(readonly["access_token"])).status_code == 200
    write = sandbox.post(
        events,
        json={"summary": "x", "start": {"date": "2026-12-01"}, "end": {"date": "2026-12-02"}},
        headers=bearer(readonly["access_token"]),
    )
    assert (
        write.status_code == 403 and write.json()["error"]["errors"][0]["reason"] == "insufficientPermissions"
    )


@pytest.mark.parametrize(("status", "retry_after"), [(403, None), (429, 7)])
def test_per_user_quota(sandbox: TestClient, user: dict, clock: Clock, status: int, retry_after: int | None):
    email = user["email"]
    limits = {"requests_per_minute": 3, "rate_limit_status": status}
    limits |= {"retry_after_seconds": retry_after} if retry_after else {"clear_retry_after": True}
    assert sandbox.put(f"{ADMIN}/accounts/{email}/limits", json=limits).status_code == 200
    for _ in range(3):
        assert sandbox.get(LIST, headers=bearer(user["access_token"])).status_code == 200
    refused = sandbox.get(LIST, headers=bearer(user["access_token"]))
    assert refused.status_code == status
    assert refused.json()["error"]["errors"][0] == {
        "domain": "usageLimits",
        "reason": "rateLimitExceeded",
        "message": "Rate Limit Exceeded",
    }
    assert refused.headers.get("retry-after") == (str(retry_after) if retry_after else None)
    clock.advance(61)
    assert sandbox.get(LIST, headers=bearer(user["access_token"])).status_code == 200
    stats = sandbox.get(f"{ADMIN}/accounts/{email}/stats").json()
    assert stats["by_status"] == {"200": 4, str(status): 1}


def test_injected_faults_hit_only_their_user(sandbox: TestClient, user: dict):
    email = user["email"]
    fault = {"kind": "503", "realm": email, "path_contains": "/calendarList", "times": 2}
    assert sandbox.post(f"{ADMIN}/faults", json=fault).status_code == 201
    demo = sandbox.post(f"{ADMIN}/accounts/demo.staff@firmsync.example/consent").json()
    assert sandbox.get(LIST, headers=bearer(demo["access_token"])).status_code == 200
    first = sandbox.get(LIST, headers=bearer(user["access_token"]))
    assert first.status_code == 503 and first.json()["error"]["errors"][0]["reason"] == "backendError"
    assert sandbox.get(LIST, headers=bearer(user["access_token"])).status_code == 503
    assert sandbox.get(LIST, headers=bearer(user["access_token"])).status_code == 200


def test_discovery_document_points_at_the_sandbox(sandbox: TestClient):
    document = sandbox.get(f"{G}/discovery/v1/apis/calendar/v3/rest").json()
    assert document["rootUrl"] == "http://testserver/google/" and document["servicePath"] == "calendar/v3/"
    methods = document["resources"]["events"]["methods"]
    assert methods["list"]["path"] == "calendars/{calendarId}/events"
    assert {"syncToken", "pageToken", "singleEvents", "timeMin"} <= set(methods["list"]["parameters"])
    assert methods["update"]["httpMethod"] == "PUT" and methods["update"]["request"] == {"$ref": "Event"}
