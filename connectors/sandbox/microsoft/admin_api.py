"""Sandbox-only admin API under `/microsoft/_sandbox` (not Microsoft): tenants and users with tokens as after
consent, what users do in Outlook (create, edit, delete events — subscribers are notified), token revocation,
delta sync-state resets (410 on the next delta), per-mailbox limits, counters, subscriptions and faults."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from connectors.sandbox.common.admin import fault_router
from connectors.sandbox.microsoft import errors, seed
from connectors.sandbox.microsoft.events import new_event, patched
from connectors.sandbox.microsoft.state import MicrosoftState, User
from connectors.sandbox.microsoft.tokens import Grant

DEFAULT_SCOPE = "openid profile offline_access https://graph.microsoft.com/Calendars.ReadWrite"


class NewUser(BaseModel):
    upn: str | None = Field(None, description="userPrincipalName; default: a generated address")
    display_name: str = "Sandbox User"
    events: int = Field(0, ge=0, le=100_000)
    seed: int = 0
    spread_days: float = Field(60, ge=0, le=3650)
    all_day_share: float = Field(0.1, ge=0, le=1)
    anchor: datetime | None = Field(None, description="seeded times centre here; default: now")


class NewTenant(BaseModel):
    domain: str | None = None
    users: list[NewUser] = Field(default_factory=lambda: [NewUser()])


class LimitsBody(BaseModel):
    requests: int = Field(..., ge=1)
    window_seconds: float = Field(..., gt=0)


def admin_router(state: MicrosoftState) -> APIRouter:
    router = APIRouter(tags=["sandbox admin"])
    router.include_router(fault_router(state.faults))

    def consent(user: User, scope: str = DEFAULT_SCOPE) -> dict[str, Any]:
        s = state.settings
        grant = Grant(user.tenant_id, state.client_id, user.id, scope, state.clock.now())
        return {
            "access_token": state.tokens.access_token(grant, s.microsoft_access_token_ttl),
            "refresh_token": state.tokens.refresh_token(grant, s.microsoft_refresh_token_ttl),
            "expires_in": s.microsoft_access_token_ttl,
        }

    def user_of(user_id: str) -> User:
        user = state.find_user(user_id)
        if user is None:
            raise errors.GraphError(404, "ResourceNotFound", f"no user {user_id}")
        return user

    @router.post("/tenants", status_code=201, summary="A tenant with users (and their consent's tokens)")
    async def create_tenant(body: NewTenant) -> dict:
        tenant = state.add_tenant(domain=body.domain)
        users = []
        for n, spec in enumerate(body.users):
            upn = spec.upn or f"user{n + 1}@{tenant.domain}"
            user = state.add_user(tenant, upn, spec.display_name)
            anchor = spec.anchor.timestamp() if spec.anchor else state.clock.now()
            seed.seed_events(
                state, user, spec.events, spec.seed, anchor, spec.spread_days, spec.all_day_share
            )
            users.append({"id": user.id, "upn": user.upn, "display_name": user.display_name, **consent(user)})
        return {
            "tenant_id": tenant.id,
            "domain": tenant.domain,
            "client_id": state.client_id,
            "client_secret": state.client_secret,
            "users": users,
        }

    @router.post("/users/{user_id}/consent", summary="Tokens as after the user's consent (and the app)")
    async def user_consent(user_id: str) -> dict:
        user = user_of(user_id)
        return {
            "tenant_id": user.tenant_id,
            "upn": user.upn,
            "client_id": state.client_id,
            "client_secret": state.client_secret,
            **consent(user),
        }

    @router.get("/users/{user_id}/events", summary="The user's live events")
    async def list_events(user_id: str) -> dict:
        return {"value": list(user_of(user_id).events.values())}

    @router.post("/users/{user_id}/events", status_code=201, summary="The user creates an event in Outlook")
    async def create_event(user_id: str, request: Request) -> dict:
        user = user_of(user_id)
        return state.put_event(
            user, new_event(user, await request.json(), "https://outlook.office365.com"), notify="created"
        )

    @router.patch("/users/{user_id}/events/{event_id}", summary="The user edits an event in Outlook")
    async def update_event(user_id: str, event_id: str, request: Request) -> dict:
        user = user_of(user_id)
        event = user.events.get(event_id)
        if event is None:
            raise errors.not_found()
        return state.put_event(user, patched(event, await request.json()), notify="updated")

    @router.delete("/users/{user_id}/events/{event_id}", status_code=204, summary="The user deletes an event")
    async def delete_event(user_id: str, event_id: str) -> Response:
        if not state.delete_event(user_of(user_id), event_id):
            raise errors.not_found()
        return Response(status_code=204)

    @router.post("/users/{user_id}/revoke", summary="Revoke every token issued so far (sign-out everywhere)")
    async def revoke(user_id: str) -> dict:
        user_of(user_id).tokens_valid_after = state.clock.now() + 0.001
        return {"revoked": True}

    @router.post("/users/{user_id}/reset-sync-state", summary="Delta tokens issued so far answer 410")
    async def reset_sync_state(user_id: str) -> dict:
        user_of(user_id).delta_valid_after = state.clock.now() + 0.001
        return {"reset": True}

    @router.put("/users/{user_id}/limits", summary="The mailbox's request limit (throttling: 429)")
    async def limits(user_id: str, body: LimitsBody) -> dict:
        user = user_of(user_id)
        user.limits.requests, user.limits.window_seconds = body.requests, body.window_seconds
        state.limiter.reset(f"{state.client_id}:{user.id}")
        return {"requests": body.requests, "window_seconds": body.window_seconds}

    @router.get("/users/{user_id}/stats", summary="Requests per path and outcome")
    async def stats(user_id: str) -> dict:
        return state.stats.snapshot(user_of(user_id).id)

    @router.get("/subscriptions", summary="Every subscription")
    async def all_subscriptions() -> dict:
        return {"value": [s.as_json() for s in state.subscriptions.values()]}

    @router.get("/notifications", summary="Change notifications sent, with the receiver's answer")
    async def notifications() -> dict:
        return {"value": state.notifications_sent}

    return router
