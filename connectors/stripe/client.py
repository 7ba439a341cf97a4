"""Stripe client: lists and retrieves through the official SDK (stripe-python's `StripeClient`), pointed
at the connection's API base URL, one page at a time so every page can carry a cursor.

How the SDK is driven (stripe 16.1.0):
- `StripeClient(key, base_addresses={"api": config.api_base_url}, max_network_retries=…,
  http_client=RequestsClient(timeout=…))`. The SDK itself retries connection errors, timeouts, 409s and
  5xx answers (with `Stripe-Should-Retry` honoured) up to `max_network_retries` times.
- The SDK does not retry 429s caused by the rate limiter (only lock timeouts, which Stripe marks with
  `Stripe-Should-Retry: true`), so a rate-limited call surfaces as `stripe.RateLimitError`; this client
  retries it (and whatever the SDK gave up on) with `connectors.base.retrying`: jittered exponential
  backoff, Retry-After honoured when sent. A token bucket sized to Stripe's published read limit (25/s
  test, 100/s live, per account) keeps the client under the limit to begin with.
- Pages are read with `list(limit=100, starting_after=<last id>)` rather than `auto_paging_iter()`, which
  walks the same `starting_after` chain but cannot be resumed after an error mid-walk, nor tell where a
  page ends (where cursors are saved). Records are the raw JSON of each answer (`last_response.data`),
  not the SDK's objects, so mapping functions and the warehouse's `raw` column see what Stripe sent.

Incremental reads (see `CreatedPager`): every stream is listed with `created[gte]=<cursor>`, newest first.
Customers, charges, payment intents and refunds are listed for *new* objects; changes to objects already
synced (a charge refunded, a customer updated or deleted) come from the events stream, whose events carry
the object as it became (`mapping.event_change`). Events pages come newest first, so a loader applies
`mapping.latest_changes` of the whole read (the events stream moves its cursor on its last page only), never
page by page. Stripe keeps events for 30 days: an events cursor older than that raises
`CursorExpiredError`, and the caller falls back to a full refresh of every stream.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe

from connectors.base import (
    AuthError,
    CursorExpiredError,
    Page,
    PermanentError,
    RateLimitedError,
    RetryPolicy,
    Stream,
    StreamCursor,
    TokenBucket,
    TransientError,
    parse_retry_after,
    retrying,
    shared_bucket,
)
from connectors.stripe.config import StripeConfig, StripeCredentials
from connectors.stripe.mapping import PROVIDER

log = logging.getLogger("connectors.stripe")

PAGE_SIZE = 100  # Stripe's largest `limit`
STREAMS: tuple[str, ...] = ("customers", "charges", "payment_intents", "refunds", "events")
# GET /v1/events "going back up to 30 days"; a margin keeps a cursor from expiring mid-read.
EVENT_RETENTION = timedelta(days=30)
EVENT_RETENTION_MARGIN = timedelta(hours=1)
DEFAULT_RETRY_POLICY = RetryPolicy(max_attempts=8, base_delay=0.5, max_delay=20.0, max_retry_after=120.0)
DEFAULT_NETWORK_RETRIES = 2


def _translate(error: stripe.StripeError) -> Exception:
    """The SDK's errors as the connector's typed errors (messages never carry the key: Stripe masks it)."""
    status = error.http_status
    message = error.user_message or str(error) or type(error).__name__
    if isinstance(error, stripe.RateLimitError):
        headers = error.headers or {}
        return RateLimitedError(PROVIDER, message, retry_after=parse_retry_after(headers.get("Retry-After")))
    if isinstance(error, stripe.AuthenticationError | stripe.PermissionError):
        return AuthError(PROVIDER, message, status_code=status)
    if isinstance(error, stripe.APIConnectionError) or (status is not None and status >= 500):
        return TransientError(PROVIDER, message, status_code=status)
    return PermanentError(PROVIDER, message, status_code=status)


def _seconds(cursor: str | None) -> int | None:
    return None if cursor is None else int(StreamCursor.parse(cursor).value.timestamp())


def _cursor_at(created: int) -> str:
    return StreamCursor(datetime.fromtimestamp(created, UTC)).serialise()


class StripeAccountClient:
    """One Stripe account through the official SDK. `on_tokens` is accepted for the registry's factory
    signature and never called: an API key does not rotate by itself."""

    provider = PROVIDER

    def __init__(
        self,
        config: StripeConfig,
        credentials: StripeCredentials,
        *,
        on_tokens: Callable[[Any], None] | None = None,
        retry_policy: RetryPolicy = DEFAULT_RETRY_POLICY,
        bucket: TokenBucket | None = None,
        timeout: float = 30.0,
        max_network_retries: int = DEFAULT_NETWORK_RETRIES,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if credentials.api_key is None:
            raise AuthError(PROVIDER, "the connection has no API key: add a secret or restricted key to sync")
        self.config = config
        self._policy = retry_policy
        self._now = now
        rate = config.reads_per_second or credentials.reads_per_second()
        self.bucket = bucket or shared_bucket(
            f"{PROVIDER}:{config.api_base_url}:{config.account_id}", lambda: TokenBucket.per_second(rate)
        )
        self._http = stripe.RequestsClient(timeout=timeout)
        self._sdk = stripe.StripeClient(
            credentials.api_key.get_secret_value(),
            base_addresses={"api": config.api_base_url},
            max_network_retries=max_network_retries,
            http_client=self._http,
        )

    def __repr__(self) -> str:
        return f"StripeAccountClient(account_id={self.config.account_id!r}, api={self.config.api_base_url!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> StripeAccountClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- calls

    def _service(self, stream: str) -> Any:
        if stream not in STREAMS:
            raise ValueError(f"unknown Stripe stream {stream!r}; known: {', '.join(STREAMS)}")
        return getattr(self._sdk.v1, stream)

    def _call(self, operation: Callable[[], Any]) -> dict[str, Any]:
        """One SDK call under the bucket, retried by policy; the answer's raw JSON."""

        def attempt() -> dict[str, Any]:
            self.bucket.acquire()
            try:
                result = operation()
            except stripe.StripeError as error:
                raise _translate(error) from error
            body = result.last_response.data if result.last_response is not None else None
            if not isinstance(body, dict):
                raise PermanentError(PROVIDER, "answer is not a JSON object")
            return body

        return retrying(attempt, policy=self._policy)

    def list_page(
        self,
        stream: str,
        *,
        created_gte: int | None = None,
        starting_after: str | None = None,
        limit: int = PAGE_SIZE,
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of a list, newest first: its objects and Stripe's `has_more`."""
        params: dict[str, Any] = {"limit": limit}
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        if starting_after is not None:
            params["starting_after"] = starting_after
        service = self._service(stream)
        body = self._call(lambda: service.list(params))
        data = body.get("data")
        if not isinstance(data, list):
            raise PermanentError(PROVIDER, f"{stream}: list answer has no data array")
        return data, body.get("has_more") is True

    def retrieve(self, stream: str, object_id: str) -> dict[str, Any]:
        """One object by id (a deleted customer answers `{"id", "object", "deleted": true}`)."""
        service = self._service(stream)
        return self._call(lambda: service.retrieve(object_id))

    def delete_customer(self, customer_id: str) -> dict[str, Any]:
        return self._call(lambda: self._sdk.v1.customers.delete(customer_id))

    # ---- streams

    def pages(self, stream: str, since: str | None = None, page_size: int = PAGE_SIZE) -> Iterator[Page]:
        """Objects of `stream` created at or after `since` (all when None); for `events`, every change
        recorded since then. See `CreatedPager` for the cursor each page carries."""
        if stream == "events":
            self._check_event_cursor(since)
        self._service(stream)

        def fetch(created_gte: int | None, starting_after: str | None) -> tuple[list[dict[str, Any]], bool]:
            return self.list_page(
                stream, created_gte=created_gte, starting_after=starting_after, limit=page_size
            )

        return CreatedPager(fetch).pages(since)

    def _check_event_cursor(self, since: str | None) -> None:
        if since is None:
            return
        oldest = self._now() - EVENT_RETENTION + EVENT_RETENTION_MARGIN
        if StreamCursor.parse(since).value < oldest:
            raise CursorExpiredError(
                PROVIDER,
                f"events cursor {since} is older than Stripe's 30 days of events: full refresh needed",
            )

    def streams(self) -> dict[str, Stream]:
        return {name: StripeStream(self, name) for name in STREAMS}

    def count(self, stream: str) -> int | None:
        """Stripe lists carry no total count."""
        return None


@dataclass
class CreatedPager:
    """Incremental paging over a Stripe list, newest first, filtered by `created[gte]`.

    Stripe walks a list from the newest object to the oldest (`starting_after` = the last id of the
    previous page), and `created` is in whole seconds. So:

    - The filter is `gte`, not `gt`: objects created later in the same second as the cursor would
      otherwise be missed forever. Those of the cursor's own second are read again (at-least-once at the
      boundary; loads are upserts).
    - Until the walk reaches its oldest page, a page's cursor stays where the walk began: resuming a
      killed walk from it reads the pages again but skips nothing. The last page carries the newest
      `created` of the walk. Objects created while the walk runs sit ahead of its start, at or after
      that time, so the next run's `gte` finds them.
    """

    fetch: Callable[[int | None, str | None], tuple[list[dict[str, Any]], bool]]

    def pages(self, since: str | None) -> Iterator[Page]:
        created_gte = _seconds(since)
        newest: int | None = None
        starting_after: str | None = None
        while True:
            rows, has_more = self.fetch(created_gte, starting_after)
            for row in rows:
                created = row.get("created")
                if not isinstance(created, int) or isinstance(created, bool):
                    raise PermanentError(PROVIDER, f"object {row.get('id')!r} has no integer `created`")
                if newest is None or created > newest:
                    newest = created
            if rows:
                starting_after = str(rows[-1]["id"])
            last = not has_more or not rows
            if last:
                cursor = StreamCursor.latest(since, _cursor_at(newest)) if newest is not None else since
                yield Page(rows, cursor, has_more=False)
                return
            yield Page(rows, since, has_more=True)


@dataclass(frozen=True)
class StripeStream:
    """`connectors.base.Stream` over one Stripe list."""

    client: StripeAccountClient
    name: str
    primary_key: tuple[str, ...] = ("id",)

    def pages(self, cursor: str | None) -> Iterator[Page]:
        return self.client.pages(self.name, cursor)
