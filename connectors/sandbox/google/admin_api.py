"""Sandbox-only admin API under ``/google/_sandbox`` (not Google): users and calendars, tokens as after
consent, what users do in Google Calendar (create, edit, delete events), sync-token expiry, limits,
counters and faults."""

from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from connectors.sandbox.common.admin import fault_router
from connectors.sandbox.google import errors, seed
from connectors.sandbox.google.calendars import Calendar
from connectors.sandbox.google.oauth import DEFAULT_GRANT_SCOPES, SCOPES, token_payload
from connectors.sandbox.google.state import Account, GoogleState

MAX_EVENTS = 200_000


class NewCalendar(BaseModel):
    summary: str = Field(..., min_length=1, max_length=200)
    time_zone: str | None = Field(None, description="default: the user's zone")
    description: str | None = None
    events: int = Field(0, ge=0, le=MAX_EVENTS)


class NewAccount(BaseModel):
    email: str | None = Field(None, description="default: a generated staff address")
    name: str | None = None
    time_zone: str = "America/Los_Angeles"
    events: int = Field(0, ge=0, le=MAX_EVENTS, description="seeded on the primary calendar")
    calendars: list[NewCalendar] = Field(default_factory=list, description="secondary calendars")
    seed: int = 0
    spread_days: float = Field(60, ge=0, le=3650)
    all_day_share: float = Field(0.1, ge=0, le=1)
    recurring_share: float = Field(0.05, ge=0, le=1)
    anchor: datetime | None = Field(None, description="seeded times centre here; default: now")
    scope: str | None = Field(
        None, description="space-separated scopes of the grant; default: events + readonly"
    )


class Seed(BaseModel):
    count: int = Field(..., ge=1, le=MAX_EVENTS)
    seed: int = 0
    spread_days: float = Field(60, ge=0, le=3650)
    anchor: datetime | None = None
    all_day_share: float = Field(0.1, ge=0, le=1)
    recurring_share: float = Field(0.05, ge=0, le=1)


class ConsentSpec(BaseModel):
    scope: str | None = None
    redirect_uri: str = "http://localhost/oauth/callback"
    offline: bool = True


class ConsentUser(BaseModel):
    email: str | None = Field(
        None, description="who approves at the authorization endpoint; null: the demo user"
    )


class Limits(BaseModel):
    requests_per_minute: int | None = Field(None, ge=1)
    rate_limit_status: Literal[403, 429] | None = None
    retry_after_seconds: int | None = Field(None, ge=0, le=3600)
    clear_retry_after: bool = Field(False, description="send no Retry-After with throttled answers")
    access_token_ttl_seconds: int | None = Field(None, ge=1)
    sync_token_ttl_seconds: int | None = Field(None, ge=1)
    window_seconds: float | None = Field(None, gt=0, le=3600, description="the quota window (Google: 60)")


class UserEdit(BaseModel):
    changes: dict[str, Any] = Field(..., description="fields as events.patch takes them")


def admin_router(state: GoogleState) -> APIRouter:
    router = APIRouter(tags=["sandbox admin (not Google)"])
    router.include_router(fault_router(state.faults))
    now = state.clock.now

    def account_or_404(email: str) -> Account:
        account = state.accounts.get(email.lower())
        if account is None:
            raise HTTPException(404, f"no sandbox user {email}")
        return account

    def calendar_or_404(calendar_id: str) -> Calendar:
        calendar = state.calendar(calendar_id)
        if calendar is None:
            raise HTTPException(404, f"no sandbox calendar {calendar_id}")
        return calendar

    def scopes_of(scope: str | None) -> tuple[str, ...]:
        scopes = tuple(scope.split()) if scope else DEFAULT_GRANT_SCOPES
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise HTTPException(422, f"unknown scopes: {unknown}")
        return scopes

    def credentials(account: Account, scope: str | None) -> dict[str, Any]:
        issued = state.tokens.grant(state.client_id, account.email, scopes_of(scope))
        return {"client_id": state.client_id, "client_secret": state.client_secret, **token_payload(issued)}

    def describe(account: Account) -> dict[str, Any]:
        return {
            "email": account.email,
            "name": account.name,
            "demo": account.email == state.demo_email,
            "calendars": [
                {
                    "id": c.id,
                    "summary": c.summary,
                    "primary": c.primary,
                    "time_zone": c.time_zone,
                    "events": sum(not e.cancelled for e in c.events.values()),
                    "cancelled": sum(e.cancelled for e in c.events.values()),
                }
                for c in account.calendars.values()
            ],
        }

    def anchor_of(value: datetime | None) -> float:
        return value.timestamp() if value else now()

    def guard(call):
        try:
            return call()
        except errors.GoogleError as error:
            raise HTTPException(error.status, error.payload()["error"]) from None

    @router.post(
        "/accounts",
        status_code=201,
        summary="Create a user with calendars and events; tokens as after consent",
    )
    async def create_account(spec: NewAccount) -> dict[str, Any]:
        email = (spec.email or f"staff{len(state.accounts) + 1}.{int(now())}@firmsync.example").lower()
        if email in state.accounts:
            raise HTTPException(409, f"user {email} exists")
        account = state.add_account(email, spec.name or email.split("@")[0], spec.time_zone)
        anchor = anchor_of(spec.anchor)
        shares = {"all_day_share": spec.all_day_share, "recurring_share": spec.recurring_share}
        seed.seed_events(
            account.primary, spec.events, spec.seed, anchor, spread_days=spec.spread_days, **shares
        )
        for index, extra in enumerate(spec.calendars):
            calendar = state.add_calendar(
                account, extra.summary, extra.time_zone or spec.time_zone, extra.description
            )
            seed.seed_events(
                calendar, extra.events, spec.seed + index + 1, anchor, spread_days=spec.spread_days
            )
        return {**describe(account), **credentials(account, spec.scope)}

    @router.get("/accounts", summary="Users in this sandbox")
    async def list_accounts() -> dict[str, Any]:
        return {"accounts": [describe(a) for a in state.accounts.values()]}

    @router.get("/accounts/{email}", summary="One user and their calendars")
    async def get_account(email: str) -> dict[str, Any]:
        return describe(account_or_404(email))

    @router.delete("/accounts/{email}", status_code=204, summary="Forget a user (not the demo one)")
    async def delete_account(email: str) -> Response:
        account = account_or_404(email)
        if account.email == state.demo_email:
            raise HTTPException(409, "the demo user cannot be deleted")
        state.remove_account(account.email)
        return Response(status_code=204)

    @router.post("/accounts/{email}/calendars", status_code=201, summary="Add a secondary calendar")
    async def add_calendar(email: str, spec: NewCalendar) -> dict[str, Any]:
        account = account_or_404(email)
        calendar = state.add_calendar(
            account, spec.summary, spec.time_zone or account.primary.time_zone, spec.description
        )
        seed.seed_events(calendar, spec.events, 0, now())
        return calendar.list_entry()

    @router.post(
        "/accounts/{email}/consent", summary="The user approves the app: a code and tokens, no browser"
    )
    async def consent(email: str, spec: ConsentSpec | None = None) -> dict[str, Any]:
        account = account_or_404(email)
        spec = spec or ConsentSpec()
        scopes = scopes_of(spec.scope)
        code = state.tokens.issue_code(
            state.client_id,
            spec.redirect_uri,
            scopes,
            account.email,
            offline=spec.offline,
            challenge=None,
            challenge_method="plain",
        )
        return {
            "email": account.email,
            "code": code,
            "redirect_uri": spec.redirect_uri,
            **credentials(account, spec.scope),
        }

    @router.get("/consent", summary="Who approves at the authorization endpoint")
    async def get_consent() -> dict[str, Any]:
        return {"email": state.consent_email}

    @router.put("/consent", summary="Choose who approves at the authorization endpoint (null: the demo user)")
    async def put_consent(spec: ConsentUser) -> dict[str, Any]:
        if spec.email is not None:
            account_or_404(spec.email)
        state.consent_email = spec.email.lower() if spec.email else None
        return {"email": state.consent_email}

    @router.post("/accounts/{email}/tokens/expire", summary="Every access token issued so far answers 401")
    async def expire_tokens(email: str) -> dict[str, Any]:
        account = account_or_404(email)
        account.access_tokens_expired_at = now()
        return {"email": account.email, "access_tokens_expired_at": account.access_tokens_expired_at}

    @router.post("/accounts/{email}/tokens/revoke", summary="The user removed the app: every token is dead")
    async def revoke_tokens(email: str) -> dict[str, Any]:
        account = account_or_404(email)
        account.access_tokens_expired_at = account.refresh_tokens_revoked_at = now()
        return {"email": account.email, "revoked": True}

    @router.get("/accounts/{email}/limits", summary="Quota, throttle answer, token lifetimes")
    async def get_limits(email: str) -> dict[str, Any]:
        return vars(account_or_404(email).limits)

    @router.put(
        "/accounts/{email}/limits", summary="Change the user's quota, throttle answer, token lifetimes"
    )
    async def put_limits(email: str, limits: Limits) -> dict[str, Any]:
        account = account_or_404(email)
        for name, value in limits.model_dump(exclude_none=True, exclude={"clear_retry_after"}).items():
            setattr(account.limits, name, value)
        if limits.clear_retry_after:
            account.limits.retry_after_seconds = None
        state.limiter.reset(account.email)
        return vars(account.limits)

    @router.get("/accounts/{email}/stats", summary="Requests by path and outcome")
    async def stats(email: str) -> dict[str, Any]:
        account = account_or_404(email)
        return {"email": account.email, **state.stats.snapshot(account.email)}

    @router.delete("/accounts/{email}/stats", status_code=204, summary="Reset the counters")
    async def reset_stats(email: str) -> Response:
        state.stats.reset(account_or_404(email).email)
        return Response(status_code=204)

    @router.post("/calendars/{calendar_id}/events/seed", status_code=201, summary="Add seeded events")
    async def seed_calendar(calendar_id: str, spec: Seed) -> dict[str, Any]:
        calendar = calendar_or_404(calendar_id)
        ids = seed.seed_events(
            calendar,
            spec.count,
            spec.seed,
            anchor_of(spec.anchor),
            spread_days=spec.spread_days,
            all_day_share=spec.all_day_share,
            recurring_share=spec.recurring_share,
        )
        return {"created": len(ids), "ids": ids, "total": len(calendar.events)}

    @router.post(
        "/calendars/{calendar_id}/events", status_code=201, summary="The user creates an event in Google"
    )
    async def user_creates(calendar_id: str, body: dict[str, Any]) -> dict[str, Any]:
        calendar = calendar_or_404(calendar_id)
        return guard(lambda: calendar.insert(body, now()))

    @router.get(
        "/calendars/{calendar_id}/events/{event_id}", summary="An event as stored (cancelled ones too)"
    )
    async def peek(calendar_id: str, event_id: str) -> dict[str, Any]:
        calendar = calendar_or_404(calendar_id)
        return guard(lambda: calendar.get(event_id))

    @router.patch("/calendars/{calendar_id}/events/{event_id}", summary="The user edits an event in Google")
    async def user_edits(calendar_id: str, event_id: str, edit: UserEdit) -> dict[str, Any]:
        calendar = calendar_or_404(calendar_id)
        return guard(lambda: calendar.patch(event_id, edit.changes, now(), None))

    @router.delete(
        "/calendars/{calendar_id}/events/{event_id}", status_code=204, summary="The user deletes an event"
    )
    async def user_deletes(calendar_id: str, event_id: str) -> Response:
        calendar = calendar_or_404(calendar_id)
        guard(lambda: calendar.delete(event_id, now(), None))
        return Response(status_code=204)

    @router.post(
        "/calendars/{calendar_id}/sync-tokens/expire", summary="Sync tokens issued so far answer 410"
    )
    async def expire_sync_tokens(calendar_id: str) -> dict[str, Any]:
        calendar = calendar_or_404(calendar_id)
        calendar.sync_tokens_expired_at = now()
        return {"calendar_id": calendar.id, "sync_tokens_expired_at": calendar.sync_tokens_expired_at}

    return router
