"""What a connection needs for vendors whose only integration so far is webhook intake: Square, Twilio
and DocuSign. (QuickBooks', Xero's, Stripe's and Slack's models live in `connectors/<vendor>/config.py`;
Stripe's and Slack's are re-exported here for code that imported them from this module.)

As for every connector, the API validates `POST /api/v1/connections` with these models and the SPA renders
the connect form from their JSON schemas, so every field has a title and a description. Credentials are
stored encrypted and never returned. When a vendor gains a sync client its models move to
`connectors/<vendor>/config.py`, unchanged.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from connectors.slack.config import SlackConfig, SlackCredentials  # noqa: F401 - re-exported
from connectors.stripe.config import StripeConfig, StripeCredentials  # noqa: F401 - re-exported

_URL = r"^https?://\S+$"
_GUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"


def _config(title: str, description: str) -> ConfigDict:
    return ConfigDict(
        extra="forbid", frozen=True, title=title, json_schema_extra={"description": description}
    )


def _credentials(title: str) -> ConfigDict:
    return ConfigDict(extra="forbid", frozen=True, title=title, hide_input_in_errors=True)


# --------------------------------------------------------------------------- Stripe
# Stripe gained a sync client: its models moved to connectors/stripe/config.py (same fields, plus
# optional ones a sync uses).

# --------------------------------------------------------------------------- Square

SQUARE_PRODUCTION_URL = "https://connect.squareup.com"
SQUARE_SANDBOX_URL = "https://connect.squareupsandbox.com"


class SquareConfig(BaseModel):
    model_config = _config("Square connection", "Receive events from one Square seller account.")

    merchant_id: str = Field(
        title="Merchant ID",
        description="The seller's merchant ID; Square events name it in `merchant_id`.",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
    )
    environment: Literal["sandbox", "production"] = Field(
        default="production", title="Environment", description="Square environment of the application."
    )
    api_base_url: str = Field(
        default=SQUARE_PRODUCTION_URL,
        title="API base URL",
        description="Base URL of the Square API.",
        pattern=_URL,
    )
    notification_url: str | None = Field(
        default=None,
        title="Notification URL",
        description="The URL exactly as entered in the Square webhook subscription. Square signs it, so set "
        "it when a proxy rewrites the URL firmsync sees; empty means the URL the request arrives on.",
        pattern=_URL,
    )

    @model_validator(mode="before")
    @classmethod
    def _environment_defaults(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("environment") == "sandbox":
            data = {"api_base_url": SQUARE_SANDBOX_URL, **data}
        return data


class SquareCredentials(BaseModel):
    model_config = _credentials("Square credentials")

    webhook_signature_key: SecretStr = Field(
        title="Webhook signature key",
        description="The subscription's signature key (Developer Dashboard → Webhooks → Subscriptions).",
        min_length=1,
    )
    access_token: SecretStr | None = Field(
        default=None,
        title="Access token",
        description="OAuth or personal access token; needed once syncing from Square is enabled.",
    )


# --------------------------------------------------------------------------- Twilio


class TwilioConfig(BaseModel):
    model_config = _config(
        "Twilio connection", "Receive status callbacks and messages for one Twilio account."
    )

    account_sid: str = Field(
        title="Account SID",
        description="The account's SID (`AC` + 32 hex digits, Console → Account info); sent as `AccountSid`.",
        pattern=r"^AC[0-9a-fA-F]{32}$",
    )
    api_base_url: str = Field(
        default="https://api.twilio.com",
        title="API base URL",
        description="Base URL of the Twilio REST API.",
        pattern=_URL,
    )
    webhook_url: str | None = Field(
        default=None,
        title="Webhook URL",
        description="The URL exactly as configured in Twilio (query string included). Twilio signs it, so "
        "set it when a proxy rewrites the URL firmsync sees; empty means the URL the request arrives on.",
        pattern=_URL,
    )


class TwilioCredentials(BaseModel):
    model_config = _credentials("Twilio credentials")

    auth_token: SecretStr = Field(
        title="Auth token",
        description="The account's Auth Token: it authenticates API calls and is the key Twilio signs "
        "webhooks with.",
        min_length=1,
    )


# --------------------------------------------------------------------------- DocuSign


class DocuSignConfig(BaseModel):
    model_config = _config(
        "DocuSign connection", "Receive DocuSign Connect (webhook) messages for one account."
    )

    account_id: str = Field(
        title="API account ID",
        description="The account's API Account ID (a GUID, Settings → Apps and Keys); messages name it "
        "as `data.accountId`.",
        pattern=_GUID,
    )
    base_uri: str = Field(
        default="https://demo.docusign.net",
        title="Account base URI",
        description="The account's base URI (`https://demo.docusign.net` for the developer environment).",
        pattern=_URL,
    )
    integration_key: str | None = Field(
        default=None,
        title="Integration key",
        description="The app's integration key (OAuth client ID); needed once syncing is enabled.",
        max_length=200,
    )


class DocuSignCredentials(BaseModel):
    model_config = _credentials("DocuSign credentials")

    connect_hmac_key: SecretStr = Field(
        title="Connect HMAC key",
        description="A Connect secret key (Settings → Connect → Connect Keys); the configuration must have "
        "'Include HMAC signature' ticked.",
        min_length=1,
    )
    refresh_token: SecretStr | None = Field(
        default=None,
        title="Refresh token",
        description="OAuth refresh token; needed once syncing from DocuSign is enabled.",
    )


# --------------------------------------------------------------------------- Slack
# Slack gained a Web API client: its models moved to connectors/slack/config.py (same fields, plus the
# optional notification channel).
