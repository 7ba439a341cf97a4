"""Sandbox-only admin API under ``/xero/_sandbox`` (not Xero): organisations, tokens as after consent,
limits, counters, bulk data, scripted edits, webhook subscriptions and faults."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field, HttpUrl

from connectors.sandbox.common.admin import fault_router
from connectors.sandbox.xero import seed
from connectors.sandbox.xero.oauth import DEFAULT_GRANT_SCOPE, SCOPES, token_payload
from connectors.sandbox.xero.state import XeroState
from connectors.sandbox.xero.tenant import Tenant

MAX_BULK = 500_000


class NewTenant(BaseModel):
    name: str | None = Field(None, description="organisation name; default: a generated one")
    contacts: int = Field(0, ge=0, le=MAX_BULK)
    items: int = Field(len(seed.SERVICES), ge=0, le=len(seed.SERVICES))
    invoices: int = Field(0, ge=0, le=MAX_BULK)
    credit_notes: int = Field(0, ge=0, le=10_000)
    seed: int = 0
    anchor: datetime | None = Field(None, description="seeded history ends here; default: now")


class GrantSpec(BaseModel):
    scope: str | None = Field(None, description="space-separated scopes; default: all a sync needs")


class Limits(BaseModel):
    minute_limit: int | None = Field(None, ge=1)
    day_limit: int | None = Field(None, ge=1)
    concurrent_limit: int | None = Field(None, ge=1)
    time_scale: float | None = Field(None, gt=0, description="60: a minute lasts a second, a day 24 minutes")
    access_token_ttl_seconds: int | None = Field(None, ge=1)
    latency_seconds: float | None = Field(None, ge=0, le=30, description="hold every API call this long")


class AppLimits(BaseModel):
    app_minute_limit: int = Field(..., ge=1)


class Bulk(BaseModel):
    count: int = Field(..., ge=1, le=MAX_BULK)
    seed: int = 0
    paid_share: float = Field(0.5, ge=0, le=1, description="invoices only: share paid in full at once")


class Touch(BaseModel):
    contacts: int = Field(0, ge=0)
    invoices: int = Field(0, ge=0)
    seed: int = 0
    spread_seconds: float = Field(
        0, ge=0, description="stamp the edits evenly over this many seconds before now"
    )


class Consent(BaseModel):
    tenant_ids: list[str] | None = Field(None, description="tenants a consent grants; null: all of them")


class NewWebhook(BaseModel):
    url: HttpUrl
    webhook_key: str | None = Field(None, description="default: a new random key, as Xero generates")
    tenant_ids: list[str] | None = Field(None, description="null: events of every tenant, as in Xero")
    intent_to_receive_passed: bool = Field(
        False, description="skip the intent-to-receive check (deliver at once)"
    )


def admin_router(state: XeroState) -> APIRouter:
    router = APIRouter(tags=["sandbox admin (not Xero)"])
    router.include_router(fault_router(state.faults))

    def tenant_or_404(tenant_id: str) -> Tenant:
        tenant = state.tenants.get(tenant_id.lower())
        if tenant is None:
            raise HTTPException(404, f"no sandbox tenant {tenant_id}")
        return tenant

    def counts(tenant: Tenant) -> dict[str, int]:
        return {name: len(table) for name, table in tenant.tables.items()}

    def credentials(tenant_ids: tuple[str, ...], scope: str | None) -> dict[str, Any]:
        scopes = tuple(scope.split()) if scope else DEFAULT_GRANT_SCOPE
        unknown = [s for s in scopes if s not in SCOPES]
        if unknown:
            raise HTTPException(422, f"unknown scopes: {unknown}")
        issued = state.tokens.grant(state.client_id, scopes, tenant_ids)
        connections = state.tokens.connections(issued.consent)
        return {
            "client_id": state.client_id,
            "client_secret": state.client_secret,
            **token_payload(issued),
            "authentication_event_id": issued.consent.grant_id,
            "connections": [{"id": c.id, "tenantId": c.tenant_id} for c in connections],
        }

    def limits_of(tenant: Tenant) -> dict[str, Any]:
        return {"tenant_id": tenant.tenant_id, **vars(tenant.limits)}

    @router.post("/tenants", status_code=201, summary="Create a seeded organisation and grant tokens for it")
    async def create_tenant(spec: NewTenant) -> dict[str, Any]:
        tenant = state.add_tenant(spec.name or f"Sandbox Organisation {len(state.tenants)}")
        anchor = spec.anchor.timestamp() if spec.anchor else state.clock.now()
        book = seed.BookSpec(spec.contacts, spec.items, spec.invoices, spec.credit_notes, spec.seed, anchor)
        seed.seed_book(tenant, book)
        return {
            "tenant_id": tenant.tenant_id,
            "name": tenant.name,
            "counts": counts(tenant),
            **credentials((tenant.tenant_id,), None),
        }

    @router.get("/tenants", summary="Organisations in this sandbox")
    async def list_tenants() -> dict[str, Any]:
        return {
            "tenants": [
                {
                    "tenant_id": t.tenant_id,
                    "name": t.name,
                    "demo": t.tenant_id == state.demo_tenant_id,
                    "counts": counts(t),
                }
                for t in state.tenants.values()
            ]
        }

    @router.delete(
        "/tenants/{tenant_id}", status_code=204, summary="Forget an organisation (not the demo one)"
    )
    async def delete_tenant(tenant_id: str) -> Response:
        tenant = tenant_or_404(tenant_id)
        if tenant.tenant_id == state.demo_tenant_id:
            raise HTTPException(409, "the demo tenant cannot be deleted")
        state.remove_tenant(tenant.tenant_id)
        return Response(status_code=204)

    @router.post("/tenants/{tenant_id}/grant", summary="Tokens for an organisation, as after consent")
    async def grant(tenant_id: str, spec: GrantSpec | None = None) -> dict[str, Any]:
        tenant = tenant_or_404(tenant_id)
        return {
            "tenant_id": tenant.tenant_id,
            **credentials((tenant.tenant_id,), spec.scope if spec else None),
        }

    @router.post(
        "/tenants/{tenant_id}/revoke", summary="Revoke every consent covering the organisation so far"
    )
    async def revoke(tenant_id: str) -> dict[str, Any]:
        tenant = tenant_or_404(tenant_id)
        state.tokens.revoke_tenant(tenant.tenant_id)
        return {"tenant_id": tenant.tenant_id, "revoked": True}

    @router.get("/tenants/{tenant_id}/limits", summary="Rate limits, time scale, token lifetime, latency")
    async def get_limits(tenant_id: str) -> dict[str, Any]:
        return limits_of(tenant_or_404(tenant_id))

    @router.put("/tenants/{tenant_id}/limits", summary="Change the organisation's limits")
    async def put_limits(tenant_id: str, limits: Limits) -> dict[str, Any]:
        tenant = tenant_or_404(tenant_id)
        for name, value in limits.model_dump(exclude_none=True).items():
            setattr(tenant.limits, name, value)
        return limits_of(tenant)

    @router.get("/app/limits", summary="The app-wide minute limit (all tenants)")
    async def get_app_limits() -> dict[str, Any]:
        return {"app_minute_limit": state.limits.app_minute_limit}

    @router.put("/app/limits", summary="Change the app-wide minute limit")
    async def put_app_limits(limits: AppLimits) -> dict[str, Any]:
        state.limits.app_minute_limit = limits.app_minute_limit
        return {"app_minute_limit": state.limits.app_minute_limit}

    @router.get("/tenants/{tenant_id}/stats", summary="Requests by path and status; 429s by limit")
    async def stats(tenant_id: str) -> dict[str, Any]:
        tenant = tenant_or_404(tenant_id)
        return {
            "tenant_id": tenant.tenant_id,
            **state.stats.snapshot(tenant.tenant_id),
            "throttled": dict(state.limits.throttled.get(tenant.tenant_id, {})),
        }

    @router.delete("/tenants/{tenant_id}/stats", status_code=204, summary="Reset the counters")
    async def reset_stats(tenant_id: str) -> Response:
        tenant = tenant_or_404(tenant_id)
        state.stats.reset(tenant.tenant_id)
        state.limits.throttled.pop(tenant.tenant_id, None)
        return Response(status_code=204)

    @router.post("/tenants/{tenant_id}/contacts/bulk", status_code=201, summary="Add many contacts now")
    async def bulk_contacts(tenant_id: str, spec: Bulk) -> dict[str, Any]:
        tenant = tenant_or_404(tenant_id)
        rows = seed.bulk_contacts(tenant, spec.count, spec.seed, state.clock.now())
        return {
            "created": len(rows),
            "first_id": rows[0].id,
            "last_id": rows[-1].id,
            "total": len(tenant.table("Contacts")),
        }

    @router.post("/tenants/{tenant_id}/invoices/bulk", status_code=201, summary="Add many sales invoices now")
    async def bulk_invoices(tenant_id: str, spec: Bulk) -> dict[str, Any]:
        tenant = tenant_or_404(tenant_id)
        try:
            ids = seed.bulk_invoices(tenant, spec.count, spec.seed, state.clock.now(), spec.paid_share)
        except ValueError as exc:
            raise HTTPException(409, str(exc)) from exc
        return {
            "created": len(ids),
            "first_id": ids[0],
            "last_id": ids[-1],
            "total": len(tenant.table("Invoices")),
        }

    @router.post("/tenants/{tenant_id}/touch", summary="Edit contacts and invoices, stamped over a time span")
    async def touch(tenant_id: str, spec: Touch) -> dict[str, Any]:
        tenant = tenant_or_404(tenant_id)
        return seed.touch(
            tenant, spec.contacts, spec.invoices, spec.seed, state.clock.now(), spec.spread_seconds
        )

    @router.get("/consent", summary="Which tenants an authorization grants")
    async def get_consent() -> dict[str, Any]:
        return {"tenant_ids": state.consent_tenants}

    @router.put("/consent", summary="Choose which tenants an authorization grants (null: all)")
    async def put_consent(spec: Consent) -> dict[str, Any]:
        if spec.tenant_ids is not None:
            for tenant_id in spec.tenant_ids:
                tenant_or_404(tenant_id)
            state.consent_tenants = [t.lower() for t in spec.tenant_ids]
        else:
            state.consent_tenants = None
        return {"tenant_ids": state.consent_tenants}

    @router.post(
        "/webhooks", status_code=201, summary="Register a webhook subscription (as in Xero's portal)"
    )
    async def add_webhook(spec: NewWebhook) -> dict[str, Any]:
        for tenant_id in spec.tenant_ids or []:
            tenant_or_404(tenant_id)
        sub = state.webhooks.subscribe(
            str(spec.url), spec.webhook_key, spec.tenant_ids, spec.intent_to_receive_passed
        )
        return sub.describe()

    @router.get("/webhooks", summary="Webhook subscriptions and their delivery state")
    async def list_webhooks() -> dict[str, Any]:
        return {"webhooks": [s.describe() for s in list(state.webhooks.subscriptions.values())]}

    def webhook_or_404(webhook_id: str) -> None:
        if webhook_id not in state.webhooks.subscriptions:
            raise HTTPException(404, f"no webhook subscription {webhook_id}")

    @router.get("/webhooks/{webhook_id}", summary="One subscription: status, queue, delivery log")
    async def get_webhook(webhook_id: str) -> dict[str, Any]:
        webhook_or_404(webhook_id)
        return state.webhooks.subscriptions[webhook_id].describe()

    @router.delete("/webhooks/{webhook_id}", status_code=204, summary="Remove a subscription")
    async def delete_webhook(webhook_id: str) -> Response:
        webhook_or_404(webhook_id)
        state.webhooks.unsubscribe(webhook_id)
        return Response(status_code=204)

    @router.post(
        "/webhooks/{webhook_id}/intent-to-receive",
        summary="Send Xero's intent-to-receive check: expects 200 when signed right, 401 when wrong",
    )
    async def intent_to_receive(webhook_id: str) -> dict[str, Any]:
        webhook_or_404(webhook_id)
        return await state.webhooks.intent_to_receive(webhook_id)

    return router
