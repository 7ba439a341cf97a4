"""Microsoft 365 calendar client: one mailbox's events through Microsoft Graph, tokens through msal.

Tokens: `msal.ConfidentialClientApplication` for the connection's authority (`<authority_host>/<tenant>`;
`instance_discovery=False` when the connection turns authority validation off), over the connector's own
`PinnedSession` (see `transport`: the connection's CA bundle, whatever REQUESTS_CA_BUNDLE says). Delegated
connections redeem the stored refresh token with `acquire_token_by_refresh_token`; Entra ID answers a new
refresh token every time, and `on_tokens` receives it before the access token is used (the old one may stop
working). Application connections use `acquire_token_for_client` (`https://graph.microsoft.com/.default`).

Reading: `GET /{me|users/{mailbox}}/calendarView/delta?startDateTime&endDateTime` starts a round, pages
follow `@odata.nextLink`, the last page's `@odata.deltaLink` is the cursor (opaque; the next round starts
from it and returns only changes, deletions as `{"id", "@removed": {"reason"}}`). A page in the middle of a
round carries the cursor as it was before the round, so resuming re-reads the round (loads are upserts).
410 Gone (`syncStateNotFound`, `resyncRequired`) raises `CursorExpiredError`: the engine starts over.

Writing: `update_event(id, change_key, fields)` PATCHes with `If-Match: W/"<changeKey>"`; a stale change key
(412) raises `ConflictError` carrying Graph's current event.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msal
import requests

from connectors.base import (
    AuthError,
    CompositeBucket,
    ConflictError,
    Page,
    PermanentError,
    RetryPolicy,
    Stream,
    TokenBucket,
    TokenSet,
    TransientError,
    retrying,
    shared_bucket,
)
from connectors.microsoft_calendar.config import (
    GRAPH_RESOURCE,
    MAILBOX_WINDOW_SECONDS,
    MicrosoftCalendarConfig,
    MicrosoftCalendarCredentials,
)
from connectors.microsoft_calendar.transport import (
    PROVIDER,
    PinnedSession,
    PreconditionFailed,
    send,
    translate,
)

log = logging.getLogger("connectors.microsoft_calendar")

STREAM = "events"
STREAMS = (STREAM,)
PAGE_SIZE = 100  # Prefer: odata.maxpagesize (Graph's delta default is 10)
# Graph asks clients to wait Retry-After and back off exponentially (learn.microsoft.com/graph/throttling).
DEFAULT_RETRY_POLICY = RetryPolicy(max_attempts=8, base_delay=1.0, max_delay=60.0, max_retry_after=300.0)
EXPIRY_MARGIN = timedelta(minutes=2)  # refresh a little before Entra ID's expiry
_REAUTHORISE = {"invalid_grant", "invalid_client", "unauthorized_client", "interaction_required"}


def _graph_time(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class MicrosoftCalendarClient:
    """One mailbox's calendar. `on_tokens` receives every new `TokenSet` before it is used."""

    provider = PROVIDER

    def __init__(
        self,
        config: MicrosoftCalendarConfig,
        credentials: MicrosoftCalendarCredentials,
        *,
        on_tokens: Callable[[TokenSet], None],
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        bucket: TokenBucket | None = None,
        vendor_bucket: TokenBucket | None = None,
        timeout: float = 30.0,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.config = config
        self._credentials = credentials
        self._on_tokens = on_tokens
        self._policy = retry_policy
        self._timeout = timeout
        self._now = now
        self._session = PinnedSession(config.ca_bundle, timeout)
        self._msal: msal.ConfidentialClientApplication | None = None
        self._refresh_token = (
            credentials.refresh_token.get_secret_value() if credentials.refresh_token else None
        )
        self._access_token = credentials.access_token.get_secret_value() if credentials.access_token else None
        self._expires_at = credentials.expires_at
        mailbox_bucket = bucket or shared_bucket(
            f"{PROVIDER}:{config.graph_url}:{config.client_id}:{config.account_email.lower()}",
            lambda: TokenBucket(config.requests_per_window / MAILBOX_WINDOW_SECONDS, 4),
        )
        self._bucket: TokenBucket | CompositeBucket = (
            CompositeBucket(mailbox_bucket, vendor_bucket) if vendor_bucket is not None else mailbox_bucket
        )

    def __repr__(self) -> str:
        return (
            f"MicrosoftCalendarClient(mailbox={self.config.account_email!r}, graph={self.config.graph_url!r})"
        )

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> MicrosoftCalendarClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- tokens

    def _app(self) -> msal.ConfidentialClientApplication:
        """msal's app, built on first use: building it reads the authority's OpenID configuration."""
        if self._msal is None:
            # msal's own switch (ClientApplication(instance_discovery=False)): with it off msal neither
            # validates the host nor asks login.microsoftonline.com for its aliases, which it would do even
            # when given a discovery URL of its own (msal 1.39 `_get_instance_metadata`).
            options: dict[str, Any] = {} if self.config.instance_discovery else {"instance_discovery": False}

            def build() -> msal.ConfidentialClientApplication:
                try:
                    return msal.ConfidentialClientApplication(
                        self.config.client_id,
                        client_credential=self._credentials.client_secret.get_secret_value(),
                        authority=self.config.authority,
                        http_client=self._session,
                        **options,
                    )
                except requests.exceptions.SSLError as error:
                    raise PermanentError(PROVIDER, "TLS verification of the authority failed") from error
                except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
                    raise TransientError(
                        PROVIDER, f"authority unreachable ({type(error).__name__})"
                    ) from error
                except ValueError as error:  # invalid_instance, unknown tenant (OIDC discovery 4xx)
                    raise PermanentError(PROVIDER, f"authority refused: {str(error)[:200]}") from None
                except OSError as error:  # requests could not open the configured CA bundle
                    raise PermanentError(
                        PROVIDER, "the connection's ca_bundle is not a readable file"
                    ) from error

            self._msal = retrying(build, policy=self._policy)
        return self._msal

    def _token_fresh(self) -> bool:
        return bool(self._access_token) and (
            self._expires_at is not None and self._expires_at - EXPIRY_MARGIN > self._now()
        )

    def _acquire(self) -> dict[str, Any]:
        app = self._app()
        try:
            if self.config.auth_mode == "application":
                return app.acquire_token_for_client(scopes=[f"{GRAPH_RESOURCE}/.default"])
            if not self._refresh_token:
                raise AuthError(PROVIDER, "no refresh token: connect the account again")
            return app.acquire_token_by_refresh_token(self._refresh_token, scopes=list(self.config.scopes))
        except requests.exceptions.SSLError as error:
            raise PermanentError(PROVIDER, "TLS verification of the token endpoint failed") from error
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as error:
            raise TransientError(PROVIDER, f"token endpoint unreachable ({type(error).__name__})") from error
        except OSError as error:
            raise PermanentError(PROVIDER, "the connection's ca_bundle is not a readable file") from error

    def refresh_tokens(self) -> None:
        """Get a new access token now (and, delegated, a rotated refresh token); `on_tokens` receives them."""

        def attempt() -> dict[str, Any]:
            result = self._acquire()
            if "access_token" in result:
                return result
            code = str(result.get("error") or "")
            description = str(result.get("error_description") or "").split("\r\n")[0][:200]
            if code in _REAUTHORISE:
                raise AuthError(PROVIDER, f"Entra ID refused the grant ({code}: {description}); reconnect")
            if code in ("temporarily_unavailable", "server_error") or not code:
                raise TransientError(PROVIDER, f"token endpoint: {code or 'no answer'}")
            raise PermanentError(PROVIDER, f"token endpoint: {code}: {description}")

        result = retrying(attempt, policy=self._policy)
        expires_in = int(result.get("expires_in") or 3600)
        self._access_token = str(result["access_token"])
        self._expires_at = self._now() + timedelta(seconds=expires_in)
        if result.get("refresh_token"):
            self._refresh_token = str(result["refresh_token"])
        self._on_tokens(
            TokenSet(
                access_token=self._access_token,
                refresh_token=self._refresh_token or "",
                access_expires_at=self._expires_at,
                refresh_expires_at=None,
            )
        )
        log.info("new Microsoft tokens for %s", self.config.account_email)

    # ---- calls

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        if not url.startswith(self.config.graph_url + "/"):
            # A cursor or link naming another host would carry the token there.
            raise PermanentError(PROVIDER, "refusing a Graph URL outside the configured graph_url")

        def attempt() -> requests.Response:
            for retry_auth in (True, False):
                if not self._token_fresh():
                    self.refresh_tokens()
                self._bucket.acquire()
                response = send(
                    self._session,
                    method,
                    url,
                    timeout=self._timeout,
                    params=params,
                    json=json,
                    headers={"Authorization": f"Bearer {self._access_token}", **(headers or {})},
                )
                if response.status_code == 401 and retry_auth:
                    self._expires_at = None  # rejected before its time (revoked): one refresh, then give up
                    continue
                if response.status_code >= 400:
                    raise translate(response)
                return response
            raise AssertionError("unreachable")

        return retrying(attempt, policy=self._policy)

    def _mailbox_url(self, suffix: str) -> str:
        return f"{self.config.graph_url}/{self.config.mailbox_path}/{suffix}"

    # ---- reading

    def me(self) -> dict[str, Any]:
        """The mailbox's user (`id`, `userPrincipalName`, `displayName`, `mail`)."""
        return self._request("GET", f"{self.config.graph_url}/{self.config.mailbox_path}").json()

    def organization(self) -> dict[str, Any]:
        """The signed-in tenant (`GET /organization`): its `id` is the tenant id."""
        value = self._request("GET", f"{self.config.graph_url}/organization").json().get("value") or []
        if not value or not isinstance(value[0], dict) or not value[0].get("id"):
            raise PermanentError(PROVIDER, "Graph named no organization for this account")
        return value[0]

    def window(self) -> tuple[datetime, datetime]:
        now = self._now().replace(microsecond=0)
        return now - timedelta(days=self.config.past_days), now + timedelta(days=self.config.future_days)

    def delta_page(self, link: str | None, page_size: int = PAGE_SIZE) -> dict[str, Any]:
        """One raw delta answer: from `link` (a nextLink or deltaLink), or a new round over the window."""
        headers = {"Prefer": f"odata.maxpagesize={page_size}"}
        if link:
            return self._request("GET", link, headers=headers).json()
        start, end = self.window()
        params = {"startDateTime": _graph_time(start), "endDateTime": _graph_time(end)}
        return self._request(
            "GET", self._mailbox_url("calendarView/delta"), params=params, headers=headers
        ).json()

    def pages(self, cursor: str | None = None, page_size: int = PAGE_SIZE) -> Iterator[Page]:
        """Events changed since `cursor` (a deltaLink; None: every event in the window)."""
        link = cursor or None
        while True:
            body = self.delta_page(link, page_size)
            records = [r for r in body.get("value") or [] if isinstance(r, dict) and r.get("id")]
            next_link = body.get("@odata.nextLink")
            if next_link:
                yield Page(records, cursor, has_more=True)
                link = next_link
                continue
            delta_link = body.get("@odata.deltaLink")
            if not delta_link:
                raise PermanentError(PROVIDER, "last delta page without @odata.deltaLink")
            yield Page(records, str(delta_link), has_more=False)
            return

    def streams(self) -> dict[str, Stream]:
        return {STREAM: MicrosoftCalendarStream(self)}

    def get_event(self, event_id: str) -> dict[str, Any]:
        return self._request("GET", self._mailbox_url(f"events/{event_id}")).json()

    # ---- writing

    def create_event(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._request("POST", self._mailbox_url("events"), json=body).json()

    def update_event(self, event_id: str, change_key: str | None, fields: dict[str, Any]) -> dict[str, Any]:
        """PATCH `fields` unless the event changed in Outlook since `change_key` (None: overwrite)."""
        headers = {"If-Match": f'W/"{change_key}"'} if change_key else {}
        try:
            return self._request(
                "PATCH", self._mailbox_url(f"events/{event_id}"), json=fields, headers=headers
            ).json()
        except PreconditionFailed as error:
            current = self.get_event(event_id)
            raise ConflictError(
                PROVIDER,
                f"event changed in Outlook (changeKey now {current.get('changeKey')})",
                current=current,
                status_code=error.status_code,
            ) from None

    def delete_event(self, event_id: str, change_key: str | None = None) -> None:
        """Delete unless changed in Outlook since `change_key` (ConflictError with Graph's copy); an event
        already gone is fine."""
        headers = {"If-Match": f'W/"{change_key}"'} if change_key else {}
        try:
            self._request("DELETE", self._mailbox_url(f"events/{event_id}"), headers=headers)
        except PreconditionFailed as error:
            current = self.get_event(event_id)
            raise ConflictError(
                PROVIDER,
                f"event changed in Outlook (changeKey now {current.get('changeKey')})",
                current=current,
                status_code=error.status_code,
            ) from None
        except PermanentError as error:
            if error.status_code != 404:
                raise

    def subscribe(self, notification_url: str, client_state: str, minutes: int = 4200) -> dict[str, Any]:
        """A Graph subscription to the mailbox's events (Graph validates `notification_url` first)."""
        body = {
            "changeType": "created,updated,deleted",
            "notificationUrl": notification_url,
            "resource": f"{self.config.mailbox_path}/events",
            "expirationDateTime": _graph_time(self._now() + timedelta(minutes=minutes)),
            "clientState": client_state,
        }
        return self._request("POST", f"{self.config.graph_url}/subscriptions", json=body).json()


@dataclass(frozen=True)
class MicrosoftCalendarStream:
    """The mailbox's calendar view as one generic `Stream`: Graph event resources (and `@removed` stubs)."""

    client: MicrosoftCalendarClient
    page_size: int = PAGE_SIZE

    @property
    def name(self) -> str:
        return STREAM

    @property
    def primary_key(self) -> tuple[str, ...]:
        return ("id",)

    def pages(self, cursor: str | None) -> Iterator[Page]:
        return self.client.pages(cursor, page_size=self.page_size)
