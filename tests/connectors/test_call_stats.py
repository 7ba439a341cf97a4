"""`retrying` counts every attempt, 429 and retry into the counters open in the caller's context only."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from connectors.base import PermanentError, RateLimitedError, RetryPolicy, TransientError, retrying
from connectors.call_stats import counting_calls
from tests.connectors.test_base import Flaky

POLICY = RetryPolicy(max_attempts=4, base_delay=0.0, sleep=lambda _s: None)


def test_attempts_429s_and_retries_are_counted() -> None:
    with counting_calls() as stats:
        flaky = Flaky(RateLimitedError("x", "429"), TransientError("x", "503"), RateLimitedError("x", "429"))
        assert retrying(flaky, policy=POLICY) == "ok"
        assert retrying(Flaky(), policy=POLICY) == "ok"
    assert stats.as_dict() == {"api_calls": 5, "throttled": 2, "retries": 3}


def test_a_call_given_up_on_still_counts() -> None:
    with counting_calls() as stats, pytest.raises(PermanentError):
        retrying(Flaky(TransientError("x", "503"), PermanentError("x", "400")), policy=POLICY)
    assert stats.as_dict() == {"api_calls": 2, "throttled": 0, "retries": 1}


def test_counters_nest_and_calls_outside_any_counter_go_nowhere() -> None:
    retrying(Flaky(), policy=POLICY)  # nobody counting: no error, nothing recorded
    with counting_calls() as run:
        retrying(Flaky(), policy=POLICY)
        with counting_calls() as stream:
            retrying(Flaky(RateLimitedError("x", "429")), policy=POLICY)
    assert (run.calls, run.throttled) == (3, 1)
    assert (stream.calls, stream.throttled) == (2, 1)


def test_threads_count_only_their_own_calls() -> None:
    def run(n: int) -> int:
        with counting_calls() as stats:
            for _ in range(n):
                retrying(Flaky(), policy=POLICY)
        return stats.calls

    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(run, [1, 2, 3, 4, 5, 6])) == [1, 2, 3, 4, 5, 6]
