"""Inbound webhook verification, one module per vendor; `verifier_for(provider)` picks one.

Each module's docstring states the vendor's published procedure and cites it. Everything here is pure:
bytes, headers and secrets in, a verdict and an event out.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from connectors.webhooks.base import (
    Reply,
    SignatureError,
    WebhookEvent,
    WebhookKey,
    WebhookRequest,
    WebhookVerifier,
)
from connectors.webhooks.docusign import DocuSignVerifier
from connectors.webhooks.microsoft import MicrosoftGraphVerifier
from connectors.webhooks.quickbooks import QuickBooksVerifier
from connectors.webhooks.slack import SlackVerifier
from connectors.webhooks.square import SquareVerifier
from connectors.webhooks.stripe import StripeVerifier
from connectors.webhooks.twilio import TwilioVerifier
from connectors.webhooks.xero import XeroVerifier


class UnknownWebhookProviderError(LookupError):
    def __init__(self, provider: str) -> None:
        super().__init__(f"no webhook intake for provider {provider!r}")
        self.provider = provider


_VERIFIERS: dict[str, WebhookVerifier] = {
    v.provider: v
    for v in (
        StripeVerifier(),
        SquareVerifier(),
        TwilioVerifier(),
        DocuSignVerifier(),
        QuickBooksVerifier(),
        XeroVerifier(),
        SlackVerifier(),
        MicrosoftGraphVerifier(),
    )
}
VERIFIERS: Mapping[str, WebhookVerifier] = MappingProxyType(_VERIFIERS)


def webhook_providers() -> list[str]:
    return sorted(_VERIFIERS)


def verifier_for(provider: str) -> WebhookVerifier:
    try:
        return _VERIFIERS[provider]
    except KeyError:
        raise UnknownWebhookProviderError(provider) from None


__all__ = [
    "VERIFIERS",
    "Reply",
    "SignatureError",
    "UnknownWebhookProviderError",
    "WebhookEvent",
    "WebhookKey",
    "WebhookRequest",
    "WebhookVerifier",
    "verifier_for",
    "webhook_providers",
]
