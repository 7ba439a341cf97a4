"""Xero OAuth 2.0 tokens (developer.xero.com/documentation/guides/oauth2/auth-flow).

- Authorization codes live 5 minutes, are single use, remember the redirect URI and an optional PKCE
  challenge (S256), which the token endpoint verifies.
- Access tokens are JWTs valid 30 minutes. They carry Xero's claims (``authentication_event_id``,
  ``xero_userid``, ``scope`` …) plus ``sbx_tenants``, the tenants the consent covered.
- Refresh tokens (only with ``offline_access``) rotate on every use and expire after 60 days. Xero's
  documented grace rule: if the answer to a refresh is lost, the previous refresh token may be used
  again for 30 minutes after its first use; after that it is ``invalid_grant``.
- Revoking a refresh token revokes the whole consent (every token issued from it, and its
  connections); an admin can revoke every consent covering a tenant.

Tokens are self-describing (signed with SANDBOX_SECRET), so a restarted sandbox accepts what it
issued. Spent, revoked and disconnected state is kept in memory only.
"""

import base64
import hashlib
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import jwt

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.signed_tokens import InvalidToken, TokenSigner

ISSUER = "https://identity.xero.com"
AUDIENCE = "https://identity.xero.com/resources"
CONNECTION_NAMESPACE = uuid.UUID("6f1d9a52-3c4b-4e8a-9d27-5b0c1e2f3a4d")


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error, self.description, self.status = error, description, status


class AccessDenied(Exception):
    """The bearer token cannot be used; the message is the problem's Detail."""


@dataclass(frozen=True)
class Consent:
    """One authorization (Xero's authentication event) and what it granted."""

    grant_id: str  # authentication_event_id
    user_id: str
    client_id: str
    scope: tuple[str, ...]
    tenants: tuple[str, ...]
    auth_time: int
    issued_us: int  # when the token carrying these claims was issued
    public: bool = False  # consented through PKCE without a client secret: refreshes without one too


@dataclass(frozen=True)
class Issued:
    consent: Consent
    access_token: str
    expires_in: int
    refresh_token: str | None


@dataclass(frozen=True)
class Connection:
    id: str
    tenant_id: str
    auth_event_id: str
    created_ms: int


def pkce_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class XeroTokens:
    def __init__(
        self,
        secret: str,
        clock: Clock,
        *,
        access_ttl_for: Callable[[tuple[str, ...]], int],
        refresh_ttl: int,
        code_ttl: int,
        grace_seconds: int,
        tenant_exists: Callable[[str], bool],
    ) -> None:
        self._codes = TokenSigner(secret, "xero-oauth2-code", "sbx-xac-")
        self._refresh = TokenSigner(secret, "xero-oauth2-refresh", "sbx-xrt-")
        self._jwt_key = hashlib.sha256(f"xero-access:{secret}".encode()).digest()
        self._clock = clock
        self._access_ttl_for = access_ttl_for
        self._refresh_ttl = refresh_ttl
        self._code_ttl = code_ttl
        self._grace = grace_seconds
        self._tenant_exists = tenant_exists
        self._spent_codes: set[str] = set()
        self._rotated: dict[str, float] = {}  # refresh serial -> when it was first used
        self._revoked_grants: set[str] = set()
        self._tenant_revoked_before: dict[str, int] = {}
        self._disconnected: set[tuple[str, str]] = set()  # (grant, tenant)

    def _now_us(self) -> int:
        return int(self._clock.now() * 1e6)

    # -- issuing ---------------------------------------------------------------------------------

    def issue_code(
        self,
        client_id: str,
        redirect_uri: str,
        scope: tuple[str, ...],
        tenants: tuple[str, ...],
        code_challenge: str | None,
    ) -> str:
        now = self._clock.now()
        return self._codes.sign(
            {
                "k": "code",
                "s": secrets.token_urlsafe(9),
                "c": client_id,
                "ru": redirect_uri,
                "sc": list(scope),
                "t": list(tenants),
                "cc": code_challenge,
                "e": now + self._code_ttl,
            }
        )

    def grant(
        self, client_id: str, scope: tuple[str, ...], tenants: tuple[str, ...], public: bool = False
    ) -> Issued:
        """Tokens for a new consent (as the token endpoint answers after the user approved)."""
        now_us = self._now_us()
        consent = Consent(
            str(uuid.uuid4()), str(uuid.uuid4()), client_id, scope, tenants, now_us // 10**6, now_us, public
        )
        return self._issue(consent)

    def _issue(self, consent: Consent) -> Issued:
        now = self._clock.now()
        ttl = self._access_ttl_for(consent.tenants)
        claims = {
            "nbf": int(now),
            "exp": int(now) + ttl,
            "iss": ISSUER,
            "aud": AUDIENCE,
            "client_id": consent.client_id,
            "sub": consent.user_id.replace("-", ""),
            "auth_time": consent.auth_time,
            "xero_userid": consent.user_id,
            "global_session_id": consent.grant_id.replace("-", ""),
            "sid": consent.grant_id.replace("-", ""),
            "jti": secrets.token_hex(16),
            "authentication_event_id": consent.grant_id,
            "scope": list(consent.scope),
            "sbx_tenants": list(consent.tenants),
            "sbx_iat_us": consent.issued_us,
            "sbx_exp": now + ttl,
        }
        access = jwt.encode(claims, self._jwt_key, algorithm="HS256", headers={"kid": "sandbox"})
        refresh = None
        if "offline_access" in consent.scope:
            refresh = self._refresh.sign(
                {
                    "k": "refresh",
                    "s": secrets.token_urlsafe(9),
                    "g": consent.grant_id,
                    "u": consent.user_id,
                    "c": consent.client_id,
                    "sc": list(consent.scope),
                    "t": list(consent.tenants),
                    "at": consent.auth_time,
                    "i": consent.issued_us,
                    "p": consent.public,
                    "e": now + self._refresh_ttl,
                }
            )
        return Issued(consent, access, ttl, refresh)

    # -- the token endpoint's grants ---------------------------------------------------------------

    def redeem_code(
        self, code: str, client_id: str, redirect_uri: str | None, verifier: str | None, public: bool
    ) -> Issued:
        try:
            claims = self._codes.verify(code)
        except InvalidToken as exc:
            raise OAuthError("invalid_grant", "malformed authorization code") from exc
        if claims.get("c") != client_id:
            raise OAuthError("invalid_grant", "the code was not issued to this client")
        if claims["e"] <= self._clock.now():
            raise OAuthError("invalid_grant", "the authorization code has expired")
        if claims["s"] in self._spent_codes:
            raise OAuthError("invalid_grant", "the authorization code was already used")
        if redirect_uri != claims["ru"]:
            raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
        if public and not claims.get("cc"):
            raise OAuthError("invalid_client", "client authentication failed")
        if claims.get("cc"):
            if not verifier:
                raise OAuthError("invalid_grant", "code_verifier is required")
            if not secrets.compare_digest(pkce_challenge(verifier), claims["cc"]):
                raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
        self._spent_codes.add(claims["s"])
        return self.grant(client_id, tuple(claims["sc"]), tuple(claims["t"]), public)

    def refresh(self, token: str, client_id: str, public: bool) -> Issued:
        try:
            claims = self._refresh.verify(token)
        except InvalidToken as exc:
            raise OAuthError("invalid_grant", "malformed refresh token") from exc
        if claims.get("c") != client_id:
            raise OAuthError("invalid_grant", "the refresh token was not issued to this client")
        if public and not claims.get("p"):
            raise OAuthError("invalid_client", "client authentication failed")
        now = self._clock.now()
        if claims["e"] <= now:
            raise OAuthError("invalid_grant", "the refresh token has expired")
        first_used = self._rotated.get(claims["s"])
        if first_used is not None and now - first_used > self._grace:
            raise OAuthError("invalid_grant", "the refresh token was already used")
        consent = Consent(
            claims["g"],
            claims["u"],
            client_id,
            tuple(claims["sc"]),
            tuple(claims["t"]),
            claims["at"],
            claims["i"],
            bool(claims.get("p")),
        )
        if self._revoked(consent):
            raise OAuthError("invalid_grant", "the grant has been revoked")
        self._rotated.setdefault(claims["s"], now)
        return self._issue(replace(consent, issued_us=self._now_us()))

    # -- revocation and connections ------------------------------------------------------------------

    def _revoked(self, consent: Consent) -> bool:
        if consent.grant_id in self._revoked_grants:
            return True
        return any(consent.issued_us <= self._tenant_revoked_before.get(t, -1) for t in consent.tenants)

    def revoke(self, token: str) -> bool:
        """Revoking a refresh token ends its consent: every token of it, and its connections."""
        try:
            claims = self._refresh.verify(token)
        except InvalidToken:
            return False
        self._revoked_grants.add(claims["g"])
        return True

    def revoke_tenant(self, tenant_id: str) -> None:
        """Every consent covering the tenant, issued until now, is revoked (the app disconnected)."""
        self._tenant_revoked_before[tenant_id] = self._now_us()

    def connections(self, consent: Consent) -> list[Connection]:
        return [
            Connection(
                str(uuid.uuid5(CONNECTION_NAMESPACE, f"{consent.grant_id}:{tenant}")),
                tenant,
                consent.grant_id,
                consent.auth_time * 1000,
            )
            for tenant in consent.tenants
            if (consent.grant_id, tenant) not in self._disconnected and self._tenant_exists(tenant)
        ]

    def disconnect(self, consent: Consent, connection_id: str) -> bool:
        for connection in self.connections(consent):
            if connection.id == connection_id.lower():
                self._disconnected.add((consent.grant_id, connection.tenant_id))
                return True
        return False

    def may_use(self, consent: Consent, tenant_id: str) -> bool:
        return any(c.tenant_id == tenant_id for c in self.connections(consent))

    # -- the API ----------------------------------------------------------------------------------

    def verify_access(self, token: str) -> Consent:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._jwt_key,
                algorithms=["HS256"],
                audience=AUDIENCE,
                options={"verify_exp": False, "verify_nbf": False},
            )
            consent = Consent(
                claims["authentication_event_id"],
                claims["xero_userid"],
                claims["client_id"],
                tuple(claims["scope"]),
                tuple(claims["sbx_tenants"]),
                int(claims["auth_time"]),
                int(claims["sbx_iat_us"]),
            )
        except (jwt.InvalidTokenError, KeyError, TypeError, ValueError) as exc:
            raise AccessDenied("AuthenticationUnsuccessful") from exc
        if float(claims.get("sbx_exp", claims["exp"])) <= self._clock.now():
            expired = datetime.fromtimestamp(claims["exp"], UTC).strftime("%m/%d/%Y %H:%M:%S")
            raise AccessDenied(f"TokenExpired: token expired at {expired}")
        if self._revoked(consent):
            raise AccessDenied("AuthenticationUnsuccessful")
        return consent
