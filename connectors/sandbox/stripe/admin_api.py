"""Sandbox-only admin API under ``/stripe/_sandbox`` (not Stripe): accounts and their keys, seeded
history, what an account's owner does (customers, payments, refunds, paid invoices: each recording
Stripe's events and delivering them as webhooks), limits, counters, webhook endpoints and faults."""

from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field, HttpUrl

from connectors.sandbox.common.admin import fault_router
from connectors.sandbox.stripe import book, seed
from connectors.sandbox.stripe.account import Account
from connectors.sandbox.stripe.state import StripeState

MAX_SEED = 200_000
_CURRENCY = r"^[a-z]{3}$"


class NewAccount(BaseModel):
    name: str | None = None
    customers: int = Field(0, ge=0, le=MAX_SEED)
    payments: int = Field(0, ge=0, le=MAX_SEED)
    refund_share: float = Field(
        0.1, ge=0, le=1, description="share of seeded payments refunded (half partly)"
    )
    currency: str = Field("usd", pattern=_CURRENCY)
    seed: int = 0
    anchor: datetime | None = Field(None, description="seeded history ends here; default: now")
    spread_days: float = Field(90, ge=0, le=3650, description="seeded `created` times spread over this span")


class Limits(BaseModel):
    read_per_second: int | None = Field(None, ge=1, le=100_000)
    write_per_second: int | None = Field(None, ge=1, le=100_000)


class NewCustomer(BaseModel):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    description: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    created: int | None = Field(None, description="Unix seconds; default: now")


class CustomerChanges(BaseModel):
    name: str | None = None
    email: str | None = None
    phone: str | None = None
    description: str | None = None
    metadata: dict[str, str] | None = None


class NewPayment(BaseModel):
    amount: int = Field(..., ge=1, description="minor units (cents; yen for JPY, a zero-decimal currency)")
    currency: str = Field("usd", pattern=_CURRENCY)
    customer: str | None = None
    description: str | None = None
    metadata: dict[str, str] = Field(default_factory=dict)
    created: int | None = None


class NewRefund(BaseModel):
    charge: str
    amount: int | None = Field(None, ge=1, description="default: all that is left to refund")
    reason: str | None = Field(None, pattern=r"^(duplicate|fraudulent|requested_by_customer)$")
    created: int | None = None


class PaidInvoice(BaseModel):
    customer: str
    amount: int = Field(..., ge=1)
    currency: str = Field("usd", pattern=_CURRENCY)


class NewWebhookEndpoint(BaseModel):
    url: HttpUrl
    enabled_events: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    secret: str | None = Field(None, pattern=r"^whsec_\S+$", description="default: a new random secret")


def admin_router(state: StripeState) -> APIRouter:
    router = APIRouter(tags=["sandbox admin (not Stripe)"])
    router.include_router(fault_router(state.faults))

    def account_or_404(account_id: str) -> Account:
        account = state.accounts.get(account_id)
        if account is None:
            raise HTTPException(404, f"no sandbox account {account_id}")
        return account

    def describe(account: Account) -> dict[str, Any]:
        return {
            "account_id": account.account_id,
            "name": account.name,
            "secret_key": account.secret_key,
            "demo": account.account_id == state.settings.stripe_demo_account_id,
            "counts": seed.counts(account),
            "limits": vars(account.limits),
        }

    def when(created: int | None) -> int:
        return created if created is not None else state.now()

    @router.post("/accounts", status_code=201, summary="Create an account (seeded) and its secret key")
    async def create_account(spec: NewAccount) -> dict[str, Any]:
        account = state.add_account(spec.name or f"Sandbox Account {len(state.accounts)}")
        anchor = spec.anchor.timestamp() if spec.anchor else state.clock.now()
        seed.seed_account(
            account,
            seed.SeedSpec(
                spec.customers,
                spec.payments,
                spec.refund_share,
                spec.currency,
                spec.seed,
                anchor,
                spec.spread_days,
            ),
        )
        return describe(account)

    @router.get("/accounts", summary="Accounts in this sandbox")
    async def list_accounts() -> dict[str, Any]:
        return {"accounts": [describe(a) for a in state.accounts.values()]}

    @router.get("/accounts/{account_id}", summary="One account: key, counts, limits")
    async def get_account(account_id: str) -> dict[str, Any]:
        return describe(account_or_404(account_id))

    @router.delete("/accounts/{account_id}", status_code=204, summary="Forget an account (not the demo one)")
    async def delete_account(account_id: str) -> Response:
        account = account_or_404(account_id)
        if account.account_id == state.settings.stripe_demo_account_id:
            raise HTTPException(409, "the demo account cannot be deleted")
        state.remove_account(account.account_id)
        return Response(status_code=204)

    @router.post("/accounts/{account_id}/roll_key", summary="Roll the secret key (the old one expires now)")
    async def roll_key(account_id: str) -> dict[str, Any]:
        return {"account_id": account_id, "secret_key": state.roll_key(account_or_404(account_id))}

    @router.get("/accounts/{account_id}/limits", summary="Requests per second the account may make")
    async def get_limits(account_id: str) -> dict[str, Any]:
        return vars(account_or_404(account_id).limits)

    @router.put("/accounts/{account_id}/limits", summary="Change the account's rate limits")
    async def put_limits(account_id: str, limits: Limits) -> dict[str, Any]:
        account = account_or_404(account_id)
        for name, value in limits.model_dump(exclude_none=True).items():
            setattr(account.limits, name, value)
        return vars(account.limits)

    @router.get("/accounts/{account_id}/stats", summary="Requests by path and status; 429s")
    async def stats(account_id: str) -> dict[str, Any]:
        account = account_or_404(account_id)
        return {
            "account_id": account.account_id,
            **state.stats.snapshot(account.account_id),
            "throttled": state.throttled.get(account.account_id, 0),
        }

    @router.delete("/accounts/{account_id}/stats", status_code=204, summary="Reset the counters")
    async def reset_stats(account_id: str) -> Response:
        account = account_or_404(account_id)
        state.stats.reset(account.account_id)
        state.throttled.pop(account.account_id, None)
        return Response(status_code=204)

    @router.post("/accounts/{account_id}/customers", status_code=201, summary="Create a customer")
    async def create_customer(account_id: str, spec: NewCustomer) -> dict[str, Any]:
        fields = spec.model_dump(exclude={"created"})
        return book.add_customer(account_or_404(account_id), when(spec.created), **fields)

    @router.post("/accounts/{account_id}/customers/{customer_id}", summary="Update a customer")
    async def update_customer(account_id: str, customer_id: str, changes: CustomerChanges) -> dict[str, Any]:
        account = account_or_404(account_id)
        return book.update_customer(account, customer_id, changes.model_dump(exclude_unset=True), state.now())

    @router.post("/accounts/{account_id}/payments", status_code=201, summary="A card payment that succeeds")
    async def create_payment(account_id: str, spec: NewPayment) -> dict[str, Any]:
        intent, charge = book.pay(
            account_or_404(account_id),
            when(spec.created),
            amount=spec.amount,
            currency=spec.currency,
            customer_id=spec.customer,
            description=spec.description,
            metadata=spec.metadata,
        )
        return {"payment_intent": intent, "charge": charge}

    @router.post(
        "/accounts/{account_id}/refunds", status_code=201, summary="Refund a charge (fully or partly)"
    )
    async def create_refund(account_id: str, spec: NewRefund) -> dict[str, Any]:
        return book.refund(
            account_or_404(account_id),
            spec.charge,
            when(spec.created),
            amount=spec.amount,
            reason=spec.reason,
        )

    @router.post(
        "/accounts/{account_id}/invoices/paid", status_code=201, summary="An invoice is paid (events only)"
    )
    async def invoice_paid(account_id: str, spec: PaidInvoice) -> dict[str, Any]:
        return book.invoice_paid(
            account_or_404(account_id), spec.customer, state.now(), amount=spec.amount, currency=spec.currency
        )

    @router.post(
        "/accounts/{account_id}/webhook_endpoints", status_code=201, summary="Add a webhook endpoint"
    )
    async def add_endpoint(account_id: str, spec: NewWebhookEndpoint) -> dict[str, Any]:
        endpoint = state.webhooks.add(
            account_or_404(account_id), str(spec.url), spec.enabled_events, spec.secret
        )
        return endpoint.describe()

    def endpoint_or_404(endpoint_id: str) -> dict[str, Any]:
        endpoint = state.webhooks.endpoints.get(endpoint_id)
        if endpoint is None:
            raise HTTPException(404, f"no webhook endpoint {endpoint_id}")
        return endpoint.describe()

    @router.get("/webhook_endpoints/{endpoint_id}", summary="An endpoint: queue and delivery log")
    async def get_endpoint(endpoint_id: str) -> dict[str, Any]:
        return endpoint_or_404(endpoint_id)

    @router.delete("/webhook_endpoints/{endpoint_id}", status_code=204, summary="Remove an endpoint")
    async def delete_endpoint(endpoint_id: str) -> Response:
        endpoint_or_404(endpoint_id)
        state.webhooks.remove(endpoint_id)
        return Response(status_code=204)

    return router
