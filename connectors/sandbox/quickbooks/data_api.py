"""The QBO Accounting API v3 data endpoints: query, read / create / update / void / delete of the emulated
entities (see entities.py), and change data capture.

Paths match Intuit's, so a client's base URL ``http://HOST:PORT/quickbooks/v3`` stands in for
``https://quickbooks.api.intuit.com/v3``:

- ``GET|POST /v3/company/{realm}/query``; ``GET /v3/company/{realm}/cdc?entities=…&changedSince=…``
- ``GET /v3/company/{realm}/{resource}/{id}`` (resource: customer, invoice, payment, creditmemo, item,
  account, taxcode)
- ``POST /v3/company/{realm}/{resource}``: create (no Id), update (Id + current SyncToken; ``"sparse": true``
  merges), ``?operation=delete`` (transactions), ``?operation=void`` (Invoice),
  ``?operation=update&include=void`` (Payment); ``?requestid=`` makes a write idempotent.

``minorversion``: since August 2025 Intuit serves minor version 75 to every request, whatever (lower)
number it names or none; this sandbox serves the v75 shapes alike and only counts what was asked for.
"""

import json
from typing import Any

from fastapi import APIRouter, Request, Response

from connectors.sandbox.quickbooks import errors
from connectors.sandbox.quickbooks.entities import BY_RESOURCE, OTHER_QBO_ENTITIES, SPECS, EntitySpec
from connectors.sandbox.quickbooks.query_engine import run_query
from connectors.sandbox.quickbooks.query_language import QuerySyntaxError, parse_query
from connectors.sandbox.quickbooks.realm import Realm
from connectors.sandbox.quickbooks.responses import (
    Change,
    cdc_body,
    count_body,
    deleted_body,
    entity_body,
    json_response,
    query_body,
)
from connectors.sandbox.quickbooks.state import QuickBooksState
from connectors.sandbox.quickbooks.timefmt import parse_timestamp
from connectors.sandbox.quickbooks.tokens import AccessDenied

CDC_MAX_OBJECTS = 1000  # "Server responses can handle a maximum of 1,000 objects" (CDC guide)
MINIMUM_MINOR_VERSION = 75  # "minor versions 1-74 ... will be ignored" (Intuit blog, 2025-01-21)


def _bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def effective_minor_version(raw: str | None) -> int:
    """The minor version a request is served with: 75 when it names none, a lower one, or garbage."""
    return max(int(raw), MINIMUM_MINOR_VERSION) if raw and raw.strip().isdigit() else MINIMUM_MINOR_VERSION


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
        realm = state.realms[realm_id]
        realm.minor_versions[str(effective_minor_version(request.query_params.get("minorversion")))] += 1
        return realm

    def emulated(request: Request, realm_id: str, resource: str) -> EntitySpec:
        spec = BY_RESOURCE.get(resource)
        if spec is None:
            path = f"/v3/company/{realm_id}/{resource}"
            raise errors.unsupported_operation(
                f"Operation {request.method} {path} is not emulated by this sandbox"
            )
        return spec

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
        page = run_query(parsed, realm.table, state.zone)
        if parsed.count_only:
            return json_response(count_body(state, page.total))
        return json_response(query_body(state, parsed.entity, page.rows, page.start_position))

    @router.get("/cdc", summary="Change data capture: entities changed since a time")
    async def change_data_capture(realm_id: str, request: Request) -> Response:
        realm = authorized_realm(request, realm_id)
        entities_param = request.query_params.get("entities")
        changed_since = request.query_params.get("changedSince")
        if not entities_param:
            raise errors.required_param_missing("entities")
        if not changed_since:
            raise errors.required_param_missing("changedSince")
        entities = list(dict.fromkeys(name.strip() for name in entities_param.split(",") if name.strip()))
        for name in entities:
            if name in OTHER_QBO_ENTITIES:
                raise errors.invalid_value(f"CDC for {name} is not emulated by the firmsync sandbox")
            if name not in SPECS:
                raise errors.invalid_value(f"Invalid entity name in entities: {name}")
            if not SPECS[name].cdc:
                raise errors.invalid_value(f"Change data capture is not supported for {name}")
        try:
            since = parse_timestamp(changed_since, state.zone)
        except ValueError as exc:
            raise errors.invalid_value(f"changedSince is not a valid date-time: {changed_since}") from exc
        lookback_days = state.settings.qbo_cdc_lookback_days
        if since < state.clock.now() - lookback_days * 86_400:
            raise errors.invalid_value(
                f"changedSince must be within the last {lookback_days} days: {changed_since}"
            )
        # Oldest changes first across all the entities asked for, up to the response cap.
        found: list[tuple[int, int, Change]] = []
        for order, name in enumerate(entities):
            table = realm.table(name)
            found += [(row.updated, order, row) for row in table.updated_between(since, True, None, False)]
            found += [(tomb.updated, order, tomb) for tomb in table.deleted_since(since)]
        found.sort(key=lambda change: (change[0], change[1], str(change[2].id)))
        changes: dict[str, list[Change]] = {name: [] for name in entities}
        for _, order, change in found[:CDC_MAX_OBJECTS]:
            changes[entities[order]].append(change)
        return json_response(cdc_body(state, changes))

    @router.get("/{resource}/{entity_id}", summary="Read one object by Id")
    async def read(realm_id: str, resource: str, entity_id: str, request: Request) -> Response:
        realm = authorized_realm(request, realm_id)
        spec = emulated(request, realm_id, resource)
        return json_response(entity_body(state, spec.name, realm.current(spec.name, entity_id)))

    @router.post("/{resource}", summary="Create, update, void or delete an object")
    async def write(realm_id: str, resource: str, request: Request) -> Response:
        realm = authorized_realm(request, realm_id)
        spec = emulated(request, realm_id, resource)
        if not spec.writable:
            raise errors.unsupported_operation(f"Operation Create/Update is not supported for {spec.name}")
        request_id = request.query_params.get("requestid")
        if request_id and (earlier := realm.recall_response(request_id)):
            return json_response(earlier[1], earlier[0])
        body = _json_object(await request.body())
        payload = _write(realm, spec, request, body, state.clock.now())
        if request_id:
            realm.remember_response(request_id, 200, payload)
        return json_response(payload)

    def _write(realm: Realm, spec: EntitySpec, request: Request, body: dict[str, Any], now: float) -> bytes:
        operation = request.query_params.get("operation", "").lower()
        voiding = request.query_params.get("include", "").lower() == "void"
        if operation == "delete":
            tombstone = realm.delete(spec.name, body, now)
            return deleted_body(state, spec.name, tombstone.id)
        if (operation == "void" and spec.void == "operation") or (
            voiding and operation in ("", "update") and spec.void == "include"
        ):
            return entity_body(state, spec.name, realm.void(spec.name, body, now))
        if operation == "void" or voiding:
            raise errors.unsupported_operation(f"Operation Void is not supported for {spec.name}")
        if operation not in ("", "create", "update"):
            raise errors.unsupported_operation(f"Operation {operation} is not supported for {spec.name}")
        if body.get("Id") not in (None, ""):
            return entity_body(state, spec.name, realm.update(spec.name, body, now))
        if operation == "update":
            raise errors.required_param_missing("Id")
        return entity_body(state, spec.name, realm.create(spec.name, body, now))

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
