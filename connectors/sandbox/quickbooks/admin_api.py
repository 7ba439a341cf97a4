"""Sandbox-only admin API under ``/quickbooks/_sandbox``. Not part of QBO: tests and demo seeding use it
to create isolated companies, mint tokens, script failures, act as a QuickBooks user (edit, void or
delete any object, which moves its SyncToken on as an edit in QuickBooks would), register webhook
subscriptions and read request counters and webhook deliveries."""

import random
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Response
from pydantic import AnyHttpUrl, BaseModel, Field

from connectors.sandbox.common.admin import fault_router
from connectors.sandbox.quickbooks.entities import BY_RESOURCE, SPECS, EntitySpec
from connectors.sandbox.quickbooks.oauth import token_payload
from connectors.sandbox.quickbooks.realm import QUICKBOOKS_USER, Realm
from connectors.sandbox.quickbooks.responses import deleted_body, entity_body, json_response
from connectors.sandbox.quickbooks.sales_history import add_invoices
from connectors.sandbox.quickbooks.state import ACCOUNTING_SCOPE, QuickBooksState

MAX_BULK = 500_000


class NewRealm(BaseModel):
    customers: int = Field(0, ge=0, le=MAX_BULK)
    invoices: int = Field(0, ge=0, le=MAX_BULK, description="seeded invoices (some paid) for the customers")
    seed: int = 0
    anchor: datetime | None = Field(None, description="seeded timestamps end here; default: now")


class Limits(BaseModel):
    requests_per_minute: int | None = Field(None, ge=1)
    access_token_ttl_seconds: int | None = Field(None, ge=1)
    concurrent_requests: int | None = Field(None, ge=1, description="requests in flight at once (Intuit: 10)")
    response_delay_ms: int | None = Field(None, ge=0, le=60_000, description="latency added to every answer")


class BulkInvoices(BaseModel):
    count: int = Field(..., ge=1, le=MAX_BULK)
    seed: int = 0
    days: float = Field(365, gt=0, le=3650, description="spread over this many days before now")
    paid_share: float = Field(0.5, ge=0, le=1, description="share paid in full")
    partly_paid_share: float = Field(0.1, ge=0, le=1, description="share paid in part")


class AsUser(BaseModel):
    editor: str = Field(QUICKBOOKS_USER, min_length=1, description="who a later Stale Object Error names")


class Edit(AsUser):
    changes: dict[str, Any] = Field(..., description="properties to set, as a sparse update would")


class Create(AsUser):
    body: dict[str, Any] = Field(..., description="the object, as the API's create takes it")


class Touch(BaseModel):
    count: int = Field(1, ge=1, le=MAX_BULK)
    seed: int = 0
    editor: str = QUICKBOOKS_USER


class NewSubscription(BaseModel):
    url: AnyHttpUrl
    verifier_token: str = Field(..., min_length=1)
    entities: list[str] | None = Field(None, description="entity names to notify about; default: all")
    format: Literal["classic", "cloudevents"] = "classic"


# The free-text field a bookkeeper edits when they touch an object of each entity.
NOTE_FIELD = {
    "Customer": "Notes",
    "Invoice": "PrivateNote",
    "CreditMemo": "PrivateNote",
    "Payment": "PrivateNote",
    "Item": "Description",
    "Account": "Description",
}


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
            "concurrent_requests": realm.limits.concurrent_requests,
            "response_delay_ms": realm.limits.response_delay_ms,
        }

    def entity_or_404(name: str, *, writable: bool = True) -> EntitySpec:
        spec = SPECS.get(name) or BY_RESOURCE.get(name.lower())
        if spec is None or (writable and not spec.writable):
            raise HTTPException(404, f"no writable sandbox entity {name}; one of {', '.join(SPECS)}")
        return spec

    @router.post("/realms", status_code=201, summary="Create an isolated company and grant tokens for it")
    async def create_realm(spec: NewRealm) -> dict[str, Any]:
        anchor = spec.anchor.timestamp() if spec.anchor else state.clock.now()
        realm = state.add_realm(anchor=anchor)
        realm.seed_customers(spec.customers, spec.seed, anchor)
        if spec.invoices:
            add_invoices(realm, spec.invoices, spec.seed, anchor, 365, 0.5, 0.1)
        return {**credentials(realm), "customers": len(realm.customers), "invoices": len(realm.invoices)}

    @router.get("/realms/{realm_id}", summary="One company: how many objects of each entity it holds")
    async def describe_realm(realm_id: str) -> dict[str, Any]:
        realm = realm_or_404(realm_id)
        counts = {name: len(table) for name, table in realm.tables.items()}
        deleted = {name: len(table.tombstones) for name, table in realm.tables.items() if table.tombstones}
        return {
            "realm_id": realm_id,
            "demo": realm_id == state.demo_realm_id,
            "counts": counts,
            "deleted": deleted,
        }

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

    @router.put(
        "/realms/{realm_id}/limits", summary="Change rate and concurrency limits, latency or token life"
    )
    async def put_limits(realm_id: str, limits: Limits) -> dict[str, Any]:
        realm = realm_or_404(realm_id)
        for name, value in limits.model_dump(exclude_none=True).items():
            setattr(realm.limits, name, value)
        return limits_of(realm)

    @router.get("/realms/{realm_id}/stats", summary="Requests seen for the company, by path and status")
    async def stats(realm_id: str) -> dict[str, Any]:
        realm = realm_or_404(realm_id)
        return {
            "realm_id": realm_id,
            **state.stats.snapshot(realm_id),
            "minor_versions": dict(realm.minor_versions),
        }

    @router.delete("/realms/{realm_id}/stats", status_code=204, summary="Reset the request counters")
    async def reset_stats(realm_id: str) -> Response:
        realm_or_404(realm_id)
        state.stats.reset(realm_id)
        realm_or_404(realm_id).minor_versions.clear()
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

    # -- invoices for benchmarks ------------------------------------------------------------------

    @router.post("/realms/{realm_id}/invoices/bulk", status_code=201, summary="Add many invoices (some paid)")
    async def bulk_invoices(realm_id: str, spec: BulkInvoices) -> dict[str, Any]:
        realm = realm_or_404(realm_id)
        if not any(row.active for row in realm.customers.in_id_order()):
            raise HTTPException(409, "the company has no active customers to invoice")
        made = add_invoices(
            realm,
            spec.count,
            spec.seed,
            state.clock.now(),
            spec.days,
            spec.paid_share,
            spec.partly_paid_share,
        )
        return {
            "created": {name: len(ids) for name, ids in made.items()},
            "first_invoice_id": str(made["Invoice"][0]) if made["Invoice"] else None,
            "last_invoice_id": str(made["Invoice"][-1]) if made["Invoice"] else None,
            "total_invoices": len(realm.invoices),
        }

    # -- acting as a QuickBooks user (any entity) --------------------------------------------------

    @router.post("/realms/{realm_id}/entities/{entity}", summary="Create an object as a QuickBooks user")
    async def create_as_user(realm_id: str, entity: str, spec: Create) -> Response:
        realm, name = realm_or_404(realm_id), entity_or_404(entity).name
        row = realm.create(name, spec.body, state.clock.now(), spec.editor)
        return json_response(entity_body(state, name, row), 201)

    @router.post("/realms/{realm_id}/entities/{entity}/touch", summary="Edit random objects now (for CDC)")
    async def touch(realm_id: str, entity: str, spec: Touch) -> dict[str, Any]:
        realm, name = realm_or_404(realm_id), entity_or_404(entity).name
        rng = random.Random(f"touch:{realm_id}:{name}:{spec.seed}")  # noqa: S311 - fake data, not secrets
        rows = [row for row in realm.table(name).in_id_order() if row.active and not _voided(row)]
        chosen = rng.sample(rows, min(len(rows), spec.count))
        now = state.clock.now()
        stamp = datetime.fromtimestamp(now, state.zone).strftime("%Y-%m-%d %H:%M")
        for row in chosen:
            realm.edit(
                name, row.id, {NOTE_FIELD[name]: f"Reviewed by {spec.editor} {stamp}."}, now, spec.editor
            )
        return {"entity": name, "touched": [str(row.id) for row in chosen]}

    @router.post("/realms/{realm_id}/entities/{entity}/{entity_id}/edit", summary="Edit one object as a user")
    async def edit(realm_id: str, entity: str, entity_id: str, spec: Edit) -> Response:
        realm, name = realm_or_404(realm_id), entity_or_404(entity).name
        row = realm.edit(name, entity_id, spec.changes, state.clock.now(), spec.editor)
        return json_response(entity_body(state, name, row))

    @router.post(
        "/realms/{realm_id}/entities/{entity}/{entity_id}/void", summary="Void an invoice or payment"
    )
    async def void(realm_id: str, entity: str, entity_id: str, spec: AsUser | None = None) -> Response:
        realm, name = realm_or_404(realm_id), entity_or_404(entity).name
        if SPECS[name].void is None:
            raise HTTPException(409, f"{name} cannot be voided")
        editor = spec.editor if spec else QUICKBOOKS_USER
        row = realm.void(name, realm.token_body(name, entity_id), state.clock.now(), editor)
        return json_response(entity_body(state, name, row))

    @router.post("/realms/{realm_id}/entities/{entity}/{entity_id}/delete", summary="Delete a transaction")
    async def delete(realm_id: str, entity: str, entity_id: str, spec: AsUser | None = None) -> Response:
        realm, name = realm_or_404(realm_id), entity_or_404(entity).name
        editor = spec.editor if spec else QUICKBOOKS_USER
        tombstone = realm.delete(name, realm.token_body(name, entity_id), state.clock.now(), editor)
        return json_response(deleted_body(state, name, tombstone.id))

    # -- webhooks -----------------------------------------------------------------------------------

    @router.post(
        "/realms/{realm_id}/webhooks", status_code=201, summary="Subscribe an endpoint to data changes"
    )
    async def subscribe(realm_id: str, spec: NewSubscription) -> dict[str, Any]:
        realm_or_404(realm_id)
        entities = [entity_or_404(n, writable=False).name for n in spec.entities] if spec.entities else None
        subscription = state.webhooks.subscribe(
            realm_id, str(spec.url), spec.verifier_token, entities, spec.format
        )
        return subscription.describe()

    @router.get("/realms/{realm_id}/webhooks", summary="The company's webhook subscriptions")
    async def subscriptions(realm_id: str) -> dict[str, Any]:
        realm_or_404(realm_id)
        return {"subscriptions": state.webhooks.subscriptions(realm_id)}

    @router.delete("/realms/{realm_id}/webhooks/{subscription_id}", status_code=204, summary="Unsubscribe")
    async def unsubscribe(realm_id: str, subscription_id: str) -> Response:
        realm_or_404(realm_id)
        if not state.webhooks.unsubscribe(realm_id, subscription_id):
            raise HTTPException(404, f"no webhook subscription {subscription_id}")
        return Response(status_code=204)

    @router.get("/realms/{realm_id}/webhooks/deliveries", summary="Recent delivery attempts, oldest first")
    async def deliveries(realm_id: str) -> dict[str, Any]:
        realm_or_404(realm_id)
        return {"deliveries": state.webhooks.deliveries(realm_id)}

    return router


def _voided(row: Any) -> bool:
    return row.entity.get("PrivateNote") == "Voided" and row.entity.get("TotalAmt") == 0
