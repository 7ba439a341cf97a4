"""The QBO Accounting API v3 data endpoints: query, Customer read/create/update, change data capture.

Paths match Intuit's, so a client's base URL ``http://HOST:PORT/quickbooks/v3`` stands in for
``https://quickbooks.api.intuit.com/v3``. ``minorversion`` is accepted and ignored.
"""

import json
from typing import Any

from fastapi import APIRouter, Request, Response

from connectors.sandbox.quickbooks import errors
from connectors.sandbox.quickbooks.query_engine import OTHER_QBO_ENTITIES, run_query
from connectors.sandbox.quickbooks.query_language import QuerySyntaxError, parse_query
from connectors.sandbox.quickbooks.realm import Realm
from connectors.sandbox.quickbooks.responses import (
    cdc_body,
    count_body,
    entity_body,
    json_response,
    query_body,
)
from connectors.sandbox.quickbooks.state import QuickBooksState
from connectors.sandbox.quickbooks.timefmt import parse_timestamp
from connectors.sandbox.quickbooks.tokens import AccessDenied

CDC_MAX_OBJECTS = 1000  # "Server responses can handle a maximum of 1,000 objects" (CDC guide)


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def data_router(state: QuickBooksState) -> APIRouter:
    router = APIRouter(prefix="/v3/company/{realm_id}", tags=["QBO data API"])

    def authorized_realm(request: Request, realm_id: str) -> Realm:
        token = _bearer_token(request)
        if token is None:
            raise errors.authentication_failed("Authorization header is missing or is not a Bearer token")
        try:
            claims = state.tokens.verify_access(token)
        except AccessDenied as denied:
            raise errors.authentication_failed(str(denied)) from denied
        if claims.realm != realm_id:
            raise errors.authorization_failed()
        return state.realms[realm_id]

    @router.get("/query", summary="Run a QBO query statement")
    @router.post("/query", summary="Run a QBO query statement (the statement may be the body)")
    async def query(realm_id: str, request: Request) -> Response:
        realm = authorized_realm(request, realm_id)
        text = request.query_params.get("query")
        if not text and request.method == "POST":
            # python-quickbooks POSTs the statement as the body (Content-Type: application/text).
            text = (await request.body()).decode("utf-8", "replace")
        if not text or not text.strip():
            raise errors.query_parser_error(
                'Encountered "<EOF>" at line 1, column 1. Was expecting: "SELECT"'
            )
        try:
            parsed = parse_query(text)
        except QuerySyntaxError as exc:
            raise errors.query_parser_error(str(exc)) from exc
        page = run_query(parsed, realm.customers, state.zone)
        if parsed.count_only:
            return json_response(count_body(state, page.total))
        return json_response(query_body(state, page.rows, page.start_position))

    @router.get("/customer/{customer_id}", summary="Read a customer")
    async def read_customer(realm_id: str, customer_id: str, request: Request) -> Response:
        realm = authorized_realm(request, realm_id)
        row = realm.customers.get(int(customer_id)) if customer_id.isdigit() else None
        if row is None:
            raise errors.object_not_found("Customer", customer_id)
        return json_response(entity_body(state, row))

    @router.post("/customer", summary="Create a customer, or update one (body with Id and SyncToken)")
    async def write_customer(realm_id: str, request: Request) -> Response:
        realm = authorized_realm(request, realm_id)
        operation = request.query_params.get("operation", "").lower()
        if operation == "delete":
            raise errors.unsupported_operation(
                "Operation Delete is not supported for Customer; set Active to false"
            )
        request_id = request.query_params.get("requestid")
        if request_id and (earlier := realm.recall_response(request_id)):
            return json_response(earlier[1], earlier[0])
        body = _json_object(await request.body())
        if body.get("Id") not in (None, ""):
            row = realm.update_customer(body, state.clock.now())
        elif operation == "update":
            raise errors.required_param_missing("Id")
        else:
            row = realm.create_customer(body, state.clock.now())
        payload = entity_body(state, row)
        if request_id:
            realm.remember_response(request_id, 200, payload)
        return json_response(payload)

    @router.get("/cdc", summary="Change data capture: entities changed since a time")
    async def change_data_capture(realm_id: str, request: Request) -> Response:
        realm = authorized_realm(request, realm_id)
        entities_param = request.query_params.get("entities")
        changed_since = request.query_params.get("changedSince")
        if not entities_param:
            raise errors.required_param_missing("entities")
        if not changed_since:
            raise errors.required_param_missing("changedSince")
        entities = [name.strip() for name in entities_param.split(",") if name.strip()]
        for name in entities:
            if name in OTHER_QBO_ENTITIES:
                raise errors.invalid_value(
                    f"CDC for {name} is not emulated by the firmsync sandbox (only Customer)"
                )
            if name != "Customer":
                raise errors.invalid_value(f"Invalid entity name in entities: {name}")
        try:
            since = parse_timestamp(changed_since, state.zone)
        except ValueError as exc:
            raise errors.invalid_value(f"changedSince is not a valid date-time: {changed_since}") from exc
        lookback_days = state.settings.qbo_cdc_lookback_days
        if since < state.clock.now() - lookback_days * 86_400:
            raise errors.invalid_value(
                f"changedSince must be within the last {lookback_days} days: {changed_since}"
            )
        changed = realm.customers.updated_between(since, True, None, False)[:CDC_MAX_OBJECTS]
        return json_response(cdc_body(state, {"Customer": changed}))

    @router.api_route("/{rest:path}", methods=["GET", "POST"], include_in_schema=False)
    async def not_emulated(realm_id: str, rest: str, request: Request) -> Response:
        authorized_realm(request, realm_id)
        raise errors.unsupported_operation(
            f"Operation {request.method} /v3/company/{realm_id}/{rest} is not emulated by this sandbox"
        )

    return router


def _json_object(raw: bytes) -> dict[str, Any]:
    try:
        body = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.invalid_property(f"request body is not valid JSON ({exc})") from exc
    if not isinstance(body, dict):
        raise errors.invalid_property("request body must be a JSON object")
    return body
