"""What a Google Calendar connection needs: non-secret configuration and secret credentials.

One connection is one Google user (a member of the firm's staff) and the calendars of theirs that are
synced. Defaults are Google's production endpoints (developers.google.com/identity/protocols/oauth2/
web-server and developers.google.com/calendar/api/v3/reference); a connection to the local sandbox overrides
the URLs and nothing else.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, SecretStr, field_validator

from connectors.base import TokenSet

API_ENDPOINT = "https://www.googleapis.com/calendar/v3/"
AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"
TOKEN_URL = "https://oauth2.googleapis.com/token"  # noqa: S105 - a URL, not a secret
REVOCATION_URL = "https://oauth2.googleapis.com/revoke"
# Read every calendar the user lists, read and write events (developers.google.com/calendar/api/auth).
DEFAULT_SCOPES = (
    "https://www.googleapis.com/auth/calendar.events",
    "https://www.googleapis.com/auth/calendar.readonly",
)
# "Per minute per user per project": 600 requests (developers.google.com/calendar/api/guides/quota).
REQUESTS_PER_MINUTE = 600

_URL = r"^https?://\S+$"


class GoogleCalendarApp(BaseModel):
    """The Google OAuth client and Google's endpoints: all the connect flow needs before a user is known."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Google Calendar app",
        json_schema_extra={"description": "A Google OAuth 2.0 client and the endpoints it talks to."},
    )

    client_id: str = Field(
        title="OAuth client ID",
        description="Client ID of the OAuth client (Google Cloud console → APIs & Services → Credentials).",
        min_length=1,
        max_length=200,
    )
    api_endpoint: str = Field(
        default=API_ENDPOINT,
        title="Calendar API endpoint",
        description="Base URL of the Calendar API v3, ending in `/calendar/v3/`.",
        pattern=_URL,
    )
    authorize_url: str = Field(
        default=AUTHORIZE_URL,
        title="Authorization endpoint",
        description="Where the staff member is sent to approve the app.",
        pattern=_URL,
    )
    token_url: str = Field(
        default=TOKEN_URL,
        title="Token endpoint",
        description="Exchanges codes and refresh tokens for access tokens.",
        pattern=_URL,
    )
    revocation_url: str = Field(
        default=REVOCATION_URL,
        title="Revocation endpoint",
        description="Revokes the grant when the connection is removed.",
        pattern=_URL,
    )
    scopes: tuple[str, ...] = Field(
        default=DEFAULT_SCOPES,
        title="OAuth scopes",
        description="Scopes requested at consent: events read/write and the calendar list.",
        min_length=1,
    )

    @field_validator("api_endpoint")
    @classmethod
    def _trailing_slash(cls, value: str) -> str:
        # The SDK joins method paths onto it: without the slash `/v3` would be replaced, not extended.
        return value if value.endswith("/") else value + "/"

    @field_validator("authorize_url", "token_url", "revocation_url")
    @classmethod
    def _no_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


class GoogleCalendarConfig(GoogleCalendarApp):
    """Non-secret settings of one staff member's Google Calendar."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Google Calendar connection",
        json_schema_extra={"description": "Sync a staff member's Google calendars both ways."},
    )

    account_email: str = Field(
        title="Google account",
        description="The staff member's Google address (the id of their primary calendar).",
        pattern=r"^[^@\s]+@[^@\s]+$",
        max_length=320,
    )
    calendar_ids: tuple[str, ...] = Field(
        default=("primary",),
        title="Calendars",
        description="Calendar ids to sync (from the calendar list); `primary` is the user's own calendar.",
        min_length=1,
    )
    single_events: bool = Field(
        default=True,
        title="Expand recurring events",
        description="Sync each occurrence of a recurring event as its own event (`singleEvents`).",
    )
    sync_window_days: int | None = Field(
        default=365,
        title="History window (days)",
        description="A full sync reads events ending at most this many days ago; empty: all of them.",
        ge=1,
        le=3650,
    )
    requests_per_minute: int = Field(
        default=REQUESTS_PER_MINUTE,
        title="Request limit per minute",
        description="Client-side cap for this user; Google allows 600 per minute per user.",
        ge=1,
        le=REQUESTS_PER_MINUTE,
    )


class GoogleCalendarCredentials(BaseModel):
    """Secrets of one Google Calendar connection. Stored encrypted; never returned by the API or logged."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Google Calendar credentials", hide_input_in_errors=True
    )

    client_secret: SecretStr = Field(title="OAuth client secret", min_length=1)
    refresh_token: SecretStr = Field(
        title="Refresh token",
        description="From the consent with `access_type=offline`. Google does not rotate it on refresh.",
        min_length=1,
    )
    access_token: SecretStr | None = Field(
        default=None,
        title="Access token",
        description="Current access token (Google's live one hour); refreshed automatically otherwise.",
    )
    expires_at: AwareDatetime | None = Field(default=None, title="Access token expiry")

    def with_tokens(self, tokens: TokenSet) -> GoogleCalendarCredentials:
        """These credentials after a refresh: what the caller persists from `on_tokens`."""
        return self.model_copy(
            update={
                "refresh_token": SecretStr(tokens.refresh_token),
                "access_token": SecretStr(tokens.access_token),
                "expires_at": tokens.access_expires_at,
            }
        )
