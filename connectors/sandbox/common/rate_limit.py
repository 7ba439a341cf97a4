"""Sliding-window request limits, answered the way vendors do: refuse and say when to come back."""

import math
from collections import deque

from connectors.sandbox.common.clock import Clock


class SlidingWindowLimiter:
    """At most ``limit`` accepted requests per key in any ``window_seconds`` span.

    A sliding log rather than fixed buckets: a client that bursts across a minute boundary is still
    throttled, as real per-minute limits are. Refused requests are not counted. A call may pass its own
    ``window`` (a vendor whose time is scaled per tenant); a key must always be used with one window.
    """

    def __init__(self, clock: Clock, window_seconds: float = 60.0) -> None:
        self._clock = clock
        self._window = window_seconds
        self._hits: dict[str, deque[float]] = {}

    def _live(self, key: str, window: float) -> deque[float]:
        hits = self._hits.setdefault(key, deque())
        cutoff = self._clock.now() - window
        while hits and hits[0] <= cutoff:
            hits.popleft()
        return hits

    def retry_after(self, key: str, limit: int, window: float | None = None) -> int | None:
        """Without recording anything: None when a request would be allowed, else whole seconds to wait."""
        window = window or self._window
        hits = self._live(key, window)
        if len(hits) < limit:
            return None
        # The slot frees when the oldest counted hit of the over-limit window expires.
        return max(1, math.ceil(hits[len(hits) - limit] + window - self._clock.now()))

    def record(self, key: str) -> None:
        self._hits.setdefault(key, deque()).append(self._clock.now())

    def remaining(self, key: str, limit: int, window: float | None = None) -> int:
        return max(0, limit - len(self._live(key, window or self._window)))

    def acquire(self, key: str, limit: int, window: float | None = None) -> int | None:
        """Record a request; return None when allowed, else whole seconds until a slot frees up."""
        wait = self.retry_after(key, limit, window)
        if wait is None:
            self.record(key)
        return wait

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)
