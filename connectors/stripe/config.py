"""What a Stripe connection needs: non-secret configuration and secret credentials.

The API validates `POST /connections` bodies with these models and the SPA renders the connect form from
their JSON schema, so every field has a title and a description. Stripe has no OAuth for a firm's own
account: the firm pastes a secret (or restricted, read-only) API key and the webhook endpoint's signing
secret. Defaults are Stripe's production API; a connection to the local sandbox overrides the base URL and
nothing else. (These models first lived in `connectors/webhooks/connections.py`, when Stripe only sent
webhooks; the fields they had are kept, the new ones are optional, so stored connections still validate.)
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

API_BASE_URL = "https://api.stripe.com"
# Stripe's basic rate limiter ("Rate limits", docs.stripe.com/rate-limits): read operations per second.
LIVE_READS_PER_SECOND = 100
TEST_READS_PER_SECOND = 25

_URL = r"^https?://\S+$"


class StripeConfig(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Stripe connection",
        json_schema_extra={
            "description": "Sync customers, charges, payment intents and refunds from one Stripe account, "
            "and receive its events."
        },
    )

    account_id: str = Field(
        title="Account ID",
        description="The Stripe account (`acct_...`, Dashboard → Settings → Account details). Connect "
        "events name it in their `account` field.",
        pattern=r"^acct_[A-Za-z0-9]{1,64}$",
    )
    api_base_url: str = Field(
        default=API_BASE_URL,
        title="API base URL",
        description="Base URL of the Stripe API.",
        pattern=_URL,
    )
    account_label: str | None = Field(
        default=None,
        title="Account label",
        description="A name for this account in firmsync (e.g. the business name shown on receipts).",
        max_length=200,
    )
    reads_per_second: int | None = Field(
        default=None,
        title="Read requests per second",
        description="Client-side cap; empty means Stripe's published limit for the key's mode "
        f"({LIVE_READS_PER_SECOND}/s live, {TEST_READS_PER_SECOND}/s test).",
        ge=1,
        le=LIVE_READS_PER_SECOND,
    )

    @field_validator("api_base_url")
    @classmethod
    def _strip_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")


class StripeCredentials(BaseModel):
    """Secrets of one Stripe connection. Stored encrypted; never returned by the API or logged."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Stripe credentials", hide_input_in_errors=True
    )

    webhook_signing_secret: SecretStr = Field(
        title="Webhook signing secret",
        description="The endpoint's signing secret (`whsec_...`, Dashboard → Developers → Webhooks).",
        min_length=1,
    )
    api_key: SecretStr | None = Field(
        default=None,
        title="Secret or restricted API key",
        description="`sk_...`, or a restricted `rk_...` key with read access to customers, charges, "
        "payment intents, refunds and events; needed to sync.",
    )

    @field_validator("api_key")
    @classmethod
    def _stripe_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(("sk_", "rk_")):
            raise ValueError("a Stripe secret key starts with sk_ and a restricted key with rk_")
        return value

    def reads_per_second(self) -> int:
        """Stripe's published read limit for the key's mode: test keys get a quarter of live ones."""
        key = self.api_key.get_secret_value() if self.api_key else ""
        return TEST_READS_PER_SECOND if "_test_" in key else LIVE_READS_PER_SECOND
