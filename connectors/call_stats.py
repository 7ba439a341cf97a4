"""Per-run figures of a connector's vendor calls: attempts, 429 answers and retries.

`retrying` (connectors/base.py) reports every attempt here. A caller that wants the figures for a piece of
work (the sync engine, for one connection's run) opens `counting_calls()` around it and reads the
`CallStats` afterwards. A context variable, not a global: sweeps sync several connections at once in
threads, and each thread's run must count only its own calls. Counters nest (a stream inside a run), and
every open one counts the call.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field


@dataclass
class CallStats:
    calls: int = 0  # attempts sent to the vendor through `retrying` (a retry is a new attempt)
    throttled: int = 0  # attempts the vendor answered with 429
    retries: int = 0  # attempts that were waited out and tried again
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, calls: int = 0, throttled: int = 0, retries: int = 0) -> None:
        with self._lock:
            self.calls += calls
            self.throttled += throttled
            self.retries += retries

    def as_dict(self) -> dict[str, int]:
        return {"api_calls": self.calls, "throttled": self.throttled, "retries": self.retries}


_open: ContextVar[tuple[CallStats, ...]] = ContextVar("firmsync_call_stats", default=())


@contextmanager
def counting_calls() -> Iterator[CallStats]:
    """Count the vendor calls made inside this block (and in this context only)."""
    stats = CallStats()
    token = _open.set((*_open.get(), stats))
    try:
        yield stats
    finally:
        _open.reset(token)


def record(*, calls: int = 0, throttled: int = 0, retries: int = 0) -> None:
    for stats in _open.get():
        stats.add(calls=calls, throttled=throttled, retries=retries)
