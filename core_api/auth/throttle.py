"""Per-client-IP token bucket on the unauthenticated auth endpoints (login, refresh, signup, invitation
acceptance): slows password spraying across many accounts, which the per-account lockout cannot see.

In memory, per API process, like the webhook limiter (connectors.base.TokenBucket). The client IP is the
socket peer as uvicorn reports it; behind a proxy, run uvicorn with --proxy-headers and
--forwarded-allow-ips set to the proxy so that it is the real client's (docs/runbooks/security.md).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict

from fastapi import Depends, Request

from connectors.base import TokenBucket
from core_api.errors import ProblemError
from core_api.settings import Settings, get_settings

# Buckets kept at most; the least recently seen client is forgotten first (a forgotten client starts
# again with a full bucket), so many source addresses cannot grow memory without bound.
MAX_CLIENTS = 10_000


class ClientLimiter:
    def __init__(self, per_minute: int, burst: int, max_clients: int = MAX_CLIENTS) -> None:
        self.per_minute, self.burst, self.max_clients = per_minute, burst, max_clients
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()
        self._lock = threading.Lock()

    def _bucket(self, client: str) -> TokenBucket:
        with self._lock:
            bucket = self._buckets.get(client)
            if bucket is None:
                bucket = self._buckets[client] = TokenBucket(self.per_minute / 60.0, self.burst)
                while len(self._buckets) > self.max_clients:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(client)
            return bucket

    def check(self, client: str) -> int | None:
        """None if the client may go on; otherwise the seconds to wait (for Retry-After)."""
        bucket = self._bucket(client)
        return None if bucket.try_acquire() else max(1, math.ceil(1 / bucket.rate))


def _limiter(request: Request, settings: Settings) -> ClientLimiter:
    limiter = getattr(request.app.state, "auth_limiter", None)
    wanted = (settings.login_rate_limit_per_minute, settings.login_rate_limit_burst)
    if limiter is None or (limiter.per_minute, limiter.burst) != wanted:
        limiter = request.app.state.auth_limiter = ClientLimiter(*wanted)
    return limiter


def limit_client(request: Request, settings: Settings = Depends(get_settings)) -> None:
    client = request.client.host if request.client else "unknown"
    wait = _limiter(request, settings).check(client)
    if wait is not None:
        raise ProblemError(
            429,
            "Too Many Requests",
            f"More than {settings.login_rate_limit_per_minute} sign-in requests a minute from this address.",
            headers={"Retry-After": str(wait)},
        )
