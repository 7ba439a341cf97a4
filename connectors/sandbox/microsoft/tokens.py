"""Identity-platform tokens: signed, self-describing (no table), so a restarted sandbox still accepts them.

Refresh tokens rotate: every refresh_token grant returns a new one. Entra ID lets an old one live on until it
expires; the sandbox is stricter and spends each refresh token on use (in memory), so a client that forgets
to persist the rotated token finds out at once instead of 90 days later.
"""

import secrets
from dataclasses import dataclass

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.signed_tokens import InvalidToken, TokenSigner


class TokenRefused(Exception):
    pass


@dataclass(frozen=True)
class Grant:
    tenant_id: str
    client_id: str
    user_id: str | None  # None: an app-only token (client credentials)
    scope: str
    issued_at: float


class MicrosoftTokens:
    def __init__(self, secret: str, clock: Clock) -> None:
        self.clock = clock
        self._access = TokenSigner(secret, "microsoft-access", "EwA.")
        self._refresh = TokenSigner(secret, "microsoft-refresh", "M.C5.")
        self._code = TokenSigner(secret, "microsoft-code", "0.AX.")
        self._spent: set[str] = set()  # refresh-token and code ids used once already

    def _claims(self, grant: Grant, ttl: int) -> dict:
        now = self.clock.now()
        return {
            "tid": grant.tenant_id,
            "aud": grant.client_id,
            "oid": grant.user_id,
            "scp": grant.scope,
            "iat": now,
            "exp": now + ttl,
            "jti": secrets.token_hex(8),
        }

    def access_token(self, grant: Grant, ttl: int) -> str:
        return self._access.sign(self._claims(grant, ttl))

    def refresh_token(self, grant: Grant, ttl: int) -> str:
        return self._refresh.sign(self._claims(grant, ttl))

    def code(self, grant: Grant, ttl: int, **extra: str | None) -> str:
        return self._code.sign(self._claims(grant, ttl) | extra)

    def _verify(self, signer: TokenSigner, token: str, *, spend: bool) -> dict:
        try:
            claims = signer.verify(token)
        except InvalidToken as error:
            raise TokenRefused(str(error)) from None
        if claims["exp"] <= self.clock.now():
            raise TokenRefused("expired")
        if spend:
            if claims["jti"] in self._spent:
                raise TokenRefused("already redeemed")
            self._spent.add(claims["jti"])
        return claims

    def verify_access(self, token: str) -> dict:
        return self._verify(self._access, token, spend=False)

    def redeem_refresh(self, token: str) -> dict:
        return self._verify(self._refresh, token, spend=True)

    def redeem_code(self, code: str) -> dict:
        return self._verify(self._code, code, spend=True)

    @staticmethod
    def grant_of(claims: dict) -> Grant:
        return Grant(claims["tid"], claims["aud"], claims["oid"], claims["scp"], claims["iat"])
