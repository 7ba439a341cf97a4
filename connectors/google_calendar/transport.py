"""google-api-python-client and google-auth as this connector drives them: the service built against a
configured endpoint, user credentials that report every refresh, and the SDK's exceptions turned into the
connector's typed errors.

How the SDK is driven (google-api-python-client 2.202.0, google-auth 2.62.2, google-auth-httplib2 0.4.4):
- `build("calendar", "v3", http=AuthorizedHttp(credentials, http=httplib2.Http(timeout=…)),
  client_options={"api_endpoint": config.api_endpoint}, static_discovery=True)`: the discovery document
  bundled with the SDK, method paths joined onto the configured endpoint, no discovery request.
- `google.oauth2.credentials.Credentials(token, refresh_token, token_uri, client_id, client_secret, expiry)`:
  `AuthorizedHttp` refreshes them before a request when they are (nearly) expired and once more on a 401,
  both through `Credentials.refresh`; `ReportingCredentials` hands every refresh to the client, which
  persists the tokens (`on_tokens`) before the request is sent with the new access token.
- Requests run with `execute(num_retries=0)`: retries are the connector's own (`connectors.base.retrying`),
  which honour Retry-After and the token bucket.
"""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from typing import Any

import google.auth.exceptions
import google.oauth2.credentials
import google_auth_httplib2
import httplib2
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from connectors.base import (
    AuthError,
    ConflictError,
    ConnectorError,
    CursorExpiredError,
    PermanentError,
    RateLimitedError,
    TransientError,
    parse_retry_after,
)

PROVIDER = "google_calendar"
# 403 reasons meaning "slow down", not "not allowed" (developers.google.com/calendar/api/guides/errors).
_THROTTLE_REASONS = {"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"}
_AUTH_403_REASONS = {"insufficientPermissions", "forbidden", "authError", "accessNotConfigured"}


class ReportingCredentials(google.oauth2.credentials.Credentials):
    """Google user credentials that call `listener(self)` right after each successful refresh."""

    listener: Callable[[ReportingCredentials], None] | None = None

    def refresh(self, request: Any) -> None:
        super().refresh(request)
        if self.listener is not None:
            self.listener(self)


class PreconditionFailed(ConflictError):
    """412 conditionNotMet: the If-Match etag is stale. The client adds the vendor's current copy."""


class EventGone(PermanentError):
    """410 deleted: the event was deleted already."""


def authorized_http(credentials: ReportingCredentials, http: httplib2.Http) -> Any:
    return google_auth_httplib2.AuthorizedHttp(credentials, http=http)


def calendar_service(http: Any, api_endpoint: str) -> Any:
    """The Calendar API v3 service from the SDK's bundled discovery document, at `api_endpoint`."""
    return build(
        "calendar",
        "v3",
        http=http,
        client_options={"api_endpoint": api_endpoint},
        static_discovery=True,
        cache_discovery=False,
    )


def _details(error: HttpError) -> list[dict[str, Any]]:
    details = error.error_details
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def translate_http_error(error: HttpError) -> ConnectorError:
    """The connector error for one of Google's error answers (messages never carry credentials)."""
    status = error.resp.status
    reasons = {str(d.get("reason")) for d in _details(error)}
    message = (error.reason or "").strip()[:300] or f"HTTP {status}"
    retry_after = parse_retry_after(error.resp.get("retry-after"))
    if status == 429 or (status == 403 and reasons & _THROTTLE_REASONS):
        return RateLimitedError(
            PROVIDER,
            f"rate limited ({status} {', '.join(sorted(reasons)) or 'rateLimitExceeded'})",
            retry_after=retry_after,
            status_code=status,
        )
    if status >= 500:
        return TransientError(PROVIDER, f"HTTP {status}: {message}", status_code=status)
    if status == 401:
        return AuthError(
            PROVIDER, "access token rejected right after a refresh; reconnect the account", status_code=401
        )
    if status == 403 and (reasons & _AUTH_403_REASONS or not reasons):
        return AuthError(
            PROVIDER, f"not allowed (403: {message}); reconnect with the needed scopes", status_code=403
        )
    if status == 410 and "fullSyncRequired" in reasons:
        return CursorExpiredError(
            PROVIDER, "sync token expired (410 fullSyncRequired): full sync needed", status_code=410
        )
    if status == 410:
        return EventGone(PROVIDER, "already deleted (410)", status_code=410)
    if status == 412:
        return PreconditionFailed(
            PROVIDER, "the event changed in Google since it was read (412)", status_code=412
        )
    return PermanentError(PROVIDER, f"HTTP {status}: {message}", status_code=status)


def translate_refresh_error(error: google.auth.exceptions.RefreshError) -> ConnectorError:
    if getattr(error, "retryable", False):
        return TransientError(PROVIDER, "token endpoint unavailable; will retry")
    code = None
    if len(error.args) > 1 and isinstance(error.args[1], dict):
        code = error.args[1].get("error")
    return AuthError(
        PROVIDER, f"token refresh refused ({code or 'refresh failed'}); the account must be reconnected"
    )


def call(operation: Callable[[], Any]) -> Any:
    """Run one SDK call, raising connector errors for every failure the SDK or the network reports."""
    try:
        return operation()
    except HttpError as error:
        raise translate_http_error(error) from None
    except google.auth.exceptions.RefreshError as error:
        raise translate_refresh_error(error) from None
    except google.auth.exceptions.TransportError as error:
        raise TransientError(PROVIDER, f"token endpoint unreachable ({type(error).__name__})") from error
    except TimeoutError as error:
        raise TransientError(PROVIDER, "request timed out") from error
    except (ConnectionError, http.client.HTTPException, httplib2.HttpLib2Error, OSError) as error:
        raise TransientError(PROVIDER, f"connection failed ({type(error).__name__})") from error
    except json.JSONDecodeError as error:
        raise TransientError(PROVIDER, "response body was not valid JSON") from error
