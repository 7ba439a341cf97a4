"""The QuickBooks connect flow (connectors/quickbooks/oauth.py) against the QuickBooks sandbox's Intuit
OAuth endpoints, over real HTTP through intuit-oauth."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.base import AuthError, PermanentError, RetryPolicy
from connectors.quickbooks import QuickBooksClient, QuickBooksConfig, QuickBooksCredentials, oauth

from .conftest import QuickBooksSandbox

pytestmark = pytest.mark.timeout(60)

FAST = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, max_retry_after=5.0)
REDIRECT = "https://app.firmsync.example/connections/quickbooks/callback"


def test_connect_exchange_use_and_revoke(qbo_sandbox: QuickBooksSandbox) -> None:
    grant = qbo_sandbox.admin("POST", "/realms", json={"customers": 3, "seed": 11})
    discovery = f"{qbo_sandbox.quickbooks_url}/.well-known/openid_sandbox_configuration"

    url = oauth.authorization_url(grant["client_id"], discovery, REDIRECT, "state-7f3a", retry_policy=FAST)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(f"{qbo_sandbox.quickbooks_url}/connect/oauth2?")
    assert query["state"] == ["state-7f3a"] and query["redirect_uri"] == [REDIRECT]
    assert query["scope"] == ["com.intuit.quickbooks.accounting"] and query["response_type"] == ["code"]

    # The firm approves (the sandbox skips the consent screen) and Intuit redirects back.
    answer = httpx.get(f"{url}&realmId={grant['realm_id']}", follow_redirects=False, timeout=10)
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert back["state"] == ["state-7f3a"] and back["realmId"] == [grant["realm_id"]]

    tokens = oauth.exchange_code(
        grant["client_id"],
        grant["client_secret"],
        discovery,
        back["code"][0],
        REDIRECT,
        grant["realm_id"],
        retry_policy=FAST,
    )
    assert tokens.access_token and tokens.refresh_token and tokens.access_expires_at is not None
    with pytest.raises(PermanentError, match="invalid_grant"):  # a code is good once
        oauth.exchange_code(
            grant["client_id"],
            grant["client_secret"],
            discovery,
            back["code"][0],
            REDIRECT,
            grant["realm_id"],
            retry_policy=FAST,
        )

    config = QuickBooksConfig(
        realm_id=grant["realm_id"],
        client_id=grant["client_id"],
        environment="sandbox",
        api_base_url=qbo_sandbox.quickbooks_url,
        discovery_url=discovery,
    )
    credentials = QuickBooksCredentials(
        client_secret=grant["client_secret"],
        refresh_token=tokens.refresh_token,
        access_token=tokens.access_token,
        access_token_expires_at=tokens.access_expires_at,
    )
    with QuickBooksClient(config, credentials, on_tokens=lambda _: None, retry_policy=FAST) as client:
        assert client.count_customers() == 3

    oauth.revoke(
        grant["client_id"], grant["client_secret"], discovery, tokens.refresh_token, retry_policy=FAST
    )
    stale = credentials.model_copy(update={"access_token": None})
    with (
        QuickBooksClient(config, stale, on_tokens=lambda _: None, retry_policy=FAST) as client,
        pytest.raises(AuthError),
    ):
        client.count_customers()


def test_a_wrong_client_secret_is_refused(qbo_sandbox: QuickBooksSandbox) -> None:
    grant = qbo_sandbox.admin("POST", "/realms", json={"customers": 0})
    discovery = f"{qbo_sandbox.quickbooks_url}/.well-known/openid_sandbox_configuration"
    with pytest.raises(PermanentError, match="invalid_client"):
        oauth.exchange_code(
            grant["client_id"],
            "not-the-secret",
            discovery,
            "any-code",
            REDIRECT,
            grant["realm_id"],
            retry_policy=FAST,
        )
