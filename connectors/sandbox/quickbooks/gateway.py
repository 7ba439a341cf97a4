"""What Intuit's edge does before a request reaches the data service: injected faults (sandbox only),
the per-realm throttle, and request counting. Raw ASGI, because a dropped connection must happen
below any framework."""

import json
import re

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

        try:
            fault = self.state.faults.take(realm_id, scope["path"])
            if fault is not None:
                outcome = await answer_with_fault(
                    fault, scope, receive, send, self._fault_body, self.state.settings.fault_max_delay_seconds
                )
                return
            realm = self.state.realms.get(realm_id) if realm_id else None
            if realm is not None:
                retry_after = self.state.limiter.acquire(realm.realm_id, realm.limits.requests_per_minute)
                if retry_after is not None:
                    throttled = errors.throttle_exceeded(retry_after)
                    await send_bytes(
                        send, 429, self._error_bytes(throttled), headers=throttled.headers.items()
                    )
                    outcome = "429"
                    return
            await self.app(scope, receive, counting_send)
        except ConnectionDropped:
            outcome = "dropped"
            raise
        finally:
            tenant = realm_id or scope.get(TENANT_SCOPE_KEY)
            if tenant:
                self.state.stats.record(tenant, path, outcome)
