"""Security headers on every response (ADR 0020, docs/runbooks/security.md).

The SPA and the API get a strict Content-Security-Policy: everything from this origin, no inline scripts,
no framing. Mantine writes its CSS variables in a <style> element and sets `style` attributes, so styles
alone allow 'unsafe-inline' (inline styles cannot run code). FastAPI's /docs and /redoc pages load Swagger
UI and ReDoc from a CDN and start them with an inline script, so those three paths get a looser policy of
their own; nothing else does. A header a route set itself is left alone.

HSTS is sent only when the request came over https, or when FIRMSYNC_HTTPS_ONLY says a TLS proxy in front
guarantees it: over plain http a browser ignores it, and sending it from a dev server would pin localhost.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_COMMON = {
    "frame-ancestors": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "object-src": "'none'",
}

SPA_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    **_COMMON,
}

# What fastapi.openapi.docs loads: Swagger UI and ReDoc bundles from jsDelivr, ReDoc's Google fonts, the
# FastAPI favicon; ReDoc runs its search in a blob: worker. The inline script that starts each is why
# script-src allows 'unsafe-inline' here (these pages hold no user data and no token).
DOCS_POLICY = {
    "default-src": "'self'",
    "script-src": "'self' 'unsafe-inline' https://cdn.jsdelivr.net",
    "style-src": "'self' 'unsafe-inline' https://cdn.jsdelivr.net https://fonts.googleapis.com",
    "img-src": "'self' data: https://fastapi.tiangolo.com https://cdn.redoc.ly",
    "font-src": "'self' https://fonts.gstatic.com",
    "connect-src": "'self'",
    "worker-src": "'self' blob:",
    **_COMMON,
}
DOCS_PATHS = ("/docs", "/docs/oauth2-redirect", "/redoc")


def render(policy: dict[str, str]) -> str:
    return "; ".join(f"{directive} {sources}" for directive, sources in policy.items())


def _static_headers() -> dict[str, str]:
    return {
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


class SecurityHeaders:
    """Pure ASGI middleware (no BaseHTTPMiddleware: streaming and background tasks stay untouched)."""

    def __init__(self, app: ASGIApp, *, https_only: bool = False, hsts_max_age: int = 31536000) -> None:
        self.app = app
        self.https_only = https_only
        self.hsts = f"max-age={hsts_max_age}; includeSubDomains"
        self.static = _static_headers()
        self.spa_csp = render(SPA_POLICY)
        self.docs_csp = render(DOCS_POLICY)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = self.docs_csp if scope["path"] in DOCS_PATHS else self.spa_csp
        over_tls = self.https_only or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.static.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", csp)
                if over_tls:
                    headers.setdefault("Strict-Transport-Security", self.hsts)
            await send(message)

        await self.app(scope, receive, send_with_headers)
