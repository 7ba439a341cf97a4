"""What a QuickBooks Online connection needs: non-secret configuration and secret credentials.

The API validates `POST /connections` bodies with these models and the SPA renders the connect
form from their JSON schema, so every field has a title and a description.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from quickbooks.client import QuickBooks

from connectors.base import TokenSet

PRODUCTION_API_BASE_URL = "https://quickbooks.api.intuit.com"
SANDBOX_API_BASE_URL = "https://sandbox-quickbooks.api.intuit.com"
# intuitlib.config.DISCOVERY_URL; AuthClient accepts any discovery URL as its `environment`.
PRODUCTION_DISCOVERY_URL = "https://developer.intuit.com/.well-known/openid_configuration/"
SANDBOX_DISCOVERY_URL = "https://developer.intuit.com/.well-known/openid_sandbox_configuration/"
ACCOUNTING_SCOPE = "com.intuit.quickbooks.accounting"


class QuickBooksRef(BaseModel):
    """A reference to a QuickBooks list entity (Item, Account, TaxCode): its Id, and its name for display."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    value: str = Field(title="Id", description="The entity's QuickBooks Id.", pattern=r"^\S+$", max_length=50)
    name: str | None = Field(default=None, title="Name", description="Shown in forms; QuickBooks ignores it.")


class QuickBooksAccountingMapping(BaseModel):
    """Which items, income account and tax codes pushed invoices use, chosen by the firm per connection
    from its own company (items and accounts are synced for this). Nothing here has a built-in default:
    a company's ids are its own."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="QuickBooks accounting mapping")

    default_item: QuickBooksRef = Field(
        title="Default item",
        description="Service item for invoice lines whose service has no item of its own.",
    )
    service_items: dict[str, QuickBooksRef] = Field(
        default_factory=dict,
        title="Items per service",
        description="Service item per kind of service (the invoice line's `service`).",
    )
    income_account: QuickBooksRef | None = Field(
        default=None,
        title="Income account",
        description="Income account the mapped items must post to; checked against the synced items.",
    )
    taxable_tax_code: QuickBooksRef | None = Field(
        default=None,
        title="Tax code for taxed lines",
        description="Tax code for lines with a tax rate that has no code of its own (US companies: TAX).",
    )
    exempt_tax_code: QuickBooksRef | None = Field(
        default=None,
        title="Tax code for untaxed lines",
        description="Tax code for lines without tax (US companies: NON).",
    )
    tax_rate_codes: dict[str, QuickBooksRef] = Field(
        default_factory=dict,
        title="Tax codes per rate",
        description="Tax code per tax rate in percent, e.g. {'20': ...} (companies outside the US).",
    )

    @field_validator("tax_rate_codes")
    @classmethod
    def _normalise_rates(cls, codes: dict[str, QuickBooksRef]) -> dict[str, QuickBooksRef]:
        # '20', '20.0' and '20.00' are one rate.
        normalised: dict[str, QuickBooksRef] = {}
        for rate, ref in codes.items():
            try:
                key = _rate_key(Decimal(rate))
            except InvalidOperation:
                raise ValueError(f"tax rate {rate!r} is not a number") from None
            if key in normalised:
                raise ValueError(f"tax rate {rate!r} is mapped twice")
            normalised[key] = ref
        return normalised

    def item_for(self, service: str | None) -> QuickBooksRef:
        return self.service_items.get(service, self.default_item) if service else self.default_item

    def tax_code_for(self, rate: Decimal | None) -> QuickBooksRef | None:
        """The tax code of a line taxed at `rate` percent (None or 0: untaxed)."""
        if rate is None or rate == 0:
            return self.tax_rate_codes.get(_rate_key(Decimal(0)), self.exempt_tax_code)
        return self.tax_rate_codes.get(_rate_key(rate), self.taxable_tax_code)


def _rate_key(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


class QuickBooksConfig(BaseModel):
    """Non-secret settings of one QuickBooks Online company (realm)."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="QuickBooks Online connection",
        json_schema_extra={"description": "Connect one QuickBooks Online company through Intuit OAuth 2.0."},
    )

    realm_id: str = Field(
        title="Company ID (realm)",
        description="The QuickBooks company ID, shown in the OAuth callback as `realmId`.",
        pattern=r"^\d+$",
        max_length=32,
    )
    environment: Literal["sandbox", "production"] = Field(
        default="production",
        title="Environment",
        description="Intuit environment the app keys belong to. Picks default URLs when none are given.",
    )
    api_base_url: str = Field(
        default=PRODUCTION_API_BASE_URL,
        title="Accounting API base URL",
        description="Base URL of the QuickBooks Accounting API, without `/v3`.",
        pattern=r"^https?://\S+$",
    )
    discovery_url: str = Field(
        default=PRODUCTION_DISCOVERY_URL,
        title="OAuth discovery URL",
        description="Intuit's OpenID discovery document, which names the token endpoint.",
        pattern=r"^https?://\S+$",
    )
    client_id: str = Field(
        title="OAuth client ID",
        description="Client ID of the Intuit app (developer portal, Keys & credentials).",
        min_length=1,
        max_length=200,
    )
    scopes: tuple[str, ...] = Field(
        default=(ACCOUNTING_SCOPE,),
        title="OAuth scopes",
        description="Scopes requested when the firm authorises the app.",
        min_length=1,
    )
    minor_version: int = Field(
        default=QuickBooks.MINIMUM_MINOR_VERSION,
        title="API minor version",
        description="Accounting API minor version sent with every request.",
        ge=QuickBooks.MINIMUM_MINOR_VERSION,
    )
    requests_per_minute: int = Field(
        default=500,
        title="Request limit per minute",
        description="Client-side cap per company; Intuit publishes 500 requests per minute per realm.",
        ge=1,
        le=500,
    )

    @model_validator(mode="before")
    @classmethod
    def _environment_defaults(cls, data: Any) -> Any:
        # Intuit's sandbox companies live on different hosts; fill those in unless told otherwise.
        if isinstance(data, dict) and data.get("environment") == "sandbox":
            data = {"api_base_url": SANDBOX_API_BASE_URL, "discovery_url": SANDBOX_DISCOVERY_URL, **data}
        return data

    @field_validator("api_base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def api_url_v3(self) -> str:
        return f"{self.api_base_url}/v3"


class QuickBooksCredentials(BaseModel):
    """Secrets of one QuickBooks connection. Stored encrypted; never returned by the API or logged."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="QuickBooks Online credentials",
        hide_input_in_errors=True,
    )

    client_secret: SecretStr = Field(
        title="OAuth client secret",
        description="Client secret of the Intuit app.",
        min_length=1,
    )
    refresh_token: SecretStr = Field(
        title="Refresh token",
        description="Refresh token from the OAuth authorisation. Intuit rotates it on every refresh.",
        min_length=1,
    )
    access_token: SecretStr | None = Field(
        default=None,
        title="Access token",
        description="Current access token, if one is still valid; refreshed automatically otherwise.",
    )
    access_token_expires_at: AwareDatetime | None = Field(
        default=None,
        title="Access token expiry",
        description="When the access token expires.",
    )
    refresh_token_expires_at: AwareDatetime | None = Field(
        default=None,
        title="Refresh token expiry",
        description="When the refresh token expires (Intuit: about 100 days after issue).",
    )
    webhook_verifier_token: SecretStr | None = Field(
        default=None,
        title="Webhook verifier token",
        description="The app's webhooks verifier token (developer portal, Webhooks). Intuit signs every "
        "webhook with it; without it, webhooks for this company are refused.",
    )

    @classmethod
    def from_tokens(cls, client_secret: str, tokens: TokenSet) -> QuickBooksCredentials:
        """A new connection's credentials, from the tokens `oauth.exchange_code` obtained."""
        return cls(
            client_secret=SecretStr(client_secret),
            refresh_token=SecretStr(tokens.refresh_token),
            access_token=SecretStr(tokens.access_token),
            access_token_expires_at=tokens.access_expires_at,
            refresh_token_expires_at=tokens.refresh_expires_at,
        )

    def with_tokens(self, tokens: TokenSet) -> QuickBooksCredentials:
        """These credentials after a refresh: what the caller persists from `on_tokens`."""
        return self.model_copy(
            update={
                "refresh_token": SecretStr(tokens.refresh_token),
                "access_token": SecretStr(tokens.access_token),
                "access_token_expires_at": tokens.access_expires_at,
                "refresh_token_expires_at": tokens.refresh_expires_at,
            }
        )
