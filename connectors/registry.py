"""Which connectors exist, and what each needs: the API validates connection bodies with the
models named here and the SPA renders the connect form from their JSON schemas."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from connectors.base import TokenSet
from connectors.oauth import OAuthFlow

ClientFactory = Callable[..., Any]


class UnknownProviderError(LookupError):
    def __init__(self, provider: str, known: list[str]) -> None:
        super().__init__(f"unknown provider {provider!r}; known providers: {', '.join(known) or 'none'}")
        self.provider = provider
        self.known = known


@dataclass(frozen=True)
class ConnectorSpec:
    """Everything the platform needs to know about one provider.

    `account_id(config)` names the vendor account a connection is for (a firm has at most one
    connection per provider and account). `client_factory(config, credentials, *, on_tokens,
    **options)` builds the vendor client; `on_tokens(TokenSet)` must persist rotated tokens before
    it returns.
    """

    provider: str
    display_name: str
    description: str
    config_model: type[BaseModel]
    credentials_model: type[BaseModel]
    streams: tuple[str, ...]
    account_id: Callable[[Any], str]
    client_factory: ClientFactory
    # How the firm connects through the vendor's consent screen; None: credentials are pasted in.
    oauth: OAuthFlow | None = None
    # What the firm maps local records onto (items, accounts, tax codes) before anything is pushed.
    mapping_model: type[BaseModel] | None = None

    def build_client(
        self,
        config: BaseModel,
        credentials: BaseModel,
        *,
        on_tokens: Callable[[TokenSet], None],
        **options: Any,
    ) -> Any:
        return self.client_factory(config, credentials, on_tokens=on_tokens, **options)

    def form_schema(self) -> dict[str, Any]:
        """JSON schemas the SPA renders the connect form from."""
        return {
            "config": self.config_model.model_json_schema(),
            "credentials": self.credentials_model.model_json_schema(),
        }


def _quickbooks() -> ConnectorSpec:
    from connectors.quickbooks import oauth
    from connectors.quickbooks.client import QuickBooksClient
    from connectors.quickbooks.config import (
        QuickBooksAccountingMapping,
        QuickBooksConfig,
        QuickBooksCredentials,
    )
    from connectors.quickbooks.entities import STREAMS

    return ConnectorSpec(
        provider="quickbooks",
        display_name="QuickBooks Online",
        description=(
            "Customers, invoices with lines, payments with their allocations, credit memos, items and "
            "accounts from QuickBooks Online, synced incrementally (last-updated time, and change data "
            "capture for deletions); clients and invoices pushed back with SyncToken conflict detection."
        ),
        config_model=QuickBooksConfig,
        credentials_model=QuickBooksCredentials,
        streams=STREAMS,
        account_id=lambda config: config.realm_id,
        client_factory=QuickBooksClient,
        oauth=oauth.FLOW,
        mapping_model=QuickBooksAccountingMapping,
    )


def _xero() -> ConnectorSpec:
    from connectors.xero import oauth
    from connectors.xero.client import STREAMS, XeroClient
    from connectors.xero.config import XeroAccountingMapping, XeroConfig, XeroCredentials

    return ConnectorSpec(
        provider="xero",
        display_name="Xero",
        description="Contacts, invoices, payments, credit notes, items and accounts from one Xero "
        "organisation, synced incrementally by last-updated time; contact and invoice webhooks.",
        config_model=XeroConfig,
        credentials_model=XeroCredentials,
        streams=tuple(STREAMS),
        account_id=lambda config: config.tenant_id,
        client_factory=XeroClient,
        oauth=oauth.FLOW,
        mapping_model=XeroAccountingMapping,
    )


def _google_calendar() -> ConnectorSpec:
    from connectors.google_calendar import oauth
    from connectors.google_calendar.client import STREAMS, GoogleCalendarClient
    from connectors.google_calendar.config import GoogleCalendarConfig, GoogleCalendarCredentials

    return ConnectorSpec(
        provider="google_calendar",
        display_name="Google Calendar",
        description="A staff member's Google calendars, both ways: events synced incrementally with sync "
        "tokens (deletions included), local events pushed with etag/If-Match conflict detection.",
        config_model=GoogleCalendarConfig,
        credentials_model=GoogleCalendarCredentials,
        streams=STREAMS,
        account_id=lambda config: config.account_email,
        client_factory=GoogleCalendarClient,
        oauth=oauth.FLOW,
    )


def _microsoft_calendar() -> ConnectorSpec:
    from connectors.microsoft_calendar import oauth
    from connectors.microsoft_calendar.client import STREAMS, MicrosoftCalendarClient
    from connectors.microsoft_calendar.config import MicrosoftCalendarConfig, MicrosoftCalendarCredentials

    return ConnectorSpec(
        provider="microsoft_calendar",
        display_name="Microsoft 365 Calendar",
        description="A staff member's Outlook calendar through Microsoft Graph: events synced incrementally "
        "with delta links (deletions included), edits pushed with If-Match change keys.",
        config_model=MicrosoftCalendarConfig,
        credentials_model=MicrosoftCalendarCredentials,
        streams=STREAMS,
        account_id=lambda config: config.account_email.lower(),
        client_factory=MicrosoftCalendarClient,
        oauth=oauth.FLOW,
    )


def _stripe() -> ConnectorSpec:
    from connectors.stripe.client import STREAMS, StripeAccountClient
    from connectors.stripe.config import StripeConfig, StripeCredentials

    return ConnectorSpec(
        provider="stripe",
        display_name="Stripe",
        description="Customers, charges, payment intents and refunds from one Stripe account, synced "
        "incrementally by creation time, with updates and deletions from its events; signed webhooks. "
        "Connected with an API key (no OAuth).",
        config_model=StripeConfig,
        credentials_model=StripeCredentials,
        streams=STREAMS,
        account_id=lambda config: config.account_id,
        client_factory=StripeAccountClient,
    )


def _slack() -> ConnectorSpec:
    from connectors.slack import oauth
    from connectors.slack.client import STREAMS, SlackClient
    from connectors.slack.config import SlackConfig, SlackCredentials

    return ConnectorSpec(
        provider="slack",
        display_name="Slack",
        description="Notifications posted to a channel of one Slack workspace and the /firmsync slash "
        "command, through the Web API; Events API, interactivity and slash-command requests as signed "
        "webhooks. Installed with OAuth (or a pasted bot token and signing secret).",
        config_model=SlackConfig,
        credentials_model=SlackCredentials,
        streams=STREAMS,
        account_id=lambda config: config.team_id,
        client_factory=SlackClient,
        oauth=oauth.FLOW,
    )


def _salesforce() -> ConnectorSpec:
    from connectors.salesforce.client import STREAMS, SalesforceClient
    from connectors.salesforce.config import SalesforceConfig, SalesforceCredentials

    return ConnectorSpec(
        provider="salesforce",
        display_name="Salesforce",
        description="Accounts, contacts, leads and opportunities of one Salesforce org through its REST API "
        "(https), synced incrementally on SystemModstamp with deletions from getDeleted, leaving a share of "
        "the org's daily API requests free; leads and contacts pushed by upsert on an external-id field.",
        config_model=SalesforceConfig,
        credentials_model=SalesforceCredentials,
        streams=STREAMS,
        account_id=lambda config: config.org_id,
        client_factory=SalesforceClient,
    )


def _active_directory() -> ConnectorSpec:
    from connectors.active_directory.client import STREAMS, ActiveDirectoryClient
    from connectors.active_directory.config import (
        ActiveDirectoryConfig,
        ActiveDirectoryCredentials,
        normalise_dn,
    )

    return ConnectorSpec(
        provider="active_directory",
        display_name="Active Directory",
        description="The firm's users and groups from an Active Directory domain over LDAPS or StartTLS, "
        "synced incrementally by uSNChanged with paged searches; members of mapped groups are provisioned "
        "as the firm's users with the mapped role, and deactivated when disabled or no longer in a group.",
        config_model=ActiveDirectoryConfig,
        credentials_model=ActiveDirectoryCredentials,
        streams=STREAMS,
        account_id=lambda config: normalise_dn(config.base_dn),
        client_factory=ActiveDirectoryClient,
    )


def _no_sync_client(provider: str) -> ClientFactory:
    def factory(
        config: BaseModel, credentials: BaseModel, *, on_tokens: Callable[[TokenSet], None], **_: Any
    ):
        raise NotImplementedError(
            f"{provider} has no sync client yet: its connections only receive webhooks "
            f"(POST /webhooks/{provider}/{{connection_id}})"
        )

    return factory


def _webhook_only(
    provider: str,
    display_name: str,
    description: str,
    config_model: type[BaseModel],
    credentials_model: type[BaseModel],
    account_field: str,
) -> ConnectorSpec:
    return ConnectorSpec(
        provider=provider,
        display_name=display_name,
        description=description,
        config_model=config_model,
        credentials_model=credentials_model,
        streams=(),
        account_id=lambda config: getattr(config, account_field),
        client_factory=_no_sync_client(provider),
    )


def _webhook_only_specs() -> tuple[ConnectorSpec, ...]:
    from connectors.webhooks import connections as c

    return (
        _webhook_only(
            "square",
            "Square",
            "Payments, orders and customers events from one Square seller, through signed webhooks.",
            c.SquareConfig,
            c.SquareCredentials,
            "merchant_id",
        ),
        _webhook_only(
            "twilio",
            "Twilio",
            "Message and call status callbacks and inbound messages for one Twilio account.",
            c.TwilioConfig,
            c.TwilioCredentials,
            "account_sid",
        ),
        _webhook_only(
            "docusign",
            "DocuSign",
            "Envelope and recipient events from DocuSign Connect, HMAC-signed.",
            c.DocuSignConfig,
            c.DocuSignCredentials,
            "account_id",
        ),
    )


_REGISTRY: dict[str, ConnectorSpec] = {
    spec.provider: spec
    for spec in (
        _quickbooks(),
        _xero(),
        _google_calendar(),
        _microsoft_calendar(),
        _stripe(),
        _slack(),
        _active_directory(),
        _salesforce(),
        *_webhook_only_specs(),
    )
}
CONNECTORS: Mapping[str, ConnectorSpec] = MappingProxyType(_REGISTRY)


def known_providers() -> list[str]:
    return sorted(_REGISTRY)


def get_connector(provider: str) -> ConnectorSpec:
    try:
        return _REGISTRY[provider]
    except KeyError:
        raise UnknownProviderError(provider, known_providers()) from None
