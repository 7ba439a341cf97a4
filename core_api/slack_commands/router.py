"""`POST /api/v1/integrations/slack/commands`: the Request URL of the Slack app's `/firmsync` command.

Unauthenticated by design, like the webhook intake: Slack's signature is the authentication
(`service.verify`). The raw body is read (size-capped) before anything parses it, because the signature
covers its exact bytes. Slack waits 3 seconds for the answer; this one reads a handful of rows.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from core_api.auth.dependencies import db_sessions
from core_api.errors import ProblemError
from core_api.http import PROBLEM
from core_api.settings import Settings, get_settings
from core_api.slack_commands import service

router = APIRouter(prefix="/api/v1", tags=["integrations"])

_ANSWER_SCHEMA = {
    "type": "object",
    "required": ["response_type", "text"],
    "properties": {
        "response_type": {"type": "string", "enum": ["ephemeral", "in_channel"]},
        "text": {"type": "string"},
        "blocks": {"type": "array", "items": {"type": "object"}},
    },
}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Slack's message for the person who typed the command (ephemeral): the firm's "
        "integrations for `status`, help otherwise, or why this workspace cannot be answered.",
        "content": {"application/json": {"schema": _ANSWER_SCHEMA}},
    },
    400: {"description": "Malformed request (e.g. an invalid Content-Length)", **PROBLEM},
    401: {
        "description": "Missing or invalid Slack signature, or a stale timestamp; nothing was read",
        **PROBLEM,
    },
    413: {"description": "Body larger than FIRMSYNC_WEBHOOK_MAX_BODY_BYTES", **PROBLEM},
}
_BODY = {
    "requestBody": {
        "required": False,
        "description": "The form Slack posts (team_id, command, text, user_id, response_url, …), verified "
        "byte for byte against X-Slack-Signature.",
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "additionalProperties": {"type": "string"}}
            }
        },
    }
}


async def _read_body(request: Request, limit: int) -> bytes:
    too_large = ProblemError(413, "Content Too Large", f"slash command bodies are limited to {limit} bytes")
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise ProblemError(400, "Bad Request", "Content-Length is not a number")
        if int(declared) > limit:
            raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise too_large
    return bytes(body)


@router.post(
    "/integrations/slack/commands",
    response_model=None,
    responses=_RESPONSES,
    openapi_extra=_BODY,
    summary="Answer the /firmsync slash command (Slack-signed)",
)
async def slash_command(
    request: Request,
    sessions: sessionmaker[Session] = Depends(db_sessions),
    settings: Settings = Depends(get_settings),
) -> JSONResponse:
    """Set this URL as the Request URL of the Slack app's `/firmsync` command. `status` lists the firm's
    integrations (provider, status, last sync, last error); anything else answers help."""
    body = await _read_body(request, settings.webhook_max_body_bytes)
    answer = await run_in_threadpool(service.answer, sessions, settings, dict(request.headers), body)
    return JSONResponse(answer)
