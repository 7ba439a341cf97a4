"""Which connectors exist, and what each needs: the API validates connection bodies with the
models named here and the SPA renders the connect form from their JSON schemas."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from connectors.base import TokenSet

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
    from connectors.quickbooks.client import QuickBooksClient
    from connectors.quickbooks.config import QuickBooksConfig, QuickBooksCredentials

    return ConnectorSpec(
        provider="quickbooks",
        display_name="QuickBooks Online",
        description="Customers from QuickBooks Online, synced incrementally by last-updated time.",
        config_model=QuickBooksConfig,
        credentials_model=QuickBooksCredentials,
        streams=("customers",),
        account_id=lambda config: config.realm_id,
        client_factory=QuickBooksClient,
    )


_REGISTRY: dict[str, ConnectorSpec] = {spec.provider: spec for spec in (_quickbooks(),)}
CONNECTORS: Mapping[str, ConnectorSpec] = MappingProxyType(_REGISTRY)


def known_providers() -> list[str]:
    return sorted(_REGISTRY)


def get_connector(provider: str) -> ConnectorSpec:
    try:
        return _REGISTRY[provider]
    except KeyError:
        raise UnknownProviderError(provider, known_providers()) from None
