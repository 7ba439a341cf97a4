"""The operators' console cookie: a short-lived JWT scoped to one purpose (audience "dagster-ui").

Browsers cannot attach the SPA's bearer token to a plain navigation to /dagster, so an operator's SPA trades
it for this cookie (POST /api/v1/auth/operator-session); nginx's auth_request asks core_api about every
console request, and the permission is re-checked against the database each time (ADR 0018). The token is
useless elsewhere: the API's bearer decoding requires typ "access"/"refresh" and no audience.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from core_api.security.tokens import ALGORITHM, ISSUER, InvalidTokenError
from core_api.settings import Settings

AUDIENCE = "dagster-ui"
TYPE = "console"
COOKIE_NAME = "firmsync_console"


@dataclass(frozen=True)
class ConsoleClaims:
    user_id: uuid.UUID
    firm_id: uuid.UUID


def issue(settings: Settings, claims: ConsoleClaims, *, now: datetime | None = None) -> tuple[str, int]:
    """Returns (token, lifetime in seconds)."""
    now = now or datetime.now(UTC)
    ttl = settings.operator_session_ttl_seconds
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(claims.user_id),
        "firm": str(claims.firm_id),
        "typ": TYPE,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + timedelta(seconds=ttl),
    }
    return jwt.encode(payload, settings.jwt_secret.get_secret_value(), algorithm=ALGORITHM), ttl


def decode(settings: Settings, token: str) -> ConsoleClaims:
    try:
        payload = jwt.decode(
            token,
            settings.jwt_secret.get_secret_value(),
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            audience=AUDIENCE,
            options={"require": ["exp", "iat", "sub", "firm", "typ", "aud"]},
        )
        if payload["typ"] != TYPE:
            raise InvalidTokenError("not a console token")
        return ConsoleClaims(user_id=uuid.UUID(payload["sub"]), firm_id=uuid.UUID(payload["firm"]))
    except (jwt.PyJWTError, ValueError, KeyError) as exc:
        raise InvalidTokenError(str(exc)) from exc
