"""What a Xero connection needs (connectors/xero/config.py), its registry entry, and the pure parts of the
connect flow (connectors/xero/oauth.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from pydantic import ValidationError

from connectors import registry
from connectors.base import TokenSet
from connectors.xero import XeroApp, XeroClient, XeroConfig, XeroCredentials
from connectors.xero.oauth import authorization_url, code_challenge, new_pkce, new_state

TENANT = "0c5d0b46-2b7a-4c3e-9d6f-4f1e2a3b4c5d"


def test_defaults_are_xeros_published_endpoints_and_limits() -> None:
    config = XeroConfig(tenant_id=TENANT, client_id="app")
    assert config.accounting_url == "https://api.xero.com/api.xro/2.0"
    assert config.connections_url == "https://api.xero.com/connections"
    assert config.token_url == "https://identity.xero.com/connect/token"
    assert config.authorize_url == "https://login.xero.com/identity/connect/authorize"
    assert config.revocation_url == "https://identity.xero.com/connect/revocation"
    assert (config.requests_per_minute, config.requests_per_day, config.max_concurrent_requests) == (
        60,
        5000,
        5,
    )
    assert {"offline_access", "accounting.transactions", "accounting.contacts", "accounting.settings"} <= set(
        config.scopes
    )
    with pytest.raises(ValidationError):
        XeroConfig(tenant_id=TENANT, client_id="app", requests_per_minute=61)  # more than Xero allows
    with pytest.raises(ValidationError):
        XeroConfig(tenant_id="not-a-guid", client_id="app")


def test_sandbox_urls_and_configs_saved_by_the_webhook_only_connector() -> None:
    sandbox = XeroConfig(
        tenant_id=TENANT,
        client_id="app",
        accounting_url="http://127.0.0.1:8900/xero/api.xro/2.0/",
        token_url="http://127.0.0.1:8900/xero/identity/connect/token",
    )
    assert sandbox.accounting_url == "http://127.0.0.1:8900/xero/api.xro/2.0"  # trailing slash dropped
    # Before the sync client, connections stored one `api_base_url` (the API host) and no settings scope.
    legacy = XeroConfig.model_validate(
        {
            "tenant_id": TENANT,
            "client_id": "app",
            "api_base_url": "https://api.xero.com",
            "scopes": ["offline_access", "accounting.transactions", "accounting.contacts"],
        }
    )
    assert legacy.accounting_url == "https://api.xero.com/api.xro/2.0"
    assert legacy.connections_url == "https://api.xero.com/connections"


def test_credentials_keep_secrets_out_of_reprs_and_take_rotated_tokens() -> None:
    creds = XeroCredentials.model_validate(
        {"client_secret": "s3cret-abc", "refresh_token": "refresh-old", "webhook_key": "hook-key"}
    )
    assert (
        "s3cret-abc" not in repr(creds) and "refresh-old" not in repr(creds) and "hook-key" not in repr(creds)
    )
    with pytest.raises(ValidationError) as error:
        XeroCredentials.model_validate({"client_secret": "s3cret-abc"})
    assert "s3cret-abc" not in str(error.value)
    expires = datetime(2026, 1, 1, 12, 30, tzinfo=UTC)
    rotated = creds.with_tokens(TokenSet("access-new", "refresh-new", expires, None))
    assert rotated.refresh_token.get_secret_value() == "refresh-new"
    assert rotated.access_token is not None and rotated.access_token.get_secret_value() == "access-new"
    assert rotated.expires_at == expires and rotated.webhook_key == creds.webhook_key


def test_registry_entry() -> None:
    spec = registry.get_connector("xero")
    assert spec.config_model is XeroConfig and spec.credentials_model is XeroCredentials
    assert spec.client_factory is XeroClient
    assert spec.streams == ("contacts", "invoices", "payments", "credit_notes", "items", "accounts")
    assert spec.account_id(XeroConfig(tenant_id=TENANT, client_id="app")) == TENANT
    schema = spec.form_schema()
    assert all("title" in field for field in schema["config"]["properties"].values())
    for secret in ("client_secret", "refresh_token", "access_token", "webhook_key"):
        text = str(schema["credentials"]["properties"][secret])
        assert "password" in text, secret


def test_pkce_follows_rfc_7636() -> None:
    # RFC 7636, Appendix B.
    assert (
        code_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    pkce = new_pkce()
    assert 43 <= len(pkce.verifier) <= 128 and set(pkce.verifier) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )
    assert pkce.challenge == code_challenge(pkce.verifier) and pkce.method == "S256"
    assert pkce.verifier not in repr(pkce)
    assert new_pkce().verifier != pkce.verifier and new_state() != new_state()


def test_authorization_url() -> None:
    app = XeroApp(client_id="app-123")
    url = authorization_url(
        app, "https://app.firmsync.example/cb", "st4te", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    assert url.startswith("https://login.xero.com/identity/connect/authorize?")
    assert parse_qs(urlsplit(url).query) == {
        "response_type": ["code"],
        "client_id": ["app-123"],
        "redirect_uri": ["https://app.firmsync.example/cb"],
        "scope": ["offline_access accounting.transactions accounting.contacts accounting.settings"],
        "state": ["st4te"],
        "code_challenge": ["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"],
        "code_challenge_method": ["S256"],
    }
    assert "code_challenge" not in authorization_url(app, "https://app.firmsync.example/cb", "st4te")
