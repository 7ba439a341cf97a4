"""Settings from the environment, validated once at start-up.

Every variable is listed in `.env.example`. A missing or malformed one stops the process with one line
per problem (see `load_settings`), never a traceback.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from cryptography.fernet import Fernet
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIRMSYNC_", extra="ignore", case_sensitive=False)

    # Owner connection: migrations and the pipelines' cross-tenant scans. Unset → embedded PostgreSQL.
    database_url: str | None = Field(
        default=None, validation_alias=AliasChoices("DATABASE_URL", "FIRMSYNC_DATABASE_URL")
    )
    # The API's login role: not the table owner, so row-level security applies to it.
    app_db_role: str = Field(default="firmsync_app", pattern=r"^[a-z_][a-z0-9_]{0,62}$")
    app_db_password: SecretStr = SecretStr("firmsync_app")
    data_dir: Path = REPO_ROOT / ".data"

    jwt_secret: SecretStr = Field(min_length=32)
    # Comma-separated Fernet keys; the first encrypts, all decrypt (rotation: prepend a new key).
    encryption_keys: SecretStr
    access_token_ttl_seconds: int = Field(default=900, gt=0)
    refresh_token_ttl_seconds: int = Field(default=14 * 24 * 3600, gt=0)

    demo_email: str = "admin@demo.firmsync.test"
    demo_password: SecretStr = SecretStr("demo-password")
    sandbox_url: str = "http://127.0.0.1:8900"
    cors_origins: list[str] = []
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")

    @field_validator("encryption_keys")
    @classmethod
    def _keys_are_fernet(cls, value: SecretStr) -> SecretStr:
        keys = [k.strip() for k in value.get_secret_value().split(",") if k.strip()]
        if not keys:
            raise ValueError("at least one Fernet key is required")
        for key in keys:
            try:
                Fernet(key)
            except (ValueError, TypeError) as exc:
                raise ValueError("each key must be a url-safe base64 32-byte Fernet key") from exc
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql", "postgres://")):
            raise ValueError("must be a postgresql:// URL (firmsync runs on PostgreSQL only)")
        return value

    @property
    def encryption_key_list(self) -> list[str]:
        return [k.strip() for k in self.encryption_keys.get_secret_value().split(",") if k.strip()]


def _env_name(field: str) -> str:
    info = Settings.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"FIRMSYNC_{field.upper()}"


def describe_errors(exc: ValidationError) -> list[str]:
    """One line per bad variable, naming the environment variable rather than the Python field."""
    lines = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "?"
        name = _env_name(field) if field in Settings.model_fields else field
        problem = "is required but not set" if err["type"] == "missing" else err["msg"]
        lines.append(f"{name}: {problem}")
    return lines


@lru_cache
def get_settings() -> Settings:
    return Settings()  # type: ignore[call-arg]


def load_settings() -> Settings:
    """Start-up entry point: validated settings, or exit(2) with a clear message per variable."""
    try:
        return get_settings()
    except ValidationError as exc:
        print("firmsync: invalid configuration (see .env.example):", file=sys.stderr)
        for line in describe_errors(exc):
            print(f"  {line}", file=sys.stderr)
        raise SystemExit(2) from None
