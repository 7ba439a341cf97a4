"""The authorization-code flow, as every OAuth provider's connector offers it to the API.

The platform is the OAuth app: its client id and secret (`OAuthApp`) come from settings, not from the
firm. A provider's `OAuthFlow` turns the vendor's callback into tokens and the accounts the grant covers
(a QuickBooks realm; Xero organisations from its connections endpoint), then builds a connection's
config and credentials for the one account the firm picks.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from connectors.base import TokenSet


class OAuthApp(BaseModel):
    """The platform's registered app at one provider, and where that provider lives (sandbox or real)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1, max_length=200)
    client_secret: SecretStr
    # Connection-config fields every connection made through this app gets (base URLs, environment).
    config: dict[str, Any] = Field(default_factory=dict)


@dataclass(frozen=True)
class OAuthAccount:
    id: str
    name: str


@dataclass(frozen=True)
class OAuthGrant:
    tokens: TokenSet
    accounts: tuple[OAuthAccount, ...]


@dataclass(frozen=True)
class OAuthFlow:
    """One provider's authorization-code flow. Every call may raise a `connectors.base.ConnectorError`."""

    pkce: bool
    # (app, redirect_uri, state, code_challenge or None) → the URL the browser is sent to
    authorization_url: Callable[[OAuthApp, str, str, str | None], str]
    # (app, callback query parameters, redirect_uri, code_verifier or None) → tokens + accounts
    exchange: Callable[[OAuthApp, Mapping[str, str], str, str | None], OAuthGrant]
    # (app, chosen account, tokens) → (config model, credentials model) of the new connection
    connection: Callable[[OAuthApp, OAuthAccount, TokenSet], tuple[BaseModel, BaseModel]]
    # (config model, credentials model) → None: the grant is revoked at the vendor
    revoke: Callable[[BaseModel, BaseModel], None]


def code_challenge(verifier: str) -> str:
    """S256: BASE64URL(SHA256(verifier)) without padding (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge) per RFC 7636."""
    verifier = secrets.token_urlsafe(64)[:96]
    return verifier, code_challenge(verifier)
