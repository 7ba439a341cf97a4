"""What Xero's edge does before a request reaches the Accounting API: injected faults (sandbox only),
authentication (bearer token, ``xero-tenant-id`` the token's consent is connected to), the rate limits
with their headers, and request counting. Raw ASGI, because a dropped connection must happen below
any framework and every answer (even a 429) must carry the limit headers."""

import asyncio
import re
from collections.abc import Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from connectors.sandbox.common.asgi import TENANT_SCOPE_KEY, ConnectionDropped, route_path, send_bytes
from connectors.sandbox.common.faults import answer_with_fault
from connectors.sandbox.xero import errors
from connectors.sandbox.xero.state import XeroState
from connectors.sandbox.xero.tokens import AccessDenied

API_PREFIX = "/api.xro/2.0"
ADMIN_PREFIX = "/_sandbox"
CONSENT_SCOPE_KEY = "xero.consent"
TENANT_KEY = "xero.tenant"
_ID_SEGMENT = re.compile(r"/[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class XeroGateway:
    def __init__(self, app: ASGIApp, state: XeroState) -> None:
        self.app = app
        self.state = state

    async def _answer(
        self, send: Send, error: errors.XeroError, extra: Sequence[tuple[str, str]] = ()
    ) -> str:
        headers = [*error.headers.items(), *extra]
        await send_bytes(send, error.status, error.body(), content_type=error.content_type, headers=headers)
        return str(error.status)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = route_path(scope)
        host = _header(scope, b"host") or "localhost"
        self.state.webhooks.resource_base = (
            f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{API_PREFIX}"
        )
        if path.startswith(ADMIN_PREFIX):
            await self.app(scope, receive, send)
            return
        tenant_id = (_header(scope, b"xero-tenant-id") or "").strip().lower() or None
        outcome = "unanswered"

        async def counting_send(message: Message) -> None:
            nonlocal outcome
            if message["type"] == "http.response.start":
                outcome = str(message["status"])
            await send(message)

        try:
            fault = self.state.faults.take(tenant_id, scope["path"])
            if fault is not None:
                outcome = await answer_with_fault(
                    fault, scope, receive, send, self._fault_body, self.state.settings.fault_max_delay_seconds
                )
                return
            if path.lower().startswith(API_PREFIX.lower() + "/"):
                outcome = await self._api(scope, receive, send, tenant_id)
            else:
                await self.app(scope, receive, counting_send)
        except ConnectionDropped:
            outcome = "dropped"
            raise
        finally:
            tenant = tenant_id if tenant_id in self.state.tenants else scope.get(TENANT_SCOPE_KEY)
            if tenant:
                self.state.stats.record(tenant, _ID_SEGMENT.sub("/{id}", path), outcome)

    @staticmethod
    def _fault_body(status: int) -> bytes:
        return errors.problem_body(status, errors.PROBLEM_TITLES.get(status, "Error"))

    async def _api(self, scope: Scope, receive: Receive, send: Send, tenant_id: str | None) -> str:
        scheme, _, token = (_header(scope, b"authorization") or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return await self._answer(send, errors.unauthorized())
        try:
            consent = self.state.tokens.verify_access(token.strip())
        except AccessDenied as denied:
            return await self._answer(send, errors.unauthorized(str(denied)))
        tenant = self.state.tenants.get(tenant_id or "")
        if tenant is None or not self.state.tokens.may_use(consent, tenant.tenant_id):
            return await self._answer(send, errors.forbidden())
        verdict = self.state.limits.enter(tenant)
        if verdict.problem is not None:
            detail = f"You've exceeded the per {verdict.problem} rate limit"
            return await self._answer(send, errors.Problem(429, detail), verdict.headers)
        outcome = "unanswered"

        async def send_with_limits(message: Message) -> None:
            nonlocal outcome
            if message["type"] == "http.response.start":
                outcome = str(message["status"])
                extra = [(k.lower().encode(), v.encode()) for k, v in verdict.headers]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            if tenant.limits.latency_seconds:
                await asyncio.sleep(tenant.limits.latency_seconds)
            scope[CONSENT_SCOPE_KEY] = consent
            scope[TENANT_KEY] = tenant
            await self.app(scope, receive, send_with_limits)
        finally:
            self.state.limits.leave(tenant.tenant_id)
        return outcome
