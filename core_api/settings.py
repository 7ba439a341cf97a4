"""Settings from the environment, validated once at start-up.

Every variable is listed in `.env.example`. A missing or malformed one stops the process with one line
per problem (see `load_settings`), never a traceback.
"""

from __future__ import annotations

import sys
import uuid
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from cryptography.fernet import Fernet
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.oauth import OAuthApp

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
    # The sandbox over https, for the vendors whose SDKs insist on it (Microsoft, Salesforce), and the CA
    # file that trusts it; the demo firm's connections to those vendors carry it as their ca_bundle.
    sandbox_tls_url: str = "https://localhost:8943"
    sandbox_ca_bundle: str | None = None
    # The demo firm's Active Directory: `make run` starts slapd playing a domain and sets this to the
    # connection body ({"config": …, "credentials": …}); unset, the demo firm has no directory connection.
    demo_directory: dict[str, Any] | None = None
    cors_origins: list[str] = []
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")
    # Observability (ADR 0019). Logs: text for people (dev), json for machines (deploy).
    log_format: Literal["text", "json"] = "text"
    # OpenTelemetry traces go to this OTLP/HTTP collector (the standard variable); unset, none are made.
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        validation_alias=AliasChoices("OTEL_EXPORTER_OTLP_ENDPOINT", "FIRMSYNC_OTEL_EXPORTER_OTLP_ENDPOINT"),
        pattern=r"^https?://\S+$",
    )
    otel_service_name: str = Field(
        default="firmsync-api",
        validation_alias=AliasChoices("OTEL_SERVICE_NAME", "FIRMSYNC_OTEL_SERVICE_NAME"),
    )
    # Unexpected errors go to Sentry when set (secrets scrubbed before sending); unset, Sentry is off.
    sentry_dsn: SecretStr | None = None
    sentry_environment: str = "development"

    # Webhook intake (POST /webhooks/{provider}): limits applied before anything is verified or stored.
    webhook_max_body_bytes: int = Field(default=1024 * 1024, gt=0)
    # Per provider, per API process: a token bucket refilling at this rate, bursting up to `burst`.
    webhook_rate_limit_per_minute: int = Field(default=600, gt=0)
    webhook_rate_limit_burst: int = Field(default=60, gt=0)
    # Per-provider overrides of the per-minute rate, e.g. {"stripe": 1200}.
    webhook_rate_limits: dict[str, int] = {}
    # Stripe and Slack sign a timestamp; further than this from now is refused as a replay.
    webhook_timestamp_tolerance_seconds: int = Field(default=300, gt=0, le=3600)
    # The public origin vendors call (e.g. https://api.example.com) when a proxy rewrites scheme or host:
    # Square and Twilio sign the URL. Unset: the URL the request arrived on.
    webhook_public_base_url: str | None = Field(default=None, pattern=r"^https?://[^/?#]+(/[^?#]*)?$")

    # Document storage (S3 through boto3). Empty endpoint → AWS; `make run` and the tests point it at moto.
    s3_endpoint_url: str = Field(default="", pattern=r"^(https?://\S+)?$")
    s3_bucket: str = Field(default="firmsync-documents", pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    s3_region: str = "us-east-1"
    # Empty → boto3's default credential chain (instance role, AWS_* variables, ~/.aws).
    s3_access_key_id: SecretStr = SecretStr("")
    s3_secret_access_key: SecretStr = SecretStr("")
    # Lifetime of presigned upload and download URLs.
    s3_presign_expiry_seconds: int = Field(default=300, gt=0, le=7 * 24 * 3600)
    # Dev only: create the bucket at API start-up if it is missing (production buckets are provisioned).
    s3_create_bucket: bool = False

    # OAuth connect flows (`POST /connections/oauth/{provider}/start`): the platform's registered app per
    # provider, as JSON: {"xero": {"client_id": "…", "client_secret": "…", "config": {<base URLs>}}}.
    # A provider missing here cannot be connected through OAuth (its connect button says so).
    oauth_apps: dict[str, OAuthApp] = {}
    # Public origin of this API as the vendor redirects the browser to it; callbacks are
    # {oauth_redirect_base_url}/api/v1/oauth/{provider}/callback and must be registered with the vendor.
    oauth_redirect_base_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^/?#]+$")
    # Where the browser lands after a connect flow (the SPA): {app_url}/integrations?…
    app_url: str = Field(default="http://127.0.0.1:8000", pattern=r"^https?://[^/?#]+(/[^?#]*)?$")
    # The operators' console as browsers reach it; the SPA links runs and assets there for operators.
    dagster_ui_url: str | None = Field(default=None, pattern=r"^https?://[^?#]+$")
    # Lifetime of the console cookie (POST /api/v1/auth/operator-session) that lets a browser through
    # nginx's auth_request to the Dagster UI; each request still re-checks the permission (ADR 0018).
    operator_session_ttl_seconds: int = Field(default=900, ge=60, le=3600)
    # The firms whose members (with operations:console) operate the platform. The Dagster UI shows every
    # firm's runs, so a firm admin of any other firm never gets it. Empty: nobody (ADR 0018).
    operator_firm_ids: list[uuid.UUID] = []
    # How long app.sync_runs keeps each recorded sync (the daily prune_sync_runs job); /metrics' counters are
    # running totals and do not depend on it (migration 0020).
    sync_run_retention_days: int = Field(default=30, ge=1, le=3650)
    # The built SPA (frontend/dist) served at / by this API; missing → the API alone (dev uses Vite's server).
    spa_dir: Path = REPO_ROOT / "frontend" / "dist"
    oauth_session_ttl_seconds: int = Field(default=900, ge=60, le=3600)

    # Security headers (core_api/security/headers.py). HSTS goes out on https requests, or on every response
    # when a TLS-terminating proxy guarantees https (then the app itself sees http).
    https_only: bool = False
    hsts_max_age_seconds: int = Field(default=31536000, ge=0)
    # Login protection (core_api/auth/lockout.py, docs/runbooks/security.md): an account is locked for
    # LOCKOUT_SECONDS after MAX_FAILURES failed sign-ins within FAILURE_WINDOW_SECONDS…
    login_max_failures: int = Field(default=10, ge=1)
    login_failure_window_seconds: int = Field(default=900, gt=0)
    login_lockout_seconds: int = Field(default=900, gt=0)
    # …and each client IP gets a token bucket over login, refresh, signup and invitation acceptance.
    login_rate_limit_per_minute: int = Field(default=60, gt=0)
    login_rate_limit_burst: int = Field(default=30, gt=0)

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

    @field_validator(
        "webhook_public_base_url",
        "demo_directory",
        "dagster_ui_url",
        "otel_exporter_otlp_endpoint",
        "sentry_dsn",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("webhook_rate_limits")
    @classmethod
    def _positive_rates(cls, value: dict[str, int]) -> dict[str, int]:
        bad = sorted(name for name, rate in value.items() if rate <= 0)
        if bad:
            raise ValueError(f"rates must be positive requests per minute (got {', '.join(bad)})")
        return value

    @field_validator("database_url")
    @classmethod
    def _postgres_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("postgresql", "postgres://")):
            raise ValueError("must be a postgresql:// URL (firmsync runs on PostgreSQL only)")
        return value

    def webhook_rate_for(self, provider: str) -> int:
        return self.webhook_rate_limits.get(provider, self.webhook_rate_limit_per_minute)

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
