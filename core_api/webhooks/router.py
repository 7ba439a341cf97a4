"""Webhook intake: `POST /webhooks/{provider}/{connection_id}` (the URL a firm registers with the vendor)
and `POST /webhooks/{provider}` (the connection found from the vendor account the payload names).

Unauthenticated by design: the vendor's signature is the authentication. Before anything is read from
the database: 404 for an unknown provider, 429 over the provider's rate limit, 413 over the size limit.
Then `service.receive` finds the connection, verifies the signature (401, nothing written, if it fails)
and stores the event once.
"""

from __future__ import annotations

import math
import threading
import uuid
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from connectors.base import TokenBucket
from connectors.webhooks import UnknownWebhookProviderError, WebhookRequest, WebhookVerifier, verifier_for
from core_api.auth.dependencies import db_sessions
from core_api.errors import ProblemError
from core_api.http import PROBLEM
from core_api.settings import Settings, get_settings
from core_api.webhooks import service
from core_api.webhooks.schemas import WebhookReceipt

router = APIRouter(tags=["webhooks"])

_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Verified: stored (or already stored). Xero gets an empty body, Twilio empty TwiML, "
        "and handshakes (Xero intent to receive, Slack url_verification) their expected answer; Microsoft "
        "Graph's subscription validation (`?validationToken=`) gets the token back as text/plain.",
        "model": WebhookReceipt,
        "content": {"text/xml": {"schema": {"type": "string"}}, "text/plain": {"schema": {"type": "string"}}},
    },
    202: {"description": "Microsoft Graph change notifications: clientState matched, stored (no body)"},
    400: {"description": "Malformed request (e.g. an invalid Content-Length)", **PROBLEM},
    401: {"description": "Missing or invalid signature (or stale timestamp); nothing was stored", **PROBLEM},
    404: {"description": "Unknown provider, or no live connection for this webhook", **PROBLEM},
    413: {"description": "Body larger than FIRMSYNC_WEBHOOK_MAX_BODY_BYTES", **PROBLEM},
    422: {"description": "Invalid path parameters", **PROBLEM},
    429: {"description": "Over the provider's rate limit; see Retry-After", **PROBLEM},
}
_BODY = {
    "requestBody": {
        "required": False,
        "description": "The vendor's payload, verified byte for byte against its signature.",
        "content": {
            "application/json": {"schema": {}},
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "additionalProperties": {"type": "string"}}
            },
        },
    }
}
_PROVIDER = Path(
    max_length=40,
    description="stripe, square, twilio, docusign, quickbooks, xero, slack or microsoft_calendar.",
)


class _Limiter:
    """One token bucket per provider for this app (process), sized from settings."""

    def __init__(self) -> None:
        self._buckets: dict[tuple[str, int, int], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket(self, provider: str, settings: Settings) -> TokenBucket:
        per_minute, burst = settings.webhook_rate_for(provider), settings.webhook_rate_limit_burst
        key = (provider, per_minute, burst)
        with self._lock:
            if key not in self._buckets:
                self._buckets[key] = TokenBucket(per_minute / 60.0, burst)
            return self._buckets[key]


def _limiter(request: Request) -> _Limiter:
    limiter = getattr(request.app.state, "webhook_limiter", None)
    if limiter is None:
        limiter = request.app.state.webhook_limiter = _Limiter()
    return limiter


def _verifier(provider: str) -> WebhookVerifier:
    try:
        return verifier_for(provider)
    except UnknownWebhookProviderError:
        raise ProblemError(404, "Not Found", f"no webhook intake for provider {provider!r}") from None


def _rate_limit(request: Request, provider: str, settings: Settings) -> None:
    bucket = _limiter(request).bucket(provider, settings)
    if not bucket.try_acquire():
        retry_after = max(1, math.ceil(1 / bucket.rate))
        raise ProblemError(
            429,
            "Too Many Requests",
            f"more than {settings.webhook_rate_for(provider)} {provider} webhooks per minute",
            headers={"Retry-After": str(retry_after)},
        )


async def _read_body(request: Request, limit: int) -> bytes:
    too_large = ProblemError(413, "Content Too Large", f"webhook bodies are limited to {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ProblemError(400, "Bad Request", "Content-Length is not a number")
        if int(declared) > limit:
            raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:  # a chunked body, or one longer than it declared
            raise too_large
    return bytes(body)


def public_url(request: Request, base: str | None) -> str:
    """The URL as the vendor called it: the request's, or its path and query under the public base."""
    url = str(request.url)
    if not base:
        return url
    parts, public = urlsplit(url), urlsplit(base)
    return urlunsplit((public.scheme, public.netloc, public.path.rstrip("/") + parts.path, parts.query, ""))


async def _receive(
    request: Request,
    provider: str,
    connection_id: uuid.UUID | None,
    sessions: sessionmaker[Session],
    settings: Settings,
) -> Response:
    verifier = _verifier(provider)
    _rate_limit(request, provider, settings)
    body = await _read_body(request, settings.webhook_max_body_bytes)
    delivery = WebhookRequest(
        url=public_url(request, settings.webhook_public_base_url), headers=dict(request.headers), body=body
    )
    outcome = await run_in_threadpool(
        service.receive, sessions, settings, verifier, delivery, connection_id=connection_id
    )
    if outcome.reply is not None:
        return Response(
            content=outcome.reply.body,
            status_code=outcome.reply.status_code,
            media_type=outcome.reply.media_type,
            headers={"X-Content-Type-Options": "nosniff"},  # an echoed token is never sniffed as HTML
        )
    assert outcome.receipt is not None
    return JSONResponse(outcome.receipt.model_dump(mode="json"))


@router.post(
    "/webhooks/{provider}/{connection_id}",
    response_model=None,
    responses=_RESPONSES,
    openapi_extra=_BODY,
    summary="Receive a vendor webhook for one connection",
)
async def receive_for_connection(
    request: Request,
    provider: str = _PROVIDER,
    connection_id: uuid.UUID = Path(description="The connection the firm registered this URL for."),
    sessions: sessionmaker[Session] = Depends(db_sessions),
    settings: Settings = Depends(get_settings),
) -> Response:
    """The URL to register with the vendor: the connection's secret verifies the signature."""
    return await _receive(request, provider, connection_id, sessions, settings)


@router.post(
    "/webhooks/{provider}",
    response_model=None,
    responses=_RESPONSES,
    openapi_extra=_BODY,
    summary="Receive a vendor webhook, routed by the vendor account it names",
)
async def receive(
    request: Request,
    provider: str = _PROVIDER,
    sessions: sessionmaker[Session] = Depends(db_sessions),
    settings: Settings = Depends(get_settings),
) -> Response:
    """For app-level webhook URLs: the connection is found from the account the payload names (Intuit
    `realmId`, Xero `tenantId`, Slack `team_id`, Stripe `account`, Twilio `AccountSid`, Square
    `merchant_id`, DocuSign `accountId`) and its secret verifies the signature. Handshakes that name no
    account (Xero intent to receive, Slack url_verification) need the per-connection URL."""
    return await _receive(request, provider, None, sessions, settings)
