"""JWT access and refresh tokens (HS256, pyjwt). Claims name the user, the firm and the role."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt

from core_api.settings import Settings
from core_api.tenancy import Role

ALGORITHM = "HS256"
ISSUER = "firmsync"
TokenType = Literal["access", "refresh"]


class InvalidTokenError(Exception):
    pass


@dataclass(frozen=True)
class TokenClaims:
    user_id: uuid.UUID
    firm_id: uuid.UUID
    role: Role
    type: TokenType


def issue(settings: Settings, claims: TokenClaims, *, now: datetime | None = None) -> tuple[str, int]:
    """Returns (token, lifetime in seconds)."""
    now = now or datetime.now(UTC)
    ttl = settings.access_token_ttl_seconds if claims.type == "access" else settings.refresh_token_ttl_seconds
    payload = {
        "iss": ISSUER,
        "sub": str(claims.user_id),
        "firm": str(claims.firm_id),
        "role": claims.role.value,
        "typ": claims.type,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
    }
    return jwt.encode(payload, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM), ttl


def decode(settings: Settings, token: str, expected: TokenType) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "firm", "role", "typ"]},
        )
        if payload["typ"] != expected:
            raise InvalidTokenError(f"expected a {expected} token")
        return TokenClaims(
            user_id=uuid.UUID(payload["sub"]),
            firm_id=uuid.UUID(payload["firm"]),
            role=Role(payload["role"]),
            type=expected,
        )
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise InvalidTokenError(str(exc)) from exc
