"""Each request's log context (ADR 0019): its X-Request-ID (the caller's, if sane, else a new one), echoed in
the response, and the firm and user once authentication knows them (core_api/auth/dependencies.py)."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core_api import log_context

HEADER = "X-Request-ID"


class RequestContext:
    """Plain ASGI (no BaseHTTPMiddleware): the context it starts is the one the endpoint, the error handlers
    and Starlette's outermost 500 handler all log with. Every request runs in its own task, so it is not
    reset here: the 500 handler, outside this middleware, still sees it."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(HEADER.lower().encode())
        request_id = log_context.request_id_from(incoming.decode("latin-1") if incoming else None)
        log_context.start(request_id=request_id)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        await self.app(scope, receive, send_with_id)
