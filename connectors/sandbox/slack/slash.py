"""Slash commands as Slack sends them ("Implementing slash commands",
https://api.slack.com/interactivity/slash-commands): an HTTP POST to the command's request URL with a
form-encoded body (token, team_id, team_domain, channel_id, channel_name, user_id, user_name, command,
text, api_app_id, response_url, trigger_id), signed as "Verifying requests from Slack" says:
``X-Slack-Request-Timestamp`` and ``X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{ts}:{body}">``
keyed with the app's signing secret. The app must answer within 3 seconds; a JSON answer is shown
to the user, and the ``response_url`` takes up to five delayed answers within 30 minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, HTTPException, Request

from connectors.sandbox.slack.state import SlackState, Workspace

MAX_DELAYED_RESPONSES = 5


def sign(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def command_body(
    workspace: Workspace,
    *,
    command: str,
    text: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    channel_name: str,
    response_url: str,
) -> bytes:
    fields = {
        "token": "gIkuvaNzQIHg97ATvDxqgjtO",  # the deprecated verification token; apps should ignore it
        "team_id": workspace.team_id,
        "team_domain": workspace.domain,
        "channel_id": channel_id,
        "channel_name": channel_name,
        "user_id": user_id,
        "user_name": user_name,
        "command": command,
        "text": text,
        "api_app_id": workspace.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": f"{secrets.randbelow(10**13)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}",
    }
    return urlencode(fields).encode()


async def deliver(
    state: SlackState,
    workspace: Workspace,
    *,
    url: str,
    body: bytes,
    timestamp: str,
    signature: str,
    response_url_token: str,
    delivery_id: int,
) -> dict[str, Any]:
    """POST the command and record what the app answered (status, JSON body if any, or the failure)."""
    record: dict[str, Any] = {
        "id": delivery_id,
        "team_id": workspace.team_id,
        "url": url,
        "body": body.decode(),
        "headers": {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": signature},
        "response_url_token": response_url_token,
        "delayed_responses": [],
    }
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    try:
        async with httpx.AsyncClient(timeout=state.settings.slack_slash_timeout_seconds) as client:
            answer = await client.post(url, content=body, headers=headers)
        record["status"] = answer.status_code
        record["response_text"] = answer.text
        try:
            record["response"] = answer.json() if answer.content else None
        except json.JSONDecodeError:
            record["response"] = None
    except httpx.TimeoutException:
        # Slack shows the user "operation_timeout" when the app is slower than 3 s.
        record["status"] = None
        record["error"] = "operation_timeout"
    except httpx.HTTPError as error:
        record["status"] = None
        record["error"] = f"connection_failed: {type(error).__name__}"
    state.slash_deliveries.append(record)
    return record


def delivery_for_response_url(state: SlackState, delivery_id: int, token: str) -> dict[str, Any] | None:
    for record in state.slash_deliveries:
        if record["id"] == delivery_id and hmac.compare_digest(record["response_url_token"], token):
            return record
    return None


def response_url_router(state: SlackState) -> APIRouter:
    """The ``response_url`` a command carries (Slack's is under hooks.slack.com/commands/…)."""
    router = APIRouter(tags=["Slack slash commands"])

    @router.post("/commands/{team_id}/{delivery_id}/{token}", name="slack_response_url")
    async def respond(team_id: str, delivery_id: int, token: str, request: Request) -> dict[str, Any]:
        record = delivery_for_response_url(state, delivery_id, token)
        if record is None or record["team_id"] != team_id:
            raise HTTPException(404, "unknown response_url")
        if len(record["delayed_responses"]) >= MAX_DELAYED_RESPONSES:
            raise HTTPException(429, "a response_url takes at most 5 responses")
        try:
            payload = json.loads(await request.body())
        except ValueError:
            raise HTTPException(400, "invalid_payload") from None
        record["delayed_responses"].append(payload)
        return {"ok": True}

    return router
