"""simple-salesforce underneath: a requests session that trusts the connection's CA bundle, reads API usage
from every answer, and Salesforce's errors mapped onto the connector error types.

The pitfall: requests lets `REQUESTS_CA_BUNDLE` / `CURL_CA_BUNDLE` from the environment override a
session's `verify` (Session.merge_environment_settings prefers them to `session.verify`). Many machines set
those to the system store, so a connection's own CA would be silently ignored and https to a private CA
would fail. `TrustingSession` re-applies the connection's bundle after that merge; with no bundle the
environment (or certifi) decides, as usual. Verification is never turned off.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from simple_salesforce.exceptions import (
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceMoreThanOneRecord,
    SalesforceResourceNotFound,
)

from connectors.base import (
    AuthError,
    ConnectorError,
    CursorExpiredError,
    PermanentError,
    RateLimitedError,
    TransientError,
    parse_retry_after,
)

PROVIDER = "salesforce"
_USAGE = re.compile(r"(?:^|[;,\s])api-usage=(\d+)/(\d+)")


class ApiLimitExceeded(PermanentError):
    """The org's daily API allocation is spent (403 REQUEST_LIMIT_EXCEEDED): not retried; it frees up as the
    rolling 24 hours move on."""


class ApiUsageNearLimit(PermanentError):
    """The org's API usage reached the share this connection must leave free: the sync stopped itself."""


class SessionExpired(ConnectorError):
    """401 INVALID_SESSION_ID: the caller refreshes the access token and tries once more."""


@dataclass(frozen=True)
class ApiUsage:
    used: int
    total: int


class TrustingSession(requests.Session):
    """requests.Session whose `verify` is the connection's CA bundle even when REQUESTS_CA_BUNDLE is set,
    with a default timeout and the latest `Sforce-Limit-Info` usage kept in `api_usage`."""

    def __init__(self, ca_bundle: str | None, timeout: float) -> None:
        super().__init__()
        self.ca_bundle = ca_bundle
        self.timeout = timeout
        self.api_usage: ApiUsage | None = None
        self.hooks["response"].append(self._read_usage)
        if ca_bundle:
            self.verify = ca_bundle

    def merge_environment_settings(self, url, proxies, stream, verify, cert):
        settings = super().merge_environment_settings(url, proxies, stream, verify, cert)
        if self.ca_bundle:
            settings["verify"] = self.ca_bundle
        return settings

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)

    def _read_usage(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        match = _USAGE.search(response.headers.get("Sforce-Limit-Info", ""))
        if match:
            self.api_usage = ApiUsage(int(match.group(1)), int(match.group(2)))


def _first_error(content: Any) -> tuple[str, str]:
    if isinstance(content, list) and content and isinstance(content[0], Mapping):
        return str(content[0].get("errorCode", "")), str(content[0].get("message", ""))
    if isinstance(content, Mapping):
        return str(content.get("errorCode") or content.get("error", "")), str(
            content.get("message") or content.get("error_description", "")
        )
    return "", str(content)[:200]


def map_error(error: Exception) -> Exception:
    """A simple-salesforce or requests exception as a connector error (messages hold no credentials)."""
    if isinstance(error, ConnectorError):
        return error
    if isinstance(error, requests.exceptions.SSLError):
        return PermanentError(
            PROVIDER,
            "TLS verification failed: set the connection's CA bundle to the CA that signed the server's "
            "certificate (REQUESTS_CA_BUNDLE does not apply to connections that name one)",
        )
    if isinstance(error, requests.exceptions.Timeout | requests.exceptions.ConnectionError):
        return TransientError(PROVIDER, f"network error: {type(error).__name__}")
    if not isinstance(error, SalesforceError):
        return error
    status = error.status
    code, message = _first_error(error.content)
    text = f"{status} {code}: {message}".strip()
    if isinstance(error, SalesforceExpiredSession) or code == "INVALID_SESSION_ID":
        return SessionExpired(PROVIDER, text, status_code=status)
    if code == "REQUEST_LIMIT_EXCEEDED" and status == 403:
        return ApiLimitExceeded(
            PROVIDER,
            f"{text} — the org's daily API allocation is spent; syncing resumes as the rolling 24 hours "
            "free it",
            status_code=status,
        )
    if code == "INVALID_REPLICATION_DATE":
        return CursorExpiredError(PROVIDER, text, status_code=status)
    if status == 429:
        return RateLimitedError(PROVIDER, text)
    if status >= 500:
        return TransientError(PROVIDER, text, status_code=status)
    if isinstance(error, SalesforceMoreThanOneRecord):
        return PermanentError(
            PROVIDER, f"external id matches several records: {error.content}", status_code=300
        )
    if isinstance(error, SalesforceResourceNotFound):
        return PermanentError(PROVIDER, text, status_code=404)
    return PermanentError(PROVIDER, text, status_code=status)


def token_error(response: requests.Response) -> Exception:
    """The token endpoint's answer to a failed refresh."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    code, message = _first_error(body if isinstance(body, Mapping) else {})
    text = f"token endpoint {response.status_code} {code}: {message}".strip()
    if response.status_code == 429:
        return RateLimitedError(
            PROVIDER, text, retry_after=parse_retry_after(response.headers.get("Retry-After"))
        )
    if response.status_code >= 500:
        return TransientError(PROVIDER, text, status_code=response.status_code)
    if code in ("invalid_grant", "invalid_client", "invalid_client_id", "unauthorized_client"):
        return AuthError(PROVIDER, text, status_code=response.status_code)
    return PermanentError(PROVIDER, text, status_code=response.status_code)
