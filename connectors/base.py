"""Machinery shared by every vendor connector: typed errors, pages and cursors, the stream
protocol, a token bucket for published rate limits and a retry helper built on tenacity.

Nothing here knows about a particular vendor; nothing here imports Dagster, SQLAlchemy or FastAPI.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol, TypeVar, runtime_checkable

import tenacity

from connectors import call_stats

log = logging.getLogger("connectors")

T = TypeVar("T")


# --------------------------------------------------------------------------- errors


class ConnectorError(Exception):
    """Base of every error a connector raises.

    `message` must be safe to log and to show an operator: it never contains credentials.
    """

    retryable: bool = False

    def __init__(self, provider: str, message: str, *, status_code: int | None = None) -> None:
        super().__init__(f"{provider}: {message}")
        self.provider = provider
        self.message = message
        self.status_code = status_code


class AuthError(ConnectorError):
    """Credentials were revoked or are invalid: permanent, the connection needs re-authorisation."""


class PermanentError(ConnectorError):
    """The vendor rejected the request (4xx validation and similar): retrying will not help."""


class TransientError(ConnectorError):
    """5xx answers, timeouts and dropped connections: worth retrying."""

    retryable = True


class CursorExpiredError(PermanentError):
    """The vendor no longer accepts the stored cursor (e.g. Google's 410 on a stale syncToken, a CDC
    window passed): the caller falls back to a full refresh."""


class ConflictError(ConnectorError):
    """A write carried a stale concurrency token (QuickBooks SyncToken, an etag, a change key): the
    vendor's record changed since the caller read it. Not retried and not a permanent failure: the
    caller resolves it by the stated rule against `current`, the vendor's record as it is now (None
    when the vendor would not return it)."""

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        current: dict | None = None,
        status_code: int | None = None,
    ) -> None:
        super().__init__(provider, message, status_code=status_code)
        self.current = current


class RateLimitedError(ConnectorError):
    """The vendor answered 429; `retry_after` is its Retry-After in seconds when it sent one."""

    retryable = True

    def __init__(
        self,
        provider: str,
        message: str,
        *,
        retry_after: float | None = None,
        status_code: int | None = 429,
    ) -> None:
        super().__init__(provider, message, status_code=status_code)
        self.retry_after = retry_after


def parse_retry_after(
    value: str | None, *, now: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> float | None:
    """Retry-After is either delta-seconds or an HTTP-date (RFC 9110 §10.2.3)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now()).total_seconds())


# --------------------------------------------------------------------------- pages, cursors, streams


@dataclass(frozen=True)
class Page:
    """One page of a stream.

    `cursor` is the value that is safe to persist once this page's records are loaded (in the
    same transaction): resuming from it neither skips records nor needs this page again.
    """

    records: list[dict]
    cursor: str | None
    has_more: bool


@dataclass(frozen=True, order=True)
class StreamCursor:
    """An ISO-8601 timestamp cursor, always timezone-aware UTC.

    Vendors send local offsets (QuickBooks: `2015-07-24T10:33:39-07:00`); comparing the strings
    would be wrong, so cursors are parsed, compared as instants and serialised in UTC.
    """

    value: datetime

    def __post_init__(self) -> None:
        if self.value.tzinfo is None or self.value.utcoffset() is None:
            raise ValueError("cursor timestamps must carry a timezone")
        object.__setattr__(self, "value", self.value.astimezone(UTC))

    @classmethod
    def parse(cls, text: str) -> StreamCursor:
        try:
            parsed = datetime.fromisoformat(text.strip())
        except ValueError as exc:
            raise ValueError(f"not an ISO-8601 timestamp: {text!r}") from exc
        return cls(parsed)

    def serialise(self) -> str:
        """`YYYY-MM-DDTHH:MM:SS[.ffffff]+00:00`."""
        return self.value.isoformat()

    def __str__(self) -> str:
        return self.serialise()

    @staticmethod
    def latest(*cursors: str | None) -> str | None:
        """The latest of several serialised cursors (None when all are None)."""
        parsed = [StreamCursor.parse(c) for c in cursors if c is not None]
        return max(parsed).serialise() if parsed else None

    @staticmethod
    def normalise(text: str | None) -> str | None:
        return None if text is None else StreamCursor.parse(text).serialise()


@runtime_checkable
class Stream(Protocol):
    """A named, resumable sequence of vendor records."""

    @property
    def name(self) -> str: ...

    @property
    def primary_key(self) -> tuple[str, ...]: ...

    def pages(self, cursor: str | None) -> Iterator[Page]:
        """Pages of records changed since `cursor` (everything when None)."""
        ...


# --------------------------------------------------------------------------- credentials


@dataclass(frozen=True)
class TokenSet:
    """Credentials a client obtained by refreshing, handed to its caller to persist.

    Vendors that rotate refresh tokens (QuickBooks, Xero) kill the old one on refresh, so the
    caller must store this before the client uses the new access token.
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    access_expires_at: datetime | None
    refresh_expires_at: datetime | None


# --------------------------------------------------------------------------- rate limiting


# Refill arithmetic in floats can leave 0.9999999 tokens after sleeping exactly "long enough";
# without a tolerance acquire() would spin on ever tinier sleeps.
_EPSILON = 1e-9


class TokenBucket:
    """Thread-safe token bucket: `acquire()` blocks until a token is available.

    `rate_per_second` tokens are added continuously up to `capacity`; a full bucket allows a
    burst of `capacity` calls.
    """

    def __init__(
        self,
        rate_per_second: float,
        capacity: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.rate = float(rate_per_second)
        self.capacity = float(capacity)
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(capacity)
        self._updated = clock()
        self._lock = threading.Lock()

    @classmethod
    def per_minute(cls, limit: int, *, burst: int = 10, **kwargs) -> TokenBucket:
        """A bucket that never exceeds `limit` calls in any 60-second window.

        A bucket admits at most `capacity + rate * 60` calls per minute, so the refill rate is
        reduced by the burst allowance: `per_minute(500)` bursts 10 and then refills 490/min.
        """
        if limit < 1:
            raise ValueError("limit must be at least 1")
        capacity = max(1, min(burst, limit // 10))
        return cls(max(limit - capacity, 1) / 60.0, capacity, **kwargs)

    @classmethod
    def per_second(cls, limit: float, *, burst: int | None = None, **kwargs) -> TokenBucket:
        return cls(limit, burst if burst is not None else max(1.0, limit), **kwargs)

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(self.capacity, self._tokens + elapsed * self.rate)
        self._updated = now

    def try_acquire(self, n: float = 1) -> bool:
        with self._lock:
            self._refill()
            if self._tokens >= n - _EPSILON:
                self._tokens -= n
                return True
            return False

    def clamp(self, available: float) -> None:
        """The vendor says only `available` calls remain in its window (e.g. Xero's X-MinLimit-Remaining):
        hand out no more than that now, so this process slows down before the vendor refuses."""
        with self._lock:
            self._refill()
            self._tokens = max(0.0, min(self._tokens, float(available)))

    def acquire(self, n: float = 1) -> float:
        """Take `n` tokens, blocking until they are available; returns the seconds waited."""
        if n > self.capacity:
            raise ValueError(f"cannot acquire {n} tokens from a bucket of capacity {self.capacity}")
        waited = 0.0
        while True:
            with self._lock:
                self._refill()
                if self._tokens >= n - _EPSILON:
                    self._tokens -= n
                    return waited
                wait = (n - self._tokens) / self.rate
            # Sleep outside the lock so other threads can refill/check meanwhile.
            self._sleep(wait)
            waited += wait


_shared_buckets: dict[str, TokenBucket] = {}
_shared_lock = threading.Lock()


class CompositeBucket:
    """Several limits at once, e.g. a vendor's per-account limit and the app's vendor-wide budget: a call
    waits until every bucket has a token. Duck-types `TokenBucket.acquire`."""

    def __init__(self, *buckets: TokenBucket) -> None:
        self.buckets = buckets

    def acquire(self, n: float = 1) -> float:
        return sum(bucket.acquire(n) for bucket in self.buckets)


def shared_bucket(key: str, factory: Callable[[], TokenBucket]) -> TokenBucket:
    """One bucket per key in this process (e.g. per QuickBooks realm), so every client for the
    same account shares the vendor's limit instead of each assuming it has the whole budget."""
    with _shared_lock:
        bucket = _shared_buckets.get(key)
        if bucket is None:
            bucket = _shared_buckets[key] = factory()
        return bucket


# --------------------------------------------------------------------------- retries


@dataclass(frozen=True)
class RetryPolicy:
    """Jittered exponential backoff for `RateLimitedError` and `TransientError`.

    Attempt k (1-based) waits `d/2 + uniform(0, d/2)` with `d = min(max_delay, base_delay * 2**(k-1))`,
    or the server's Retry-After when that is longer. A Retry-After above `max_retry_after` is not
    waited out in-process: the error is raised for the caller's own (step-level) retry.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 300.0
    sleep: Callable[[float], None] = time.sleep
    random: Callable[[], float] = random.random

    def backoff(self, attempt: int) -> float:
        ceiling = min(self.max_delay, self.base_delay * (2 ** (attempt - 1)))
        return ceiling / 2 + self.random() * ceiling / 2

    def wait_for(self, attempt: int, error: BaseException | None) -> float:
        wait = self.backoff(attempt)
        if isinstance(error, RateLimitedError) and error.retry_after is not None:
            wait = max(wait, error.retry_after)
        return wait


def _is_retryable(error: BaseException) -> bool:
    return isinstance(error, RateLimitedError | TransientError)


def retrying(call: Callable[[], T], *, policy: RetryPolicy) -> T:
    """Run `call`, retrying rate-limited and transient failures according to `policy`.

    AuthError, PermanentError and anything else are raised at once. When attempts run out the
    last typed error is raised (not tenacity's RetryError).
    """

    def give_up(state: tenacity.RetryCallState) -> bool:
        if state.attempt_number >= policy.max_attempts:
            return True
        error = state.outcome.exception() if state.outcome else None
        return (
            isinstance(error, RateLimitedError)
            and error.retry_after is not None
            and error.retry_after > policy.max_retry_after
        )

    def wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        return policy.wait_for(state.attempt_number, error)

    def attempt() -> T:
        call_stats.record(calls=1)
        try:
            return call()
        except RateLimitedError:
            call_stats.record(throttled=1)
            raise

    def log_retry(state: tenacity.RetryCallState) -> None:
        call_stats.record(retries=1)
        error = state.outcome.exception() if state.outcome else None
        sleep = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "retrying after %s (attempt %d of %d, waiting %.2fs)",
            error,
            state.attempt_number,
            policy.max_attempts,
            sleep,
        )

    retryer = tenacity.Retrying(
        retry=tenacity.retry_if_exception(_is_retryable),
        stop=give_up,
        wait=wait,
        sleep=policy.sleep,
        before_sleep=log_retry,
        reraise=True,
    )
    return retryer(attempt)
