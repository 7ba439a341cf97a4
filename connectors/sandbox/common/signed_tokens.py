"""Self-describing HMAC-signed tokens.

Emulators keep no token table: a token carries its own claims (realm, kind, expiry, ...) and a MAC, so
a restarted sandbox still accepts what it issued before. Only revocations live in memory.
"""

import base64
import binascii
import hashlib
import hmac
import json
from typing import Any


class InvalidToken(Exception):
    """The token is malformed or its signature does not match."""


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """Signs and verifies claim sets; ``purpose`` derives a separate key per vendor and token family."""

    def __init__(self, secret: str, purpose: str, prefix: str = "") -> None:
        self._key = hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()
        self._prefix = prefix

    def sign(self, claims: dict[str, Any]) -> str:
        body = _b64encode(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        return f"{self._prefix}{body}.{self._mac(body)}"

    def verify(self, token: str) -> dict[str, Any]:
        if not token.startswith(self._prefix):
            raise InvalidToken("unknown token format")
        body, _, mac = token[len(self._prefix) :].partition(".")
        if not body or not mac or not hmac.compare_digest(mac, self._mac(body)):
            raise InvalidToken("bad signature")
        try:
            claims = json.loads(_b64decode(body))
        except (ValueError, binascii.Error) as exc:
            raise InvalidToken("undecodable claims") from exc
        if not isinstance(claims, dict):
            raise InvalidToken("claims are not an object")
        return claims

    def _mac(self, body: str) -> str:
        return _b64encode(hmac.new(self._key, f"{self._prefix}{body}".encode(), hashlib.sha256).digest())
