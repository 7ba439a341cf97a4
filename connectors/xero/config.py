"""What a Xero connection needs: non-secret configuration and secret credentials.

The API validates `POST /connections` bodies with these models and the SPA renders the connect form
from their JSON schema, so every field has a title and a description. Defaults are Xero's production
endpoints (developer.xero.com, "OAuth 2.0" and "Accounting API"); a connection to the local sandbox
overrides the URLs and nothing else.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from connectors.base import TokenSet

ACCOUNTING_URL = "https://api.xero.com/api.xro/2.0"
CONNECTIONS_URL = "https://api.xero.com/connections"
AUTHORIZE_URL = "https://login.xero.com/identity/connect/authorize"
TOKEN_URL = "https://identity.xero.com/connect/token"  # noqa: S105 - a URL, not a secret
REVOCATION_URL = "https://identity.xero.com/connect/revocation"
DEFAULT_SCOPES = (
    "offline_access",
    "accounting.transactions",
    "accounting.contacts",
    "accounting.settings",
)
# Xero's published limits per tenant (organisation) and app: "Xero API rate limits".
REQUESTS_PER_MINUTE = 60
REQUESTS_PER_DAY = 5000
CONCURRENT_REQUESTS = 5

_URL = r"^https?://\S+$"
_GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


class XeroApp(BaseModel):
    """The Xero app and Xero's endpoints: all the OAuth connect flow needs, before any tenant is chosen."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Xero app",
        json_schema_extra={"description": "A Xero app (OAuth 2.0 client) and the endpoints it talks to."},
    )

    client_id: str = Field(
        title="OAuth client ID",
        description="Client ID of the Xero app (developer.xero.com → My Apps).",
        min_length=1,
        max_length=200,
    )
    accounting_url: str = Field(
        default=ACCOUNTING_URL,
        title="Accounting API base URL",
        description="Base URL of the Xero Accounting API, ending in `/api.xro/2.0`.",
        pattern=_URL,
    )
    connections_url: str = Field(
        default=CONNECTIONS_URL,
        title="Connections endpoint",
        description="Xero's connections endpoint, which lists the tenants a grant may reach.",
        pattern=_URL,
    )
    authorize_url: str = Field(
        default=AUTHORIZE_URL,
        title="Authorization endpoint",
        description="Where the firm is sent to approve the app.",
        pattern=_URL,
    )
    token_url: str = Field(
        default=TOKEN_URL,
        title="Token endpoint",
        description="Exchanges codes and refresh tokens for tokens.",
        pattern=_URL,
    )
    revocation_url: str = Field(
        default=REVOCATION_URL,
        title="Revocation endpoint",
        description="Revokes a refresh token (and with it the app's connections) on disconnect.",
        pattern=_URL,
    )
    scopes: tuple[str, ...] = Field(
        default=DEFAULT_SCOPES,
        title="OAuth scopes",
        description="Scopes requested when the firm authorises the app; `offline_access` yields the "
        "refresh token syncing depends on.",
        min_length=1,
    )

    @model_validator(mode="before")
    @classmethod
    def _legacy_api_base_url(cls, data: Any) -> Any:
        # Connections saved while Xero only received webhooks stored one `api_base_url` (the API host).
        if isinstance(data, dict) and "api_base_url" in data:
            data = dict(data)
            host = str(data.pop("api_base_url")).rstrip("/")
            data.setdefault("accounting_url", f"{host}/api.xro/2.0")
            data.setdefault("connections_url", f"{host}/connections")
        return data

    @field_validator("accounting_url", "connections_url", "authorize_url", "token_url", "revocation_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


class XeroConfig(XeroApp):
    """Non-secret settings of one Xero organisation (tenant) reached through one Xero app."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Xero connection",
        json_schema_extra={"description": "Connect one Xero organisation through Xero OAuth 2.0."},
    )

    tenant_id: str = Field(
        title="Tenant ID",
        description="The organisation's tenant ID (a GUID from the connections endpoint); webhook events "
        "name it as `tenantId`.",
        pattern=_GUID,
    )
    requests_per_minute: int = Field(
        default=REQUESTS_PER_MINUTE,
        title="Request limit per minute",
        description="Client-side cap per organisation; Xero publishes 60 calls per minute per tenant.",
        ge=1,
        le=REQUESTS_PER_MINUTE,
    )
    requests_per_day: int = Field(
        default=REQUESTS_PER_DAY,
        title="Request limit per day",
        description="Xero publishes 5,000 calls per day per tenant; the client stops when Xero says the "
        "day is spent.",
        ge=1,
        le=REQUESTS_PER_DAY,
    )
    max_concurrent_requests: int = Field(
        default=CONCURRENT_REQUESTS,
        title="Concurrent requests",
        description="Requests in flight at once per organisation; Xero allows 5.",
        ge=1,
        le=CONCURRENT_REQUESTS,
    )


class XeroCredentials(BaseModel):
    """Secrets of one Xero connection. Stored encrypted; never returned by the API or logged."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Xero credentials", hide_input_in_errors=True
    )

    client_secret: SecretStr = Field(
        title="OAuth client secret",
        description="Client secret of the Xero app.",
        min_length=1,
    )
    refresh_token: SecretStr = Field(
        title="Refresh token",
        description="Refresh token from the OAuth authorisation. Xero rotates it on every refresh.",
        min_length=1,
    )
    access_token: SecretStr | None = Field(
        default=None,
        title="Access token",
        description="Current access token (Xero's live 30 minutes); refreshed automatically otherwise.",
    )
    expires_at: AwareDatetime | None = Field(
        default=None,
        title="Access token expiry",
        description="When the access token expires.",
    )
    webhook_key: SecretStr | None = Field(
        default=None,
        title="Webhooks key",
        description="The app's webhooks key (developer.xero.com → your app → Webhooks). Xero signs every "
        "event with it; without it, webhooks for this organisation are refused.",
    )

    def with_tokens(self, tokens: TokenSet) -> XeroCredentials:
        """These credentials after a refresh: what the caller persists from `on_tokens`."""
        return self.model_copy(
            update={
                "refresh_token": SecretStr(tokens.refresh_token),
                "access_token": SecretStr(tokens.access_token),
                "expires_at": tokens.access_expires_at,
            }
        )


class XeroAccountingMapping(BaseModel):
    """Which account codes and tax types pushed invoices use, chosen by the firm from its own organisation
    (accounts and items are synced for this). Nothing has a built-in default: a chart of accounts is the
    firm's own."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Xero accounting mapping")

    sales_account_code: str = Field(
        title="Sales account code",
        description="Revenue account for invoice lines whose service has no account or item of its own.",
        min_length=1,
        max_length=10,
    )
    service_item_codes: dict[str, str] = Field(
        default_factory=dict,
        title="Item codes per service",
        description="Xero item code per kind of service (the invoice line's `service`).",
    )
    service_account_codes: dict[str, str] = Field(
        default_factory=dict,
        title="Account codes per service",
        description="Revenue account code per kind of service, overriding the sales account.",
    )
    taxed_tax_type: str | None = Field(
        default=None,
        title="Tax type for taxed lines",
        description="Xero TaxType for lines with a tax rate, e.g. OUTPUT2 or TAX001.",
        max_length=50,
    )
    untaxed_tax_type: str | None = Field(
        default=None,
        title="Tax type for untaxed lines",
        description="Xero TaxType for lines without tax, e.g. NONE or EXEMPTOUTPUT.",
        max_length=50,
    )

    def account_for(self, service: str | None) -> str:
        return (
            self.service_account_codes.get(service, self.sales_account_code)
            if service
            else self.sales_account_code
        )

    def item_for(self, service: str | None) -> str | None:
        return self.service_item_codes.get(service) if service else None
