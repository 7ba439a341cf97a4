"""Connection credentials in and out of their encrypted column. Nothing here logs a value."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, SecretStr

from core_api.models import Connection
from core_api.security.secrets_box import secrets_box


def reveal(model: BaseModel) -> dict[str, Any]:
    """Plain JSON-able values of a credentials model (model_dump would write masked SecretStr)."""
    out: dict[str, Any] = {}
    for name in type(model).model_fields:
        value = getattr(model, name)
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        elif isinstance(value, BaseModel):
            value = reveal(value)
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        out[name] = value
    return out


def seal_credentials(connection: Connection, credentials: BaseModel) -> None:
    connection.credentials_encrypted = secrets_box().seal(reveal(credentials))


def open_credentials(connection: Connection) -> dict[str, Any]:
    if connection.credentials_encrypted is None:
        raise ValueError(f"connection {connection.id} has no stored credentials")
    return secrets_box().open(connection.credentials_encrypted)
