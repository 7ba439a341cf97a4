"""What a Salesforce connection needs: non-secret configuration and secret credentials.

One connection is one Salesforce org, reached through a connected app with the OAuth 2.0 web server flow.
Defaults are Salesforce's production endpoints; a connection to the local sandbox overrides the URLs and the
CA bundle and nothing else. simple-salesforce only talks https and builds every URL from the host (and
port) of `instance_url`.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, field_validator

from connectors.base import TokenSet

LOGIN_URL = "https://login.salesforce.com"
API_VERSION = "59.0"
EXTERNAL_ID_FIELD = "Firmsync_Id__c"
# Query results come in batches of up to 2,000 records; Sforce-Query-Options: batchSize asks for 200-2,000.
MAX_BATCH = 2000
MIN_BATCH = 200

_HTTPS = r"^https://\S+$"


class SalesforceConfig(BaseModel):
    """Non-secret settings of one Salesforce org's connection."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Salesforce connection",
        json_schema_extra={
            "description": "Accounts, contacts, leads and opportunities of one Salesforce org."
        },
    )

    org_id: str = Field(
        title="Organization ID",
        description="The org's 15- or 18-character id (Setup → Company Information), starting 00D.",
        pattern=r"^00D[0-9A-Za-z]{12}(?:[0-9A-Za-z]{3})?$",
    )
    instance_url: str = Field(
        title="Instance URL",
        description="The org's My Domain URL, e.g. https://acme.my.salesforce.com (the token answer's "
        "`instance_url` replaces it when Salesforce names another).",
        pattern=_HTTPS,
    )
    login_url: str = Field(
        default=LOGIN_URL,
        title="Login URL",
        description="Where tokens are refreshed: https://login.salesforce.com, https://test.salesforce.com "
        "for a Salesforce sandbox org, or the org's My Domain.",
        pattern=_HTTPS,
    )
    api_version: str = Field(
        default=API_VERSION,
        title="API version",
        pattern=r"^\d{2}\.0$",
        description="REST API version, e.g. 59.0.",
    )
    client_id: str = Field(
        title="Consumer key", description="The connected app's consumer key.", min_length=1, max_length=300
    )
    contact_external_id_field: str = Field(
        default=EXTERNAL_ID_FIELD,
        title="Contact external ID field",
        description="The Contact field marked External ID that holds firmsync's id (pushes upsert on it).",
        pattern=r"^[A-Za-z][A-Za-z0-9_]*__c$",
    )
    lead_external_id_field: str = Field(
        default=EXTERNAL_ID_FIELD,
        title="Lead external ID field",
        description="The custom Lead field marked External ID that holds firmsync's id.",
        pattern=r"^[A-Za-z][A-Za-z0-9_]*__c$",
    )
    ca_bundle: str | None = Field(
        default=None,
        title="CA bundle",
        description="Path of a PEM file of the certificate authorities to trust (a private CA); empty: the "
        "system's. It wins over REQUESTS_CA_BUNDLE. Verification is never turned off.",
        max_length=1000,
    )
    api_usage_margin_percent: float = Field(
        default=10.0,
        title="API usage margin (%)",
        description="Share of the org's daily API requests the sync leaves free for the firm's other "
        "integrations: it stops, with an error, once usage reaches the rest.",
        ge=0,
        lt=100,
    )
    query_batch_size: int = Field(
        default=MAX_BATCH,
        title="Query batch size",
        description="Records per query batch (Sforce-Query-Options batchSize, 200-2,000).",
        ge=MIN_BATCH,
        le=MAX_BATCH,
    )

    @field_validator("instance_url", "login_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def token_url(self) -> str:
        return f"{self.login_url}/services/oauth2/token"


class SalesforceCredentials(BaseModel):
    """Secrets of one Salesforce connection. Stored encrypted; never returned by the API or logged."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Salesforce credentials", hide_input_in_errors=True
    )

    client_secret: SecretStr = Field(title="Consumer secret", min_length=1)
    refresh_token: SecretStr = Field(
        title="Refresh token",
        description="From the web server flow with the refresh_token scope. Salesforce does not rotate it.",
        min_length=1,
    )
    access_token: SecretStr | None = Field(
        default=None,
        title="Access token",
        description="The current session id; refreshed when Salesforce answers INVALID_SESSION_ID.",
    )
    issued_at: AwareDatetime | None = Field(default=None, title="Access token issued at")

    def with_tokens(self, tokens: TokenSet) -> SalesforceCredentials:
        """These credentials after a refresh: what the caller persists from `on_tokens`."""
        return self.model_copy(
            update={
                "refresh_token": SecretStr(tokens.refresh_token),
                "access_token": SecretStr(tokens.access_token),
            }
        )
