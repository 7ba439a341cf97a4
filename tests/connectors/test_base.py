"""Shared connector machinery: token bucket, retry policy, cursors, errors."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest

from connectors.base import (
    AuthError,
    ConnectorError,
    Page,
    PermanentError,
    RateLimitedError,
    RetryPolicy,
    Stream,
    StreamCursor,
    TokenBucket,
    TokenSet,
    TransientError,
    parse_retry_after,
    retrying,
    shared_bucket,
)


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


# --------------------------------------------------------------------------- token bucket


def test_bucket_allows_a_burst_of_capacity_then_paces_at_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_second=2, capacity=3, clock=clock, sleep=clock.sleep)

    for _ in range(3):
        assert bucket.acquire() == 0.0
    assert clock.sleeps == []

    bucket.acquire()  # bucket empty: one token takes 1/rate seconds
    assert clock.sleeps == [pytest.approx(0.5)]
    bucket.acquire(2)
    assert sum(clock.sleeps) == pytest.approx(1.5)


def test_bucket_refills_while_idle_but_never_above_capacity() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_second=1, capacity=2, clock=clock, sleep=clock.sleep)
    bucket.acquire(2)
    clock.now += 100  # idle for a long time
    assert bucket.try_acquire(2)
    assert not bucket.try_acquire(1)
    assert clock.sleeps == []


def test_bucket_rejects_requests_larger_than_its_capacity() -> None:
    bucket = TokenBucket(rate_per_second=1, capacity=2)
    with pytest.raises(ValueError):
        bucket.acquire(3)


def test_per_minute_never_admits_more_than_the_published_limit_in_any_minute() -> None:
    clock = FakeClock()
    bucket = TokenBucket.per_minute(500, clock=clock, sleep=clock.sleep)
    start = clock.now
    admitted_at: list[float] = []
    for _ in range(1200):
        bucket.acquire()
        admitted_at.append(clock.now - start)
    # Slide a 60-second window over every admission time.
    for i, t in enumerate(admitted_at):
        in_window = sum(1 for u in admitted_at[i:] if u < t + 60)
        assert in_window <= 500
    # ...and it does not starve: 1200 calls take about 1200/490 minutes, not much more.
    assert admitted_at[-1] == pytest.approx((1200 - 10) / (490 / 60), rel=0.01)


def test_bucket_is_thread_safe_under_real_time() -> None:
    bucket = TokenBucket(rate_per_second=200, capacity=5)
    taken: list[int] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(10):
            bucket.acquire()
            with lock:
                taken.append(1)

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - started
    assert len(taken) == 40
    # 5 free, 35 at 200/s: at least 0.175 s; a race letting threads share tokens would be faster.
    assert elapsed >= 0.17


def test_shared_bucket_is_one_per_key() -> None:
    a = shared_bucket("test:realm-a", lambda: TokenBucket(1, 1))
    b = shared_bucket("test:realm-a", lambda: TokenBucket(1, 1))
    c = shared_bucket("test:realm-b", lambda: TokenBucket(1, 1))
    assert a is b
    assert a is not c


# --------------------------------------------------------------------------- retries


def make_policy(**overrides) -> tuple[RetryPolicy, list[float]]:
    waits: list[float] = []
    fields = {
        "max_attempts": 4,
        "base_delay": 1.0,
        "max_delay": 8.0,
        "sleep": waits.append,
        "random": lambda: 0.5,
    }
    fields.update(overrides)
    return RetryPolicy(**fields), waits


class Flaky:
    """Raises the given errors in order, then returns 'ok'."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_transient_and_rate_limited_errors_are_retried_with_growing_jittered_waits() -> None:
    policy, waits = make_policy()
    call = Flaky(TransientError("x", "503"), RateLimitedError("x", "429"), TransientError("x", "timeout"))
    assert retrying(call, policy=policy) == "ok"
    assert call.calls == 4
    # attempt k waits d/2 + random*d/2 with d = 1, 2, 4 and random = 0.5
    assert waits == [pytest.approx(0.75), pytest.approx(1.5), pytest.approx(3.0)]


def test_backoff_is_capped_and_jitter_stays_within_half_to_full_delay() -> None:
    low, _ = make_policy(random=lambda: 0.0)
    high, _ = make_policy(random=lambda: 0.999999)
    assert low.backoff(10) == pytest.approx(4.0)  # capped at max_delay 8, half of it
    assert high.backoff(10) == pytest.approx(8.0, rel=1e-5)
    assert low.backoff(1) == pytest.approx(0.5)


def test_retry_after_is_honoured_as_a_minimum_wait() -> None:
    policy, waits = make_policy()
    call = Flaky(RateLimitedError("x", "429", retry_after=7.0), RateLimitedError("x", "429", retry_after=0.1))
    assert retrying(call, policy=policy) == "ok"
    assert waits[0] == pytest.approx(7.0)  # the server asked for more than the backoff
    assert waits[1] == pytest.approx(1.5)  # the backoff was longer than the server asked


def test_gives_up_after_max_attempts_and_raises_the_last_typed_error() -> None:
    policy, waits = make_policy(max_attempts=3)
    last = TransientError("x", "third")
    call = Flaky(
        TransientError("x", "first"), TransientError("x", "second"), last, TransientError("x", "4th")
    )
    with pytest.raises(TransientError) as raised:
        retrying(call, policy=policy)
    assert raised.value is last
    assert call.calls == 3
    assert len(waits) == 2


@pytest.mark.parametrize("error", [AuthError("x", "revoked"), PermanentError("x", "400"), ValueError("bug")])
def test_auth_permanent_and_unexpected_errors_are_never_retried(error: Exception) -> None:
    policy, waits = make_policy()
    call = Flaky(error)
    with pytest.raises(type(error)):
        retrying(call, policy=policy)
    assert call.calls == 1
    assert waits == []


def test_a_retry_after_beyond_the_policy_is_left_to_the_caller() -> None:
    policy, waits = make_policy(max_retry_after=60)
    call = Flaky(RateLimitedError("x", "429", retry_after=3600))
    with pytest.raises(RateLimitedError) as raised:
        retrying(call, policy=policy)
    assert raised.value.retry_after == 3600
    assert call.calls == 1
    assert waits == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        (" 2.5 ", 2.5),
        ("-3", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
    ],
)
def test_parse_retry_after_accepts_seconds_and_http_dates(header: str | None, expected: float | None) -> None:
    now = datetime(2015, 10, 21, 7, 28, 0, tzinfo=UTC)
    assert parse_retry_after(header, now=lambda: now) == expected


# --------------------------------------------------------------------------- cursors, pages, errors


def test_cursor_parses_offsets_and_serialises_in_utc() -> None:
    cursor = StreamCursor.parse("2015-07-24T10:33:39-07:00")
    assert cursor.value == datetime(2015, 7, 24, 17, 33, 39, tzinfo=UTC)
    assert cursor.value.tzinfo is UTC
    assert cursor.serialise() == "2015-07-24T17:33:39+00:00"
    assert StreamCursor.parse(cursor.serialise()) == cursor
    assert StreamCursor.parse("2015-07-24T17:33:39Z") == cursor
    assert StreamCursor.normalise("2015-07-24T17:33:39.250000+02:00") == "2015-07-24T15:33:39.250000+00:00"
    assert StreamCursor.normalise(None) is None


def test_cursors_compare_as_instants_not_strings() -> None:
    # As strings "10:00-07:00" > "12:00+00:00", but as instants it is 17:00Z, later than 12:00Z.
    pacific = StreamCursor.parse("2015-07-24T10:00:00-07:00")
    utc = StreamCursor.parse("2015-07-24T12:00:00+00:00")
    assert pacific > utc
    assert StreamCursor.latest("2015-07-24T12:00:00+00:00", None, "2015-07-24T10:00:00-07:00") == (
        "2015-07-24T17:00:00+00:00"
    )
    assert StreamCursor.latest(None, None) is None
    assert StreamCursor(datetime(2020, 1, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == StreamCursor(
        datetime(2020, 1, 1, tzinfo=UTC)
    )


@pytest.mark.parametrize("bad", ["2015-07-24T10:00:00", "yesterday", ""])
def test_cursor_rejects_naive_or_malformed_timestamps(bad: str) -> None:
    with pytest.raises(ValueError):
        StreamCursor.parse(bad)


def test_errors_carry_provider_and_safe_message() -> None:
    error = RateLimitedError("quickbooks", "rate limited (429)", retry_after=3)
    assert isinstance(error, ConnectorError)
    assert error.provider == "quickbooks"
    assert error.status_code == 429
    assert str(error) == "quickbooks: rate limited (429)"
    assert TransientError.retryable and RateLimitedError.retryable
    assert not AuthError.retryable and not PermanentError.retryable


def test_token_set_repr_hides_tokens() -> None:
    tokens = TokenSet("access-secret", "refresh-secret", None, None)
    assert "secret" not in repr(tokens)


def test_stream_protocol_is_structural() -> None:
    class Numbers:
        name = "numbers"
        primary_key = ("n",)

        def pages(self, cursor: str | None):
            yield Page([{"n": 1}], cursor="1", has_more=False)

    assert isinstance(Numbers(), Stream)
    assert not isinstance(object(), Stream)


def test_composite_bucket_waits_for_the_slowest_limit():
    from connectors.base import CompositeBucket, TokenBucket

    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    per_realm = TokenBucket(rate_per_second=10, capacity=1, clock=lambda: now[0], sleep=sleep)
    per_vendor = TokenBucket(rate_per_second=1, capacity=1, clock=lambda: now[0], sleep=sleep)
    both = CompositeBucket(per_realm, per_vendor)
    both.acquire()
    both.acquire()  # the realm bucket refills in 0.1 s, the vendor bucket only after 1 s
    assert now[0] >= 1.0 - 1e-9
    assert sum(slept) >= 1.0 - 1e-9
