"""What a Slack connection needs, and the platform's Slack app for the OAuth install.

The connection models moved here from `connectors/webhooks/connections.py` (which re-exports them)
when Slack gained a Web API client; existing fields are unchanged, `channel` is new and optional.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr

_URL = r"^https?://\S+$"
# A channel id (`C…` public, `G…` legacy private) or a name, with or without `#`.
_CHANNEL = r"^(#?[a-z0-9][a-z0-9._-]{0,79}|[CG][A-Z0-9]{2,20})$"
SLACK_API_URL = "https://slack.com/api"
SLACK_AUTHORIZE_URL = "https://slack.com/oauth/v2/authorize"
# Bot scopes firmsync asks for: post notifications, list channels (public and private) to pick one, and
# receive slash commands (https://api.slack.com/scopes).
DEFAULT_SCOPES = ("chat:write", "channels:read", "groups:read", "commands")


class SlackNotifications(BaseModel):
    """Which events the firm's channel hears of (all on unless the firm turns one off)."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="Notifications")

    sync_failed: bool = Field(default=True, title="A sync or push failed")
    sync_recovered: bool = Field(default=True, title="A failing connection synced again")
    new_lead: bool = Field(default=True, title="A lead was created")
    invoice_paid: bool = Field(default=True, title="An invoice was paid")


def _config_schema(schema: dict) -> None:
    schema["description"] = (
        "Post notifications to a Slack channel and answer /firmsync; receive Events API, interactivity and "
        "slash-command requests."
    )
    # pydantic leaves a nested model's field without its own title (a `$ref`); the connect form needs one.
    schema["properties"]["notify"]["title"] = "Notifications"


class SlackConfig(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Slack connection",
        json_schema_extra=lambda schema: _config_schema(schema),
    )

    team_id: str = Field(
        title="Workspace ID",
        description="The workspace (`T...`) or Enterprise Grid org (`E...`) ID; requests name it as "
        "`team_id`.",
        pattern=r"^[TE][A-Z0-9]{2,20}$",
    )
    app_id: str | None = Field(
        default=None,
        title="App ID",
        description="The Slack app's ID (`A...`), for reference.",
        pattern=r"^A[A-Z0-9]{2,20}$",
    )
    api_base_url: str = Field(
        default=SLACK_API_URL,
        title="Web API base URL",
        description="Base URL of the Slack Web API.",
        pattern=_URL,
    )
    channel: str | None = Field(
        default=None,
        title="Notification channel",
        description="Channel ID (`C...`) or name the notifications are posted to; the app's bot must be "
        "a member of it.",
        pattern=_CHANNEL,
    )
    notify: SlackNotifications = Field(
        default_factory=SlackNotifications,
        title="Notifications",
        description="Which events are posted to the channel; each is on unless set to false.",
    )


class SlackCredentials(BaseModel):
    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Slack credentials", hide_input_in_errors=True
    )

    signing_secret: SecretStr = Field(
        title="Signing secret",
        description="The app's signing secret (App settings → Basic Information → App Credentials).",
        min_length=1,
    )
    bot_token: SecretStr | None = Field(
        default=None,
        title="Bot token",
        description="`xoxb-...`; needed to post notifications through the Slack Web API.",
    )


class SlackApp(BaseModel):
    """The platform's Slack app (settings, not the firm's): where Slack lives and what the install asks for.

    Slack signs every request of an app with one signing secret, so it is the app's, handed to each
    connection made through it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    client_id: str = Field(min_length=1)
    signing_secret: SecretStr = Field(min_length=1)
    authorize_url: str = Field(default=SLACK_AUTHORIZE_URL, pattern=_URL)
    api_base_url: str = Field(default=SLACK_API_URL, pattern=_URL)
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    channel: str | None = Field(default=None, pattern=_CHANNEL)
