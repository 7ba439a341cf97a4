"""The Google connect flow (`connectors.google_calendar.oauth.FLOW`) against the sandbox's OAuth endpoints."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from connectors.base import AuthError
from connectors.google_calendar.oauth import FLOW
from connectors.oauth import OAuthApp, pkce_pair

REDIRECT = "http://localhost:8000/api/v1/oauth/google_calendar/callback"


@pytest.fixture
def app(google_sandbox) -> OAuthApp:
    url = google_sandbox.google_url
    return OAuthApp(
        client_id="firmsync-google-sandbox.apps.googleusercontent.com",
        client_secret=SecretStr("firmsync-google-sandbox-secret"),
        config={
            "api_endpoint": f"{url}/calendar/v3/",
            "authorize_url": f"{url}/o/oauth2/v2/auth",
            "token_url": f"{url}/token",
            "revocation_url": f"{url}/revoke",
        },
    )


def test_connect_a_staff_members_calendar_and_revoke_it(app, make_google_user, google_sandbox):
    user = make_google_user(4)
    verifier, challenge = pkce_pair()
    url = FLOW.authorization_url(app, REDIRECT, "state-1", challenge)
    query = parse_qs(urlsplit(url).query)
    assert query["access_type"] == ["offline"] and query["prompt"] == ["consent"]
    assert query["code_challenge_method"] == ["S256"]

    google_sandbox.admin("PUT", "/consent", json={"email": user.email})
    try:
        approved = httpx.get(url, follow_redirects=False, timeout=10)
    finally:
        google_sandbox.admin("PUT", "/consent", json={"email": None})
    callback = {k: v[0] for k, v in parse_qs(urlsplit(approved.headers["location"]).query).items()}
    assert callback["state"] == "state-1"

    with pytest.raises(AuthError):
        FLOW.exchange(app, callback, REDIRECT, "wrong-verifier-" + "x" * 40)
    grant = FLOW.exchange(app, callback, REDIRECT, verifier)
    assert [account.id for account in grant.accounts] == [user.email]
    assert grant.tokens.refresh_token and grant.tokens.access_expires_at is not None

    config, credentials = FLOW.connection(app, grant.accounts[0], grant.tokens)
    assert config.account_email == user.email and config.calendar_ids == (user.email,)
    client = user.client(credentials=credentials, config=config)
    assert len([r for page in client.pages(None) for r in page.records]) == 4

    FLOW.revoke(config, credentials)
    fresh = user.client(credentials=credentials.model_copy(update={"access_token": None}), config=config)
    with pytest.raises(AuthError):
        fresh.list_calendars()
