"""Sandbox-only admin API under ``/quickbooks/_sandbox``. Not part of QBO: tests and demo seeding use it
to create isolated companies, mint tokens, script failures and read request counters."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from connectors.sandbox.common.admin import fault_router
from connectors.sandbox.quickbooks.oauth import token_payload
from connectors.sandbox.quickbooks.realm import Realm
from connectors.sandbox.quickbooks.state import ACCOUNTING_SCOPE, QuickBooksState

MAX_BULK = 500_000


class NewRealm(BaseModel):
    customers: int = Field(0, ge=0, le=MAX_BULK)
    seed: int = 0
    anchor: datetime | None = Field(None, description="seeded timestamps end here; default: now")


class Limits(BaseModel):
    requests_per_minute: int | None = Field(None, ge=1)
    access_token_ttl_seconds: int | None = Field(None, ge=1)


class BulkCustomers(BaseModel):
    count: int = Field(..., ge=1, le=MAX_BULK)
    seed: int = 0


class TouchCustomers(BaseModel):
    count: int = Field(0, ge=0, description="active customers to edit (new Notes and phone)")
    deactivate: int = Field(0, ge=0, description="further active customers to make inactive")
    seed: int = 0


def admin_router(state: QuickBooksState) -> APIRouter:
    router = APIRouter(tags=["sandbox admin (not QBO)"])
    router.include_router(fault_router(state.faults))

    def realm_or_404(realm_id: str) -> Realm:
        realm = state.realms.get(realm_id)
        if realm is None:
            raise HTTPException(404, f"no sandbox realm {realm_id}")
        return realm

    def credentials(realm: Realm) -> dict[str, Any]:
        issued = state.tokens.grant(realm.realm_id, state.client_id, ACCOUNTING_SCOPE)
        return {
            "realm_id": realm.realm_id,
            "client_id": state.client_id,
            "client_secret": state.client_secret,
            **token_payload(issued),
        }

    def limits_of(realm: Realm) -> dict[str, Any]:
        return {
            "realm_id": realm.realm_id,
            "requests_per_minute": realm.limits.requests_per_minute,
            "access_token_ttl_seconds": realm.limits.access_token_ttl_seconds,
        }

    @router.post("/realms", status_code=201, summary="Create an isolated company and grant tokens for it")
    async def create_realm(spec: NewRealm) -> dict[str, Any]:
        realm = state.add_realm()
        anchor = spec.anchor.timestamp() if spec.anchor else state.clock.now()
        realm.seed_customers(spec.customers, spec.seed, anchor)
        return {**credentials(realm), "customers": len(realm.customers)}

    @router.get("/realms", summary="Companies in this sandbox")
    async def list_realms() -> dict[str, Any]:
        return {
            "realms": [
                {
                    "realm_id": realm_id,
                    "customers": len(realm.customers),
                    "demo": realm_id == state.demo_realm_id,
                }
                for realm_id, realm in state.realms.items()
            ]
        }

    @router.delete("/realms/{realm_id}", status_code=204, summary="Forget a company (not the demo one)")
    async def delete_realm(realm_id: str) -> Response:
        realm_or_404(realm_id)
        if realm_id == state.demo_realm_id:
            raise HTTPException(409, "the demo realm cannot be deleted")
        state.remove_realm(realm_id)
        return Response(status_code=204)

    @router.post("/realms/{realm_id}/grant", summary="Tokens for an existing company, as after consent")
    async def grant(realm_id: str) -> dict[str, Any]:
        return credentials(realm_or_404(realm_id))

    @router.post("/realms/{realm_id}/revoke", summary="Revoke every token issued for the company so far")
    async def revoke(realm_id: str) -> dict[str, Any]:
        realm_or_404(realm_id)
        state.tokens.revoke_realm(realm_id)
        return {"realm_id": realm_id, "revoked": True}

    @router.get("/realms/{realm_id}/limits", summary="Rate limit and access-token lifetime")
    async def get_limits(realm_id: str) -> dict[str, Any]:
        return limits_of(realm_or_404(realm_id))

    @router.put("/realms/{realm_id}/limits", summary="Change the rate limit or access-token lifetime")
    async def put_limits(realm_id: str, limits: Limits) -> dict[str, Any]:
        realm = realm_or_404(realm_id)
        if limits.requests_per_minute is not None:
            realm.limits.requests_per_minute = limits.requests_per_minute
        if limits.access_token_ttl_seconds is not None:
            realm.limits.access_token_ttl_seconds = limits.access_token_ttl_seconds
        return limits_of(realm)

    @router.get("/realms/{realm_id}/stats", summary="Requests seen for the company, by path and status")
    async def stats(realm_id: str) -> dict[str, Any]:
        realm_or_404(realm_id)
        return {"realm_id": realm_id, **state.stats.snapshot(realm_id)}

    @router.delete("/realms/{realm_id}/stats", status_code=204, summary="Reset the request counters")
    async def reset_stats(realm_id: str) -> Response:
        realm_or_404(realm_id)
        state.stats.reset(realm_id)
        return Response(status_code=204)

    @router.post("/realms/{realm_id}/customers/bulk", status_code=201, summary="Add many seeded customers")
    async def bulk_customers(realm_id: str, spec: BulkCustomers) -> dict[str, Any]:
        realm = realm_or_404(realm_id)
        rows = realm.seed_customers(spec.count, spec.seed, state.clock.now())
        return {
            "created": len(rows),
            "first_id": str(rows[0].id),
            "last_id": str(rows[-1].id),
            "total": len(realm.customers),
        }

    @router.post("/realms/{realm_id}/customers/touch", summary="Edit or deactivate customers now (for CDC)")
    async def touch_customers(realm_id: str, spec: TouchCustomers) -> dict[str, Any]:
        realm = realm_or_404(realm_id)
        return realm.touch_customers(spec.count, spec.deactivate, spec.seed, state.clock.now())

    return router
