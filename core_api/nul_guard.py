"""Reject NUL characters before they reach PostgreSQL, which cannot store them in text (it would be a 500).

A pure ASGI middleware: it buffers a JSON body (bodies are small; webhooks keep their raw bytes and are
exempt, as is anything not JSON) and answers 422 problem+json when a NUL appears in the path, the query
string or the JSON text.
"""

from __future__ import annotations

import json

NUL_ESCAPES = (b"\\u0000", b"\x00")
EXEMPT_PREFIXES = ("/webhooks",)


def _nul_fields(value, path: str = "") -> list[str]:
    """Dotted paths (`lines.0.description`) of every string in a JSON document that contains a NUL."""
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return []
    found = []
    for key, item in items:
        if "\x00" in str(key):
            found.append(f"{path}.{key}".lstrip(".") or "body")
        found += _nul_fields(item, f"{path}.{key}".lstrip("."))
    return found


def _problem(instance: str, fields: list[str]) -> bytes:
    return json.dumps(
        {
            "type": "about:blank",
            "title": "Validation Error",
            "status": 422,
            "detail": "NUL characters are not allowed in text.",
            "instance": instance,
            "errors": [{"field": f, "message": "contains a NUL character"} for f in fields],
        }
    ).encode()


class NulGuard:
    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        if (
            "\x00" in scope["path"]
            or b"%00" in scope.get("query_string", b"")
            or b"\x00" in scope.get("query_string", b"")
        ):
            await self._reject(scope, send, ["query"])
            return
        headers = dict(scope.get("headers") or [])
        if b"json" not in headers.get(b"content-type", b""):
            await self.app(scope, receive, send)
            return
        chunks, more = [], True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, receive, send)
                return
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if any(marker in body for marker in NUL_ESCAPES):
            try:
                fields = _nul_fields(json.loads(body)) or ["body"]
            except ValueError:  # malformed JSON: let the app answer 400 as it does for any bad JSON
                fields = []
            if fields:
                await self._reject(scope, send, fields)
                return
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    @staticmethod
    async def _reject(scope, send, fields: list[str]) -> None:
        payload = _problem(scope["path"], fields)
        await send(
            {
                "type": "http.response.start",
                "status": 422,
                "headers": [
                    (b"content-type", b"application/problem+json"),
                    (b"content-length", str(len(payload)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
