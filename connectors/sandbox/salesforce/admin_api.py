"""The sandbox's own admin API under ``/salesforce/_sandbox`` (not Salesforce): make orgs with seeded data,
act as a user in them (create, edit, delete records), set limits, expire sessions, read counters."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, Field

from connectors.sandbox.common.admin import fault_router
from connectors.sandbox.salesforce import errors, seed
from connectors.sandbox.salesforce.oauth import instance_url, token_answer
from connectors.sandbox.salesforce.schema import OBJECTS
from connectors.sandbox.salesforce.state import Org, SalesforceState


class NewOrg(BaseModel):
    name: str = "Sandbox Org"
    username: str | None = None
    accounts: int = Field(10, ge=0, le=20_000)
    contacts: int = Field(20, ge=0, le=20_000)
    leads: int = Field(10, ge=0, le=20_000)
    opportunities: int = Field(10, ge=0, le=20_000)
    seed: int = 1
    daily_api_requests: int | None = Field(None, ge=1)
    session_timeout_seconds: int | None = Field(None, ge=1)


class Limits(BaseModel):
    daily_api_requests: int | None = Field(None, ge=1)
    session_timeout_seconds: int | None = Field(None, ge=1)
    # Pretend this many calls were made in the last 24 hours (replaces the count).
    api_usage: int | None = Field(None, ge=0)


class Expiry(BaseModel):
    # None: now; n: after the next n API requests (the session times out in the middle of a sync).
    after_calls: int | None = Field(None, ge=0)


class Consent(BaseModel):
    org_id: str | None = None


def describe(state: SalesforceState, org: Org) -> dict[str, Any]:
    return {
        "org_id": org.org_id,
        "name": org.name,
        "username": org.username,
        "user_id": org.user_id,
        "counts": {sobject: len(records) for sobject, records in org.records.items()},
        "deleted": {sobject: len(log) for sobject, log in org.delete_log.items()},
        "daily_api_requests": org.daily_api_requests,
        "api_usage": state.api_usage(org),
        "session_timeout_seconds": org.session_timeout_seconds,
    }


def admin_router(state: SalesforceState) -> APIRouter:
    router = APIRouter(tags=["sandbox admin: Salesforce"])
    router.include_router(fault_router(state.faults))

    def org_or_404(org_id: str) -> Org:
        org = state.orgs.get(org_id)
        if org is None:
            raise HTTPException(404, f"no org {org_id}")
        return org

    def sobject_or_404(name: str) -> str:
        if name not in OBJECTS:
            raise HTTPException(404, f"unknown sObject {name}; known: {', '.join(OBJECTS)}")
        return name

    def guard(action):
        try:
            return action()
        except errors.SalesforceError as error:
            raise HTTPException(error.status, error.payload()) from None

    @router.post(
        "/orgs", status_code=201, summary="A new org with seeded records, and an approved grant's tokens"
    )
    async def create_org(spec: NewOrg, request: Request) -> dict[str, Any]:
        org = state.add_org(spec.name, username=spec.username, daily_api_requests=spec.daily_api_requests)
        if spec.session_timeout_seconds:
            org.session_timeout_seconds = spec.session_timeout_seconds
        seed.seed_org(
            state,
            org,
            accounts=spec.accounts,
            contacts=spec.contacts,
            leads=spec.leads,
            opportunities=spec.opportunities,
            seed=spec.seed,
            anchor=state.clock.now() - 60,
        )
        tokens = token_answer(state, request, org, refresh_token=state.issue_refresh(org))
        return describe(state, org) | {
            "client_id": state.client_id,
            "client_secret": state.client_secret,
            "access_token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "instance_url": instance_url(state, request),
        }

    @router.get("/orgs", summary="Every org")
    async def list_orgs() -> dict[str, Any]:
        return {"orgs": [describe(state, org) for org in state.orgs.values()]}

    @router.get("/orgs/{org_id}", summary="One org")
    async def get_org(org_id: str) -> dict[str, Any]:
        return describe(state, org_or_404(org_id))

    @router.get("/orgs/{org_id}/records/{sobject}", summary="Every live record of a type")
    async def list_records(org_id: str, sobject: str) -> dict[str, Any]:
        records = org_or_404(org_id).records[sobject_or_404(sobject)]
        return {"records": list(records.values())}

    @router.get("/orgs/{org_id}/records/{sobject}/{record_id}", summary="A record as stored")
    async def get_record(org_id: str, sobject: str, record_id: str) -> dict[str, Any]:
        record = state.find(org_or_404(org_id), sobject_or_404(sobject), record_id)
        if record is None:
            raise HTTPException(404, "no such record")
        return record

    @router.post("/orgs/{org_id}/records/{sobject}", status_code=201, summary="A user creates a record")
    async def create_record(org_id: str, sobject: str, body: dict[str, Any]) -> dict[str, Any]:
        org = org_or_404(org_id)
        return guard(lambda: state.write(org, sobject_or_404(sobject), body))

    @router.patch("/orgs/{org_id}/records/{sobject}/{record_id}", summary="A user edits a record")
    async def edit_record(org_id: str, sobject: str, record_id: str, body: dict[str, Any]) -> dict[str, Any]:
        org = org_or_404(org_id)
        sobject = sobject_or_404(sobject)
        if state.find(org, sobject, record_id) is None:
            raise HTTPException(404, "no such record")
        return guard(lambda: state.write(org, sobject, body, record_id))

    @router.delete(
        "/orgs/{org_id}/records/{sobject}/{record_id}", status_code=204, summary="A user deletes a record"
    )
    async def delete_record(org_id: str, sobject: str, record_id: str) -> Response:
        org = org_or_404(org_id)
        guard(lambda: state.delete(org, sobject_or_404(sobject), record_id))
        return Response(status_code=204)

    @router.put("/orgs/{org_id}/limits", summary="Daily API allocation, session timeout, usage so far")
    async def put_limits(org_id: str, limits: Limits) -> dict[str, Any]:
        org = org_or_404(org_id)
        if limits.daily_api_requests is not None:
            org.daily_api_requests = limits.daily_api_requests
        if limits.session_timeout_seconds is not None:
            org.session_timeout_seconds = limits.session_timeout_seconds
        if limits.api_usage is not None:
            org.api_calls.clear()
            org.api_calls.extend([state.clock.now()] * limits.api_usage)
        return describe(state, org)

    @router.post("/orgs/{org_id}/consent", summary="The org's admin approves the app: its tokens, no browser")
    async def consent(org_id: str, request: Request) -> dict[str, Any]:
        org = org_or_404(org_id)
        fixed = next((token for token, owner in state.fixed_refresh.items() if owner == org.org_id), None)
        refresh = fixed or state.issue_refresh(org)
        tokens = token_answer(state, request, org, refresh_token=refresh)
        return {
            "org_id": org.org_id,
            "username": org.username,
            "client_id": state.client_id,
            "client_secret": state.client_secret,
            "access_token": tokens["access_token"],
            "refresh_token": refresh,
            "instance_url": tokens["instance_url"],
        }

    @router.post(
        "/orgs/{org_id}/tokens/expire", summary="Every session issued so far answers INVALID_SESSION_ID"
    )
    async def expire_sessions(org_id: str, spec: Expiry | None = None) -> dict[str, Any]:
        org = org_or_404(org_id)
        if spec is not None and spec.after_calls is not None:
            org.expire_sessions_after_calls = spec.after_calls
        else:
            org.access_tokens_expired_at = state.clock.now()
        return {
            "org_id": org.org_id,
            "access_tokens_expired_at": org.access_tokens_expired_at,
            "after_calls": org.expire_sessions_after_calls,
        }

    @router.post("/orgs/{org_id}/tokens/revoke", summary="The admin revoked the app: every token is dead")
    async def revoke_tokens(org_id: str) -> dict[str, Any]:
        org = org_or_404(org_id)
        org.access_tokens_expired_at = org.refresh_tokens_revoked_at = state.clock.now()
        return {"org_id": org.org_id, "revoked": True}

    @router.get("/orgs/{org_id}/stats", summary="API requests by path and outcome")
    async def stats(org_id: str) -> dict[str, Any]:
        return {"org_id": org_id, **state.stats.snapshot(org_or_404(org_id).org_id)}

    @router.delete("/orgs/{org_id}/stats", status_code=204, summary="Reset the counters")
    async def reset_stats(org_id: str) -> Response:
        state.stats.reset(org_or_404(org_id).org_id)
        return Response(status_code=204)

    @router.put("/consent", summary="Which org approves at the authorization endpoint (null: the demo org)")
    async def put_consent(spec: Consent) -> dict[str, Any]:
        if spec.org_id is not None:
            org_or_404(spec.org_id)
        state.consent_org = spec.org_id
        return {"org_id": state.consent_org}

    return router
