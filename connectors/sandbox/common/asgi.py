"""Small raw-ASGI helpers for the gateways that sit in front of each vendor app."""

import asyncio
import json
from collections.abc import Iterable
from typing import Any

from starlette.types import Receive, Scope, Send

# The root app stores uvicorn's own ``send`` here: only through it can a gateway reach the socket and
# drop a connection for real (every middleware in between wraps ``send`` in a closure).
RAW_SEND_SCOPE_KEY = "sandbox.raw_send"
# Handlers that learn the tenant late (a token endpoint decodes it from the body) put it here for
# the gateway's request counters.
TENANT_SCOPE_KEY = "sandbox.tenant"


class ConnectionDropped(Exception):
    """Raised when a dropped connection was asked for but no socket is reachable (in-process tests)."""


def route_path(scope: Scope) -> str:
    """The request path relative to the mount the app is served under."""
    path: str = scope["path"]
    root = scope.get("root_path", "")
    if root and path.startswith(root) and (len(path) == len(root) or path[len(root)] == "/"):
        return path[len(root) :] or "/"
    return path


async def send_bytes(
    send: Send,
    status: int,
    body: bytes,
    *,
    content_type: str = "application/json",
    headers: Iterable[tuple[str, str]] = (),
) -> None:
    raw_headers = [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]
    raw_headers += [(k.lower().encode(), v.encode()) for k, v in headers]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body})


async def send_json(send: Send, status: int, payload: Any, headers: Iterable[tuple[str, str]] = ()) -> None:
    await send_bytes(send, status, json.dumps(payload).encode(), headers=headers)


async def drop_connection(scope: Scope) -> None:
    """Close the client's socket without sending a byte, as a crashed upstream or proxy would.

    uvicorn passes its request cycle's bound ``send``; the cycle owns the transport. Aborting it resets
    the connection, and uvicorn marks the cycle disconnected, so it does not answer on its own.
    """
    raw_send = scope.get(RAW_SEND_SCOPE_KEY)
    transport = getattr(getattr(raw_send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionDropped("sandbox fault: connection dropped (no socket to close in-process)")
    transport.abort()
    # Let the event loop run connection_lost so uvicorn sees the disconnect before we return.
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def wait_for_disconnect(receive: Receive, timeout: float) -> bool:
    """Hold the request for ``timeout`` seconds; return True early if the client hangs up first."""

    async def until_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(until_disconnect(), timeout)
    except TimeoutError:
        return False
    return True
