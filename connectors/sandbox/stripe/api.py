"""The Stripe API v1 resources the sandbox serves (docs.stripe.com/api): list and retrieve customers,
charges, payment intents, refunds and events, and delete customers.

Parameters are checked as Stripe checks them: an unknown one is a 400 `Received unknown parameter`.
Array parameters arrive as `types[]=a` or, as the official SDKs send them, `types[0]=a`. `expand` is not
served (the connector reads ids, never expanded objects) and is refused with a 400 that says so.
"""

import re
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request

from connectors.sandbox.stripe import book, errors, listing, objects
from connectors.sandbox.stripe.account import OBJECT_KIND, Account
from connectors.sandbox.stripe.gateway import ACCOUNT_SCOPE_KEY
from connectors.sandbox.stripe.state import StripeState

DAY = 86_400
PAGING = frozenset(
    {
        "limit",
        "starting_after",
        "ending_before",
        "created",
        *(f"created[{op}]" for op in ("gt", "gte", "lt", "lte")),
    }
)
_ARRAY_KEY = re.compile(r"^(?P<name>[a-z_]+)\[\d*\]$")


def _params(
    request: Request, allowed: frozenset[str], arrays: frozenset[str] = frozenset()
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, value in request.query_params.multi_items():
        array = _ARRAY_KEY.match(name)
        if array and array["name"] == "expand":
            raise errors.invalid("The sandbox does not serve expanded objects.", "expand")
        if array and array["name"] in arrays:
            params.setdefault(array["name"], []).append(value)
        elif name in allowed:
            params[name] = value
        else:
            raise errors.invalid(f"Received unknown parameter: {name}", name)
    return params


def _account(request: Request) -> Account:
    return request.scope[ACCOUNT_SCOPE_KEY]


def data_router(state: StripeState) -> APIRouter:
    router = APIRouter(prefix="/v1", tags=["Stripe API v1"])

    def retained(account: Account) -> Callable[[dict[str, Any]], bool]:
        oldest = state.now() - state.settings.stripe_event_retention_days * DAY
        return lambda event: event["created"] >= oldest

    def lister(resource: str, filters: dict[str, str]) -> Callable[..., Any]:
        allowed = PAGING | frozenset(filters)

        async def list_objects(request: Request) -> dict[str, Any]:
            account = _account(request)
            params = _params(request, allowed)
            wanted = {field: params[name] for name, field in filters.items() if name in params}

            def keep(row: dict[str, Any]) -> bool:
                return all(row.get(field) == value for field, value in wanted.items())

            return listing.page(
                account.table(resource), params, url=f"/v1/{resource}", kind=OBJECT_KIND[resource], keep=keep
            )

        return list_objects

    def retriever(resource: str) -> Callable[..., Any]:
        async def retrieve(object_id: str, request: Request) -> dict[str, Any]:
            account = _account(request)
            _params(request, frozenset())
            row = account.get(resource, object_id)
            if row is None:
                if resource == "customers" and object_id in account.deleted_customers:
                    return objects.deleted_customer(object_id)
                raise errors.no_such(OBJECT_KIND[resource], object_id)
            return row

        return retrieve

    for resource, filters in (
        ("customers", {"email": "email"}),
        ("charges", {"customer": "customer", "payment_intent": "payment_intent"}),
        ("payment_intents", {"customer": "customer"}),
        ("refunds", {"charge": "charge", "payment_intent": "payment_intent"}),
    ):
        kind = OBJECT_KIND[resource]
        router.add_api_route(
            f"/{resource}", lister(resource, filters), methods=["GET"], summary=f"List all {resource}"
        )
        router.add_api_route(
            f"/{resource}/{{object_id}}", retriever(resource), methods=["GET"], summary=f"Retrieve a {kind}"
        )

    @router.delete("/customers/{customer_id}", summary="Delete a customer")
    async def delete_customer(customer_id: str, request: Request) -> dict[str, Any]:
        _params(request, frozenset())
        return book.delete_customer(_account(request), customer_id, state.now())

    @router.get("/events", summary="List all events (the last 30 days)")
    async def list_events(request: Request) -> dict[str, Any]:
        account = _account(request)
        params = _params(request, PAGING | {"type"}, frozenset({"types"}))
        if "type" in params and "types" in params:
            raise errors.invalid("You may only specify one of these parameters: type, types.")
        types = set(params.get("types") or ([params["type"]] if "type" in params else []))
        in_window = retained(account)

        def keep(event: dict[str, Any]) -> bool:
            return in_window(event) and (not types or _type_matches(event["type"], types))

        return listing.page(account.table("events"), params, url="/v1/events", kind="event", keep=keep)

    @router.get("/events/{event_id}", summary="Retrieve an event (the last 30 days)")
    async def retrieve_event(event_id: str, request: Request) -> dict[str, Any]:
        account = _account(request)
        _params(request, frozenset())
        event = account.get("events", event_id)
        if event is None or not retained(account)(event):
            raise errors.no_such("event", event_id)
        return event

    @router.api_route(
        "/{rest:path}", methods=["GET", "POST", "DELETE"], include_in_schema=False, summary="Unknown URL"
    )
    async def unknown(rest: str, request: Request) -> None:
        raise errors.unrecognized_url(request.method, f"/v1/{rest}")

    return router


def _type_matches(event_type: str, wanted: set[str]) -> bool:
    """Stripe's `type` filter takes exact types or `*` wildcards such as `customer.*`."""
    return any(
        event_type == pattern or (pattern.endswith("*") and event_type.startswith(pattern[:-1]))
        for pattern in wanted
    )
