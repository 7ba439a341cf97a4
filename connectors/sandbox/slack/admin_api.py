"""Sandbox-only admin API under ``/slack/_sandbox`` (not Slack): workspaces with their app installed,
channels, the messages the app posted, bot tokens (issue, revoke), limits, counters, faults, and
signed slash commands sent to the app."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field, HttpUrl

from connectors.sandbox.common.admin import fault_router
from connectors.sandbox.slack import slash
from connectors.sandbox.slack.state import SlackState, Workspace

_CHANNEL_NAME = r"^[a-z0-9][a-z0-9._-]{0,79}$"


class NewWorkspace(BaseModel):
    name: str | None = None
    channels: list[str] = Field(default_factory=lambda: ["general", "random"], max_length=10_000)
    signing_secret: str | None = Field(None, min_length=1, description="default: a new random secret")
    scopes: list[str] | None = Field(None, description="the bot token's scopes; default chat:write etc.")


class NewChannel(BaseModel):
    name: str = Field(..., pattern=_CHANNEL_NAME)
    is_private: bool = False
    is_archived: bool = False
    is_member: bool = Field(True, description="whether the app's bot user is in the channel")
    topic: str = ""
    purpose: str = ""


class Revocation(BaseModel):
    token: str | None = Field(None, description="default: every token of the workspace")


class Limits(BaseModel):
    tier2_per_minute: int | None = Field(None, ge=1, le=100_000)
    tier3_per_minute: int | None = Field(None, ge=1, le=100_000)
    tier4_per_minute: int | None = Field(None, ge=1, le=100_000)
    post_messages_per_second: int | None = Field(None, ge=1, le=100_000)


class SlashCommand(BaseModel):
    url: HttpUrl = Field(..., description="the command's request URL (the app's endpoint)")
    command: str = Field("/firmsync", pattern=r"^/\S+$")
    text: str = ""
    user_id: str = "U0SANDBOXUSER"
    user_name: str = "sandbox.user"
    channel: str | None = Field(None, description="channel id or name; default: the first channel")
    timestamp: int | None = Field(
        None, description="X-Slack-Request-Timestamp; default now (set old to test replays)"
    )
    signing_secret: str | None = Field(None, description="sign with this instead of the workspace's secret")
    tamper: bool = Field(False, description="change the body after signing it")


def admin_router(state: SlackState) -> APIRouter:
    router = APIRouter(tags=["sandbox admin (not Slack)"])
    router.include_router(fault_router(state.faults))

    def workspace_or_404(team_id: str) -> Workspace:
        workspace = state.workspaces.get(team_id)
        if workspace is None:
            raise HTTPException(404, f"no sandbox workspace {team_id}")
        return workspace

    def describe(workspace: Workspace) -> dict[str, Any]:
        return {
            "team_id": workspace.team_id,
            "name": workspace.name,
            "domain": workspace.domain,
            "app_id": workspace.app_id,
            "bot_user_id": workspace.bot_user_id,
            "bot_id": workspace.bot_id,
            "signing_secret": workspace.signing_secret,
            "channels": [{"id": c.id, "name": c.name} for c in workspace.channels.values()],
            "limits": vars(workspace.limits),
        }

    @router.post("/workspaces", status_code=201, summary="Create a workspace with the app installed")
    async def create_workspace(spec: NewWorkspace) -> dict[str, Any]:
        workspace = state.add_workspace(
            spec.name or f"Sandbox Workspace {len(state.workspaces)}", signing_secret=spec.signing_secret
        )
        for name in spec.channels:
            state.add_channel(workspace, name)
        token = state.issue_token(workspace, tuple(spec.scopes or ()))
        return {**describe(workspace), "bot_token": token.token, "scopes": list(token.scopes)}

    @router.get("/workspaces/{team_id}", summary="One workspace: ids, signing secret, channels, limits")
    async def get_workspace(team_id: str) -> dict[str, Any]:
        return describe(workspace_or_404(team_id))

    @router.post("/workspaces/{team_id}/channels", status_code=201, summary="Create a channel")
    async def create_channel(team_id: str, spec: NewChannel) -> dict[str, Any]:
        workspace = workspace_or_404(team_id)
        if workspace.channel(spec.name) is not None:
            raise HTTPException(409, f"channel {spec.name} exists")
        return state.add_channel(workspace, **spec.model_dump()).as_conversation()

    @router.get("/workspaces/{team_id}/channels/{channel}/messages", summary="Messages posted to a channel")
    async def messages(team_id: str, channel: str) -> dict[str, Any]:
        found = workspace_or_404(team_id).channel(channel)
        if found is None:
            raise HTTPException(404, f"no channel {channel}")
        return {"channel": found.id, "messages": list(found.messages)}

    @router.post("/workspaces/{team_id}/tokens", status_code=201, summary="Issue another bot token")
    async def issue_token(team_id: str) -> dict[str, Any]:
        token = state.issue_token(workspace_or_404(team_id))
        return {"bot_token": token.token, "scopes": list(token.scopes)}

    @router.post("/workspaces/{team_id}/revoke", summary="Revoke bot tokens (the app was uninstalled)")
    async def revoke(team_id: str, body: Revocation) -> dict[str, Any]:
        workspace_or_404(team_id)
        return {"revoked": state.revoke_tokens(team_id, body.token)}

    @router.get("/workspaces/{team_id}/limits", summary="Rate limits per tier and per channel")
    async def get_limits(team_id: str) -> dict[str, Any]:
        return vars(workspace_or_404(team_id).limits)

    @router.put("/workspaces/{team_id}/limits", summary="Change the workspace's rate limits")
    async def put_limits(team_id: str, limits: Limits) -> dict[str, Any]:
        workspace = workspace_or_404(team_id)
        for name, value in limits.model_dump(exclude_none=True).items():
            setattr(workspace.limits, name, value)
        return vars(workspace.limits)

    @router.get("/workspaces/{team_id}/stats", summary="How many requests were answered 429")
    async def stats(team_id: str) -> dict[str, Any]:
        workspace_or_404(team_id)
        return {"team_id": team_id, "throttled": state.throttled.get(team_id, 0)}

    @router.post("/workspaces/{team_id}/slash_commands", summary="Send a signed slash command to the app")
    async def send_slash_command(team_id: str, spec: SlashCommand, request: Request) -> dict[str, Any]:
        workspace = workspace_or_404(team_id)
        channel = (
            workspace.channel(spec.channel) if spec.channel else next(iter(workspace.channels.values()), None)
        )
        if channel is None:
            raise HTTPException(404, "no such channel")
        token = secrets.token_urlsafe(18)
        delivery_id = state.next_delivery_id()
        # Under this mount (scope root_path "/slack"), where `response_url_router` serves it.
        path = f"{request.scope.get('root_path', '')}/commands/{team_id}/{delivery_id}/{token}"
        response_url = str(request.url.replace(path=path, query=""))
        body = slash.command_body(
            workspace,
            command=spec.command,
            text=spec.text,
            user_id=spec.user_id,
            user_name=spec.user_name,
            channel_id=channel.id,
            channel_name=channel.name,
            response_url=response_url,
        )
        timestamp = str(spec.timestamp if spec.timestamp is not None else int(state.now()))
        signature = slash.sign(spec.signing_secret or workspace.signing_secret, timestamp, body)
        if spec.tamper:
            body = body.replace(b"command=", b"command=%2Fx", 1)
        return await slash.deliver(
            state,
            workspace,
            url=str(spec.url),
            body=body,
            timestamp=timestamp,
            signature=signature,
            response_url_token=token,
            delivery_id=delivery_id,
        )

    @router.get("/slash_commands", summary="Every slash command sent, with the app's answers")
    async def deliveries() -> dict[str, Any]:
        return {"deliveries": list(state.slash_deliveries)}

    @router.delete("/slash_commands", status_code=204, summary="Forget the delivery log")
    async def clear_deliveries() -> Response:
        state.slash_deliveries.clear()
        return Response(status_code=204)

    return router
