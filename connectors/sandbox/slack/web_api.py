"""Slack's Web API methods the project uses, at ``/api/<method>`` (https://api.slack.com/web).

As Slack does: arguments come as query parameters, a form body or (for write methods) a JSON body;
the token as ``Authorization: Bearer`` or a ``token`` argument; errors are HTTP 200 with
``{"ok": false, "error": …}``, except rate limits: HTTP 429, ``Retry-After`` and ``ratelimited``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse

from connectors.sandbox.slack import oauth
from connectors.sandbox.slack.errors import SlackApiError
from connectors.sandbox.slack.state import BotToken, SlackState, Workspace

# Each method's tier, from its reference page (https://api.slack.com/methods/<method>): conversations.list
# is Tier 2, conversations.info Tier 3; auth.test is "Special" and answered here as Tier 4.
METHOD_TIERS = {"conversations.list": 2, "conversations.info": 3, "auth.revoke": 3, "auth.test": 4}
MAX_LIST_LIMIT = 1000
DEFAULT_LIST_LIMIT = 100


async def _arguments(request: Request) -> dict[str, Any]:
    args: dict[str, Any] = dict(request.query_params)
    content_type = request.headers.get("content-type", "")
    if request.method == "POST":
        if content_type.startswith("application/json"):
            body = await request.body()
            try:
                payload = json.loads(body or b"{}")
            except ValueError:
                raise SlackApiError("invalid_json") from None
            if not isinstance(payload, dict):
                raise SlackApiError("json_not_object")
            args.update(payload)
        else:  # application/x-www-form-urlencoded (no multipart: no file uploads are emulated)
            body = (await request.body()).decode("utf-8", "replace")
            args.update(parse_qsl(body, keep_blank_values=True))
    return args


def _token(request: Request, args: dict[str, Any]) -> str | None:
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    token = args.get("token")
    return str(token) if token else None


def _flag(value: Any) -> bool:
    return str(value).lower() in ("1", "true")


def _encode_cursor(index: int) -> str:
    return base64.b64encode(f"offset:{index}".encode()).decode()


def _decode_cursor(cursor: str) -> int:
    try:
        kind, _, index = base64.b64decode(cursor, validate=True).decode().partition(":")
        if kind != "offset" or not index.isdigit():
            raise ValueError(cursor)
        return int(index)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise SlackApiError("invalid_cursor") from None


class WebApi:
    def __init__(self, state: SlackState) -> None:
        self.state = state
        self.methods: dict[str, Callable[[Workspace, BotToken, dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self.auth_test,
            "auth.revoke": self.auth_revoke,
            "chat.postMessage": self.post_message,
            "conversations.list": self.conversations_list,
            "conversations.info": self.conversations_info,
        }

    def authenticate(self, token: str | None) -> tuple[Workspace, BotToken]:
        if not token:
            raise SlackApiError("not_authed")
        grant = self.state.tokens.get(token)
        if grant is None or grant.team_id not in self.state.workspaces:
            raise SlackApiError("invalid_auth")
        if grant.revoked:
            raise SlackApiError("token_revoked")
        return self.state.workspaces[grant.team_id], grant

    def throttle(self, workspace: Workspace, key: str, limit: int, window: float) -> None:
        wait = self.state.limiter.acquire(f"{workspace.team_id}:{key}", limit, window)
        if wait is not None:
            self.state.throttled[workspace.team_id] = self.state.throttled.get(workspace.team_id, 0) + 1
            raise SlackApiError("ratelimited", status=429, headers={"Retry-After": str(wait)})

    def limit_method(self, workspace: Workspace, method: str) -> None:
        tier = METHOD_TIERS.get(method)
        if tier is not None:
            per_minute = getattr(workspace.limits, f"tier{tier}_per_minute")
            self.throttle(workspace, method, per_minute, 60.0)

    # ------------------------------------------------------------------ methods

    def auth_test(self, workspace: Workspace, grant: BotToken, args: dict[str, Any]) -> dict[str, Any]:
        # https://api.slack.com/methods/auth.test: the example answer's fields, for a bot token.
        return {
            "url": f"https://{workspace.domain}.slack.com/",
            "team": workspace.name,
            "user": "firmsync",
            "team_id": workspace.team_id,
            "user_id": workspace.bot_user_id,
            "bot_id": workspace.bot_id,
            "is_enterprise_install": False,
        }

    def auth_revoke(self, workspace: Workspace, grant: BotToken, args: dict[str, Any]) -> dict[str, Any]:
        # https://api.slack.com/methods/auth.revoke: the calling token stops working (not with `test`).
        if _flag(args.get("test", "false")):
            return {"revoked": False}
        grant.revoked = True
        return {"revoked": True}

    def post_message(self, workspace: Workspace, grant: BotToken, args: dict[str, Any]) -> dict[str, Any]:
        # https://api.slack.com/methods/chat.postMessage
        if "chat:write" not in grant.scopes:
            raise SlackApiError("missing_scope", needed="chat:write", provided=",".join(grant.scopes))
        ref = str(args.get("channel") or "")
        channel = workspace.channel(ref) if ref else None
        if channel is None:
            raise SlackApiError("channel_not_found")
        if channel.is_archived:
            raise SlackApiError("is_archived")
        if not channel.is_member:
            raise SlackApiError("not_in_channel")
        blocks = args.get("blocks")
        if isinstance(blocks, str):  # form-encoded calls send blocks as a JSON string
            try:
                blocks = json.loads(blocks)
            except ValueError:
                raise SlackApiError("invalid_blocks_format") from None
        if blocks is not None and not isinstance(blocks, list):
            raise SlackApiError("invalid_blocks_format")
        text = args.get("text")
        if not text and not blocks and not args.get("attachments"):
            raise SlackApiError("no_text")
        # About one message per second per channel (the special limit of chat.postMessage).
        self.throttle(workspace, f"post:{channel.id}", workspace.limits.post_messages_per_second, 1.0)
        ts = channel.next_ts(self.state.now())
        message: dict[str, Any] = {
            "user": workspace.bot_user_id,
            "type": "message",
            "ts": ts,
            "bot_id": workspace.bot_id,
            "app_id": workspace.app_id,
            "text": text or "",
            "team": workspace.team_id,
        }
        if blocks:
            message["blocks"] = blocks
        if args.get("thread_ts"):
            message["thread_ts"] = str(args["thread_ts"])
        channel.messages.append(message)
        return {"channel": channel.id, "ts": ts, "message": message}

    def conversations_list(
        self, workspace: Workspace, grant: BotToken, args: dict[str, Any]
    ) -> dict[str, Any]:
        # https://api.slack.com/methods/conversations.list: cursor pagination, limit ≤ 1000 (default 100).
        try:
            limit = int(args.get("limit") or DEFAULT_LIST_LIMIT)
        except ValueError:
            raise SlackApiError("invalid_limit") from None
        if not 1 <= limit <= MAX_LIST_LIMIT:
            raise SlackApiError("invalid_limit")
        types = {t.strip() for t in str(args.get("types") or "public_channel").split(",") if t.strip()}
        if not types <= {"public_channel", "private_channel", "mpim", "im"}:
            raise SlackApiError("invalid_types")
        exclude_archived = _flag(args.get("exclude_archived", "false"))
        channels = [
            c
            for c in workspace.channels.values()
            if ("private_channel" if c.is_private else "public_channel") in types
            and not (exclude_archived and c.is_archived)
        ]
        start = _decode_cursor(str(args["cursor"])) if args.get("cursor") else 0
        page = channels[start : start + limit]
        more = start + limit < len(channels)
        return {
            "channels": [c.as_conversation() for c in page],
            "response_metadata": {"next_cursor": _encode_cursor(start + limit) if more else ""},
        }

    def conversations_info(
        self, workspace: Workspace, grant: BotToken, args: dict[str, Any]
    ) -> dict[str, Any]:
        # https://api.slack.com/methods/conversations.info
        channel = workspace.channels.get(str(args.get("channel") or ""))
        if channel is None:
            raise SlackApiError("channel_not_found")
        return {"channel": channel.as_conversation()}


def web_api_router(state: SlackState) -> APIRouter:
    router = APIRouter(tags=["Slack Web API"])
    api = WebApi(state)

    @router.api_route("/api/{method}", methods=["GET", "POST"], summary="A Slack Web API method")
    async def call(method: str, request: Request) -> JSONResponse:
        try:
            args = await _arguments(request)
            if method == "oauth.v2.access":
                return JSONResponse({"ok": True, **oauth.access(state, request, args)})
            handler = api.methods.get(method)
            if handler is None:
                raise SlackApiError("unknown_method")
            workspace, grant = api.authenticate(_token(request, args))
            api.limit_method(workspace, method)
            return JSONResponse({"ok": True, **handler(workspace, grant, args)})
        except SlackApiError as error:
            return error.response()

    @router.get("/oauth/v2/authorize", summary="The consent screen (approved at once by the sandbox)")
    async def authorize(request: Request) -> RedirectResponse:
        return RedirectResponse(oauth.authorize(state, dict(request.query_params)), status_code=302)

    return router
