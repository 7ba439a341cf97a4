"""What a Microsoft 365 calendar connection needs: non-secret configuration and secret credentials.

One connection is one mailbox (a member of the firm's staff) in one Entra ID tenant. Defaults are Microsoft's
production endpoints (learn.microsoft.com/entra/identity-platform/authentication-national-cloud,
learn.microsoft.com/graph/api/overview); a connection to anything else — a national cloud, the local sandbox —
overrides the URLs and, for a private certificate authority, names a CA bundle. Verification is never off.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from connectors.base import TokenSet

AUTHORITY_HOST = "https://login.microsoftonline.com"
GRAPH_URL = "https://graph.microsoft.com/v1.0"
GRAPH_RESOURCE = "https://graph.microsoft.com"
# Delegated: read and write the user's calendars (learn.microsoft.com/graph/permissions-reference).
DEFAULT_SCOPES = ("https://graph.microsoft.com/Calendars.ReadWrite",)
# Outlook service limits: 10,000 requests per 10 minutes per app per mailbox, 4 concurrent
# (learn.microsoft.com/graph/throttling-limits#outlook-service-limits).
MAILBOX_REQUESTS = 10_000
MAILBOX_WINDOW_SECONDS = 600

_HTTPS = r"^https://\S+$"


class MicrosoftCalendarConfig(BaseModel):
    """Non-secret settings of one staff member's Microsoft 365 calendar."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Microsoft 365 calendar connection",
        json_schema_extra={"description": "Sync a staff member's Outlook calendar through Microsoft Graph."},
    )

    client_id: str = Field(
        title="Application (client) ID",
        description="Of the app registration (Entra admin center → App registrations).",
        min_length=1,
        max_length=200,
    )
    tenant_id: str = Field(
        title="Directory (tenant) ID",
        description="The firm's Entra ID tenant: its GUID or primary domain.",
        pattern=r"^[A-Za-z0-9.-]{1,200}$",
    )
    account_email: str = Field(
        title="Mailbox",
        description="The staff member's userPrincipalName (their work address).",
        pattern=r"^[^@\s]+@[^@\s]+$",
        max_length=320,
    )
    auth_mode: Literal["delegated", "application"] = Field(
        default="delegated",
        title="Permission type",
        description="`delegated`: the staff member's consent (refresh token, `/me`). `application`: the "
        "app's own permission granted by an admin (client credentials, `/users/{mailbox}`).",
    )
    authority_host: str = Field(
        default=AUTHORITY_HOST,
        title="Authority host",
        description="Identity platform root; the authority is `<host>/<tenant>`.",
        pattern=_HTTPS,
    )
    instance_discovery: bool = Field(
        default=True,
        title="Validate the authority",
        description="Let msal check an authority host it does not know with Microsoft's instance discovery "
        "(login.microsoftonline.com). Off only for a host Microsoft cannot vouch for (a private or test "
        "identity endpoint); msal then trusts the configured authority as it is.",
    )
    graph_url: str = Field(
        default=GRAPH_URL, title="Graph endpoint", description="Microsoft Graph v1.0 root.", pattern=_HTTPS
    )
    ca_bundle: str | None = Field(
        default=None,
        title="CA bundle",
        description="Path of a PEM file of the certificate authorities to trust for these hosts (a "
        "private CA); empty: the system's trust store (certifi).",
        max_length=1000,
    )
    scopes: tuple[str, ...] = Field(
        default=DEFAULT_SCOPES,
        title="Delegated scopes",
        description="Graph permissions asked for.",
        min_length=1,
    )
    past_days: int = Field(
        default=365,
        title="History window (days)",
        description="The synced calendar view starts this long ago.",
        ge=1,
        le=3650,
    )
    future_days: int = Field(
        default=730, title="Future window (days)", description="… and ends this far ahead.", ge=1, le=3650
    )
    requests_per_window: int = Field(
        default=MAILBOX_REQUESTS,
        title="Requests per 10 minutes",
        description="Client-side cap for this mailbox; Outlook allows 10,000 per 10 minutes per app.",
        ge=1,
        le=MAILBOX_REQUESTS,
    )

    @field_validator("authority_host", "graph_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def authority(self) -> str:
        return f"{self.authority_host}/{self.tenant_id}"

    @property
    def mailbox_path(self) -> str:
        """Graph's path to the mailbox: the signed-in user, or the named user for app-only tokens."""
        return "me" if self.auth_mode == "delegated" else f"users/{self.account_email}"


class MicrosoftCalendarCredentials(BaseModel):
    """Secrets of one Microsoft 365 calendar connection: stored encrypted, never returned or logged."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Microsoft 365 calendar credentials", hide_input_in_errors=True
    )

    client_secret: SecretStr = Field(title="Client secret", min_length=1)
    refresh_token: SecretStr | None = Field(
        default=None,
        title="Refresh token",
        description="From the staff member's consent (delegated); rotated on every use, the new one saved.",
    )
    access_token: SecretStr | None = Field(default=None, title="Access token")
    expires_at: AwareDatetime | None = Field(default=None, title="Access token expiry")
    webhook_client_state: SecretStr | None = Field(
        default=None,
        title="Notification client state",
        description="The `clientState` of this connection's Graph subscription: a notification that does not "
        "carry it is refused.",
        max_length=128,
    )

    @model_validator(mode="after")
    def _nonblank(self) -> MicrosoftCalendarCredentials:
        if self.refresh_token is not None and not self.refresh_token.get_secret_value():
            raise ValueError("refresh_token must not be empty")
        return self

    def with_tokens(self, tokens: TokenSet) -> MicrosoftCalendarCredentials:
        """These credentials after a refresh: what the caller persists from `on_tokens`."""
        return self.model_copy(
            update={
                "refresh_token": SecretStr(tokens.refresh_token)
                if tokens.refresh_token
                else self.refresh_token,
                "access_token": SecretStr(tokens.access_token),
                "expires_at": tokens.access_expires_at,
            }
        )
