"""What Intuit's edge does before a request reaches the data service: the per-realm concurrency limit,
injected faults (sandbox only), the per-realm request-rate throttle, added latency (sandbox only), and
request counting. Raw ASGI, because a dropped connection must happen below any framework.

Intuit publishes two throttles per realm and app: 500 requests a minute, and 10 requests in flight at once;
either answers 429. A request held by a "timeout" fault or by added latency is in flight, as a slow
upstream's would be.
"""

import asyncio
import json
import re
import threading
from collections import Counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.sandbox.common.asgi import TENANT_SCOPE_KEY, ConnectionDropped, route_path, send_bytes
from connectors.sandbox.common.faults import answer_with_fault
from connectors.sandbox.quickbooks import errors
from connectors.sandbox.quickbooks.state import QuickBooksState
from connectors.sandbox.quickbooks.timefmt import format_response_time

REALM_PATH = re.compile(r"^/v3/company/([^/]+)/")
ADMIN_PREFIX = "/_sandbox"


class QuickBooksGateway:
    def __init__(self, app: ASGIApp, state: QuickBooksState) -> None:
        self.app = app
        self.state = state
        # Requests in flight per realm. A lock, not just the event loop: in-process test clients run
        # each request on its own loop and thread.
        self._in_flight: Counter[str] = Counter()
        self._in_flight_lock = threading.Lock()

    def _enter(self, realm_id: str, limit: int) -> bool:
        with self._in_flight_lock:
            if self._in_flight[realm_id] >= limit:
                return False
            self._in_flight[realm_id] += 1
            return True

    def _leave(self, realm_id: str) -> None:
        with self._in_flight_lock:
            self._in_flight[realm_id] -= 1
            if self._in_flight[realm_id] <= 0:
                del self._in_flight[realm_id]

    def _error_bytes(self, error: errors.QboError) -> bytes:
        now = self.state.clock.now()
        return json.dumps(error.body(format_response_time(now, self.state.zone), int(now * 1000))).encode()

    def _fault_body(self, status: int) -> bytes:
        return self._error_bytes(errors.system_failure(status))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = route_path(scope) if scope["type"] == "http" else ""
        if scope["type"] != "http" or path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        match = REALM_PATH.match(path)
        realm_id = match.group(1) if match else None
        outcome = "unanswered"

        async def counting_send(message: Message) -> None:
            nonlocal outcome
            if message["type"] == "http.response.start":
                outcome = str(message["status"])
            await send(message)

        realm = self.state.realms.get(realm_id) if realm_id else None
        entered = False
        try:
            if realm is not None:
                entered = self._enter(realm.realm_id, realm.limits.concurrent_requests)
                if not entered:
                    busy = errors.too_many_concurrent_requests(realm.limits.concurrent_requests)
                    await send_bytes(send, 429, self._error_bytes(busy), headers=busy.headers.items())
                    outcome = "429"
                    return
            fault = self.state.faults.take(realm_id, scope["path"])
            if fault is not None:
                outcome = await answer_with_fault(
                    fault, scope, receive, send, self._fault_body, self.state.settings.fault_max_delay_seconds
                )
                return
            if realm is not None:
                retry_after = self.state.limiter.acquire(realm.realm_id, realm.limits.requests_per_minute)
                if retry_after is not None:
                    throttled = errors.throttle_exceeded(retry_after)
                    await send_bytes(
                        send, 429, self._error_bytes(throttled), headers=throttled.headers.items()
                    )
                    outcome = "429"
                    return
                if realm.limits.response_delay_ms:
                    await asyncio.sleep(realm.limits.response_delay_ms / 1000)
            await self.app(scope, receive, counting_send)
        except ConnectionDropped:
            outcome = "dropped"
            raise
        finally:
            if entered:
                self._leave(realm.realm_id)  # type: ignore[union-attr]
            tenant = realm_id or scope.get(TENANT_SCOPE_KEY)
            if tenant:
                self.state.stats.record(tenant, path, outcome)
