"""Encryption at rest for connection credentials (MultiFernet: the first key encrypts, all decrypt).

Rotation: prepend a new key to FIRMSYNC_ENCRYPTION_KEYS, then `rotate()` re-encrypts stored values.
"""

from __future__ import annotations

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from core_api.settings import get_settings


class SecretsBox:
    def __init__(self, keys: list[str]) -> None:
        self._fernet = MultiFernet([Fernet(k) for k in keys])

    def seal(self, value: dict) -> bytes:
        return self._fernet.encrypt(json.dumps(value, separators=(",", ":")).encode())

    def open(self, token: bytes) -> dict:
        try:
            return json.loads(self._fernet.decrypt(token))
        except InvalidToken as exc:
            raise ValueError("credentials cannot be decrypted with the configured keys") from exc

    def rotate(self, token: bytes) -> bytes:
        return self._fernet.rotate(token)


@lru_cache
def secrets_box() -> SecretsBox:
    return SecretsBox(get_settings().encryption_key_list)
