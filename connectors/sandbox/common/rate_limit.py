"""Sliding-window request limits, answered the way vendors do: refuse and say when to come back."""

import math
from collections import deque

from connectors.sandbox.common.clock import Clock


class SlidingWindowLimiter:
    """At most ``limit`` accepted requests per key in any ``window_seconds`` span.

    A sliding log rather than fixed buckets: a client that bursts across a minute boundary is still
    throttled, as real per-minute limits are. Refused requests are not counted.
    """

    def __init__(self, clock: Clock, window_seconds: float = 60.0) -> None:
        self._clock = clock
        self._window = window_seconds
        self._hits: dict[str, deque[float]] = {}

    def acquire(self, key: str, limit: int) -> int | None:
        """Record a request; return None when allowed, else whole seconds until a slot frees up."""
        now = self._clock.now()
        hits = self._hits.setdefault(key, deque())
        cutoff = now - self._window
        while hits and hits[0] <= cutoff:
            hits.popleft()
        if len(hits) >= limit:
            # The slot frees when the oldest counted hit of the over-limit window expires.
            return max(1, math.ceil(hits[len(hits) - limit] + self._window - now))
        hits.append(now)
        return None

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)
