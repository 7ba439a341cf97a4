"""An RS256 key for OpenID Connect ID tokens, published as a JWKS.

SDKs verify an ID token once, when they receive it, by fetching the issuer's JWKS; so a key made at
start-up (and lost on restart) is enough. It is generated lazily: most runs never ask for one.
"""

import secrets
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm


class OidcSigningKey:
    def __init__(self) -> None:
        self._key: rsa.RSAPrivateKey | None = None
        self.kid = secrets.token_hex(8)

    def _private_key(self) -> rsa.RSAPrivateKey:
        if self._key is None:
            self._key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self._key

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._private_key(), algorithm="RS256", headers={"kid": self.kid})

    def jwks(self) -> dict[str, Any]:
        jwk = RSAAlgorithm.to_jwk(self._private_key().public_key(), as_dict=True)
        return {"keys": [{**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}
