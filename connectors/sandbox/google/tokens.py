"""Google OAuth 2.0 for web server apps (developers.google.com/identity/protocols/oauth2/web-server).

- Authorization codes live 10 minutes (sandbox setting), are single use and remember the redirect URI and
  an optional PKCE challenge (S256 or plain).
- Access tokens live one hour (`expires_in` 3599, as Google answers). They are self-describing and signed,
  so a restarted sandbox still accepts them; revocations and expiries forced through the admin API live
  in memory.
- Refresh tokens come with the code exchange when the authorization asked for `access_type=offline`.
  Google does not rotate them: a refresh answers a new access token and no refresh token. Revoking either
  token of a grant revokes the grant.
"""

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.signed_tokens import InvalidToken, TokenSigner


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


class AccessDenied(Exception):
    """The access token is malformed, expired or revoked: 401."""


@dataclass(frozen=True)
class Grant:
    grant_id: str
    email: str
    client_id: str
    scopes: tuple[str, ...]


@dataclass(frozen=True)
class Issued:
    grant: Grant
    access_token: str
    expires_in: int
    refresh_token: str | None


def _challenge(verifier: str, method: str) -> str:
    if method == "plain":
        return verifier
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class GoogleTokens:
    def __init__(
        self,
        secret: str,
        clock: Clock,
        *,
        access_ttl_for: Callable[[str], int],
        code_ttl: int,
        valid_after: Callable[[str], tuple[float, float]],
    ) -> None:
        # Google's own prefixes: codes "4/…", refresh tokens "1//…", access tokens "ya29.…".
        self._codes = TokenSigner(secret, "google-oauth-code", "4/sbx-")
        self._refresh = TokenSigner(secret, "google-oauth-refresh", "1//sbx-")
        self._access = TokenSigner(secret, "google-oauth-access", "ya29.sbx-")
        self._clock = clock
        self._access_ttl_for = access_ttl_for
        self._code_ttl = code_ttl
        # email -> (access tokens issued at or before this are expired, refresh tokens … are revoked)
        self._valid_after = valid_after
        self._spent_codes: set[str] = set()
        self._revoked_grants: set[str] = set()

    def issue_code(
        self,
        client_id: str,
        redirect_uri: str,
        scopes: tuple[str, ...],
        email: str,
        *,
        offline: bool,
        challenge: str | None,
        challenge_method: str,
    ) -> str:
        return self._codes.sign(
            {
                "n": secrets.token_urlsafe(9),
                "c": client_id,
                "r": redirect_uri,
                "sc": list(scopes),
                "u": email,
                "o": offline,
                "cc": challenge,
                "cm": challenge_method,
                "e": self._clock.now() + self._code_ttl,
            }
        )

    def grant(self, client_id: str, email: str, scopes: tuple[str, ...], *, offline: bool = True) -> Issued:
        """Tokens of a new grant, as the token endpoint answers a code exchange."""
        grant = Grant(secrets.token_hex(8), email, client_id, scopes)
        return self._issue(grant, with_refresh=offline)

    def _issue(self, grant: Grant, *, with_refresh: bool) -> Issued:
        now = self._clock.now()
        ttl = self._access_ttl_for(grant.email)
        claims = {"g": grant.grant_id, "u": grant.email, "c": grant.client_id, "sc": list(grant.scopes)}
        access = self._access.sign({**claims, "i": now, "e": now + ttl, "n": secrets.token_hex(4)})
        refresh = self._refresh.sign({**claims, "i": now}) if with_refresh else None
        # Google says 3599 for an hour: the second it took to answer.
        return Issued(grant, access, max(1, ttl - 1), refresh)

    def redeem_code(
        self, code: str, client_id: str, redirect_uri: str | None, verifier: str | None
    ) -> Issued:
        try:
            claims = self._codes.verify(code)
        except InvalidToken:
            raise OAuthError("invalid_grant", "Malformed auth code.") from None
        if claims["c"] != client_id:
            raise OAuthError("invalid_grant", "Bad Request")
        if claims["e"] <= self._clock.now() or claims["n"] in self._spent_codes:
            raise OAuthError("invalid_grant", "Bad Request")
        if redirect_uri != claims["r"]:
            raise OAuthError("redirect_uri_mismatch", "Bad Request")
        if claims.get("cc"):
            if not verifier:
                raise OAuthError("invalid_grant", "Missing code verifier.")
            if not secrets.compare_digest(_challenge(verifier, claims.get("cm") or "plain"), claims["cc"]):
                raise OAuthError("invalid_grant", "Invalid code verifier.")
        self._spent_codes.add(claims["n"])
        return self.grant(client_id, claims["u"], tuple(claims["sc"]), offline=bool(claims["o"]))

    def refresh(self, token: str, client_id: str) -> Issued:
        try:
            claims = self._refresh.verify(token)
        except InvalidToken:
            raise OAuthError("invalid_grant", "Bad Request") from None
        if claims["c"] != client_id:
            raise OAuthError("unauthorized_client", "Unauthorized")
        _, refresh_after = self._valid_after(claims["u"])
        if claims["g"] in self._revoked_grants or claims["i"] <= refresh_after:
            raise OAuthError("invalid_grant", "Token has been expired or revoked.")
        grant = Grant(claims["g"], claims["u"], claims["c"], tuple(claims["sc"]))
        return self._issue(grant, with_refresh=False)

    def revoke(self, token: str) -> bool:
        for signer in (self._refresh, self._access):
            try:
                claims = signer.verify(token)
            except InvalidToken:
                continue
            self._revoked_grants.add(claims["g"])
            return True
        return False

    def verify_access(self, token: str) -> Grant:
        try:
            claims = self._access.verify(token)
        except InvalidToken:
            raise AccessDenied("malformed") from None
        access_after, _ = self._valid_after(claims["u"])
        if claims["e"] <= self._clock.now() or claims["i"] <= access_after:
            raise AccessDenied("expired")
        if claims["g"] in self._revoked_grants:
            raise AccessDenied("revoked")
        return Grant(claims["g"], claims["u"], claims["c"], tuple(claims["sc"]))

    def email_of(self, token: str) -> str | None:
        """Whose token this is, whether or not it is still good (faults are matched by user)."""
        try:
            return str(self._access.verify(token)["u"])
        except (InvalidToken, KeyError):
            return None
