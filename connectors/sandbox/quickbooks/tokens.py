"""Intuit OAuth2 tokens: authorization codes, rotating refresh tokens, short-lived access tokens.

Tokens are HMAC-signed claim sets (see common.signed_tokens), so they outlive a sandbox restart. What
must be remembered lives in memory only: codes already redeemed, refresh tokens already rotated away,
revoked grants, and per-realm "revoked before" instants.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.signed_tokens import InvalidToken, TokenSigner

CODE, REFRESH, ACCESS = "code", "refresh", "access"
_PREFIXES = {CODE: "sbx-ac-", REFRESH: "sbx-rt-", ACCESS: "sbx-at-"}


class OAuthError(Exception):
    """An RFC 6749 error answer from the token endpoint."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status, self.error, self.description = status, error, description


class AccessDenied(Exception):
    """An access token the data API must refuse; the message becomes the fault's detail."""


@dataclass(frozen=True)
class Claims:
    kind: str
    realm: str
    client_id: str
    grant: str  # one authorization and every token refreshed from it
    serial: str
    issued_us: int
    expires: float
    scope: str
    redirect_uri: str | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Claims":
        try:
            return cls(
                kind=data["k"],
                realm=data["r"],
                client_id=data["c"],
                grant=data["g"],
                serial=data["s"],
                issued_us=int(data["i"]),
                expires=float(data["e"]),
                scope=data.get("sc", ""),
                redirect_uri=data.get("ru"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidToken("incomplete claims") from exc

    def as_dict(self) -> dict[str, Any]:
        data = {"k": self.kind, "r": self.realm, "c": self.client_id, "g": self.grant, "s": self.serial}
        data.update({"i": self.issued_us, "e": self.expires, "sc": self.scope})
        if self.redirect_uri is not None:
            data["ru"] = self.redirect_uri
        return data


@dataclass(frozen=True)
class IssuedTokens:
    realm: str
    scope: str
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int


class TokenService:
    def __init__(
        self,
        secret: str,
        clock: Clock,
        access_ttl_for: Callable[[str], int],
        refresh_ttl: int,
        code_ttl: int,
        realm_exists: Callable[[str], bool],
    ) -> None:
        self._signers = {
            kind: TokenSigner(secret, f"quickbooks-oauth2-{kind}", prefix)
            for kind, prefix in _PREFIXES.items()
        }
        self._clock = clock
        self._access_ttl_for = access_ttl_for
        self._refresh_ttl = refresh_ttl
        self._code_ttl = code_ttl
        self._realm_exists = realm_exists
        self._spent: set[str] = set()  # serials of redeemed codes and rotated refresh tokens
        self._revoked_grants: set[str] = set()
        self._realm_revoked_before: dict[str, int] = {}

    # -- issuing ---------------------------------------------------------------------------------

    def _sign(
        self, kind: str, realm: str, client_id: str, grant: str, ttl: int, scope: str, **extra: Any
    ) -> str:
        now = self._clock.now()
        claims = Claims(
            kind, realm, client_id, grant, secrets.token_urlsafe(9), int(now * 1e6), now + ttl, scope, **extra
        )
        return self._signers[kind].sign(claims.as_dict())

    def issue_code(self, realm: str, client_id: str, redirect_uri: str, scope: str) -> str:
        grant = secrets.token_urlsafe(9)
        return self._sign(CODE, realm, client_id, grant, self._code_ttl, scope, redirect_uri=redirect_uri)

    def grant(self, realm: str, client_id: str, scope: str, grant: str | None = None) -> IssuedTokens:
        """Tokens for a new authorization (or a refresh of ``grant``)."""
        grant = grant or secrets.token_urlsafe(9)
        access_ttl = self._access_ttl_for(realm)
        return IssuedTokens(
            realm=realm,
            scope=scope,
            access_token=self._sign(ACCESS, realm, client_id, grant, access_ttl, scope),
            expires_in=access_ttl,
            refresh_token=self._sign(REFRESH, realm, client_id, grant, self._refresh_ttl, scope),
            refresh_expires_in=self._refresh_ttl,
        )

    # -- the token endpoint's grants ---------------------------------------------------------------

    def _usable(self, kind: str, token: str, client_id: str) -> Claims:
        try:
            claims = Claims.from_dict(self._signers[kind].verify(token))
        except InvalidToken as exc:
            raise OAuthError(400, "invalid_grant", f"malformed {kind} token") from exc
        if claims.kind != kind or claims.client_id != client_id:
            raise OAuthError(400, "invalid_grant", f"{kind} token was not issued to this client")
        if claims.expires <= self._clock.now():
            raise OAuthError(400, "invalid_grant", f"{kind} token has expired")
        if claims.serial in self._spent:
            raise OAuthError(400, "invalid_grant", f"{kind} token was already used")
        if self._revoked(claims):
            raise OAuthError(400, "invalid_grant", "grant has been revoked")
        if not self._realm_exists(claims.realm):
            raise OAuthError(400, "invalid_grant", "the company this token belongs to no longer exists")
        return claims

    def redeem_code(self, code: str, client_id: str, redirect_uri: str | None) -> IssuedTokens:
        claims = self._usable(CODE, code, client_id)
        if redirect_uri != claims.redirect_uri:
            raise OAuthError(400, "invalid_grant", "redirect_uri does not match the authorization request")
        self._spent.add(claims.serial)
        return self.grant(claims.realm, client_id, claims.scope, claims.grant)

    def refresh(self, refresh_token: str, client_id: str) -> IssuedTokens:
        """Rotate: the presented refresh token is spent; the answer carries its successor."""
        claims = self._usable(REFRESH, refresh_token, client_id)
        self._spent.add(claims.serial)
        return self.grant(claims.realm, client_id, claims.scope, claims.grant)

    # -- revocation --------------------------------------------------------------------------------

    def _revoked(self, claims: Claims) -> bool:
        if claims.grant in self._revoked_grants:
            return True
        return claims.issued_us <= self._realm_revoked_before.get(claims.realm, -1)

    def revoke(self, token: str) -> bool:
        """Revoking any token of a grant disconnects the whole grant, as Intuit's revoke does."""
        for kind, signer in self._signers.items():
            if token.startswith(_PREFIXES[kind]):
                try:
                    claims = Claims.from_dict(signer.verify(token))
                except InvalidToken:
                    return False
                self._revoked_grants.add(claims.grant)
                return True
        return False

    def revoke_realm(self, realm: str) -> None:
        self._realm_revoked_before[realm] = int(self._clock.now() * 1e6)

    # -- the data API ------------------------------------------------------------------------------

    def verify_access(self, token: str) -> Claims:
        try:
            claims = Claims.from_dict(self._signers[ACCESS].verify(token))
        except InvalidToken as exc:
            raise AccessDenied("Malformed bearer token: not a token this server issued") from exc
        if claims.kind != ACCESS:
            raise AccessDenied("Malformed bearer token: not an access token")
        if claims.expires <= self._clock.now():
            raise AccessDenied(f"Token expired: {token[:20]}...")
        if self._revoked(claims):
            raise AccessDenied("Token revoked")
        if not self._realm_exists(claims.realm):
            raise AccessDenied("Token is for a company that no longer exists")
        return claims
