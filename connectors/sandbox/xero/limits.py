"""Xero's API limits (developer.xero.com/documentation/guides/oauth2/limits).

Per tenant: 5 calls in progress, 60 per minute, 5,000 per day; per app: 10,000 per minute across all
tenants. Every answer carries ``X-DayLimit-Remaining``, ``X-MinLimit-Remaining`` and
``X-AppMinLimit-Remaining``; a refused call is 429 with ``X-Rate-Limit-Problem`` (``day``, ``minute``,
``appminute`` or ``concurrent``) and ``Retry-After`` in seconds (Xero documents it for the minute
and day limits; the sandbox also sends ``1`` for the concurrent one). Windows slide, on the sandbox
clock; a tenant's ``time_scale`` divides them (60 makes its "minute" one second) for benchmarks.
Refused calls are not counted.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass

from connectors.sandbox.common.clock import Clock
from connectors.sandbox.common.rate_limit import SlidingWindowLimiter
from connectors.sandbox.xero.tenant import Tenant

MINUTE, DAY = 60.0, 86_400.0
APP_KEY = "app:minute"


@dataclass(frozen=True)
class Verdict:
    problem: str | None  # None when the call may proceed
    retry_after: int
    headers: list[tuple[str, str]]


class ApiLimits:
    def __init__(self, clock: Clock, app_minute_limit: int) -> None:
        self.limiter = SlidingWindowLimiter(clock)
        self.app_minute_limit = app_minute_limit
        self.in_flight: Counter[str] = Counter()
        self.throttled: dict[str, Counter[str]] = defaultdict(Counter)

    def _headers(self, tenant: Tenant) -> list[tuple[str, str]]:
        limits, scale, key = tenant.limits, tenant.limits.time_scale, tenant.tenant_id
        return [
            (
                "X-DayLimit-Remaining",
                str(self.limiter.remaining(f"{key}:day", limits.day_limit, DAY / scale)),
            ),
            (
                "X-MinLimit-Remaining",
                str(self.limiter.remaining(f"{key}:minute", limits.minute_limit, MINUTE / scale)),
            ),
            ("X-AppMinLimit-Remaining", str(self.limiter.remaining(APP_KEY, self.app_minute_limit, MINUTE))),
        ]

    def enter(self, tenant: Tenant) -> Verdict:
        """Count the call in (and hold a concurrency slot) or say which limit refuses it."""
        limits, scale, key = tenant.limits, tenant.limits.time_scale, tenant.tenant_id
        checks = (
            ("day", f"{key}:day", limits.day_limit, DAY / scale),
            ("minute", f"{key}:minute", limits.minute_limit, MINUTE / scale),
            ("appminute", APP_KEY, self.app_minute_limit, MINUTE),
        )
        for problem, limiter_key, limit, window in checks:
            wait = self.limiter.retry_after(limiter_key, limit, window)
            if wait is not None:
                return self._refuse(tenant, problem, wait)
        if self.in_flight[key] >= limits.concurrent_limit:
            return self._refuse(tenant, "concurrent", 1)
        for _, limiter_key, _, _ in checks:
            self.limiter.record(limiter_key)
        self.in_flight[key] += 1
        return Verdict(None, 0, self._headers(tenant))

    def _refuse(self, tenant: Tenant, problem: str, wait: int) -> Verdict:
        self.throttled[tenant.tenant_id][problem] += 1
        headers = [*self._headers(tenant), ("X-Rate-Limit-Problem", problem), ("Retry-After", str(wait))]
        return Verdict(problem, wait, headers)

    def leave(self, tenant_id: str) -> None:
        self.in_flight[tenant_id] -= 1

    def forget(self, tenant_id: str) -> None:
        for suffix in ("day", "minute"):
            self.limiter.reset(f"{tenant_id}:{suffix}")
        self.throttled.pop(tenant_id, None)
