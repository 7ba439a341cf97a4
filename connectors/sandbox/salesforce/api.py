"""The REST API resources the sandbox serves, under ``/services/data/vXX.X`` (REST API Developer Guide):

- ``GET /`` (versions list at ``/services/data/``) and ``GET /limits`` (``DailyApiRequests``)
- ``GET /query?q=SOQL`` and ``GET /query/{locator}-{position}`` (Query More Results): batches of 2,000
  records, or ``Sforce-Query-Options: batchSize=n`` (200-2,000), ``done``, ``totalSize``, ``nextRecordsUrl``
- ``GET /sobjects/{type}/{id}`` (``?fields=``), ``PATCH``/``DELETE`` on it, ``POST /sobjects/{type}``
- ``PATCH /sobjects/{type}/{externalIdField}/{value}``: upsert — 201 created; updated: 200 with
  ``created: false`` from v46.0, 204 before; 300 with the matching records' URLs when the value is not unique
- ``GET /sobjects/{type}/deleted/?start=&end=``: getDeleted (``deletedRecords``, ``earliestDateAvailable``,
  ``latestDateCovered``); seconds are ignored, the log keeps 15 days, a start older than 30 days is
  INVALID_REPLICATION_DATE

Every request needs ``Authorization: Bearer <access token>`` (401 INVALID_SESSION_ID otherwise, or when the
session timed out), counts against the org's rolling 24-hour allocation (403 REQUEST_LIMIT_EXCEEDED once
spent) and answers ``Sforce-Limit-Info: api-usage=used/max``.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from connectors.sandbox.salesforce import errors, soql
from connectors.sandbox.salesforce.schema import EXTERNAL_ID_FIELDS, OBJECTS, parse_datetime, sf_datetime
from connectors.sandbox.salesforce.state import DAY, REPLICATION_WINDOW_DAYS, Org, SalesforceState

MAX_BATCH = 2000
MIN_BATCH = 200
ORG_SCOPE_KEY = "salesforce.org"


def _header(request: Request, name: str) -> str:
    return request.headers.get(name, "")


def authorize(state: SalesforceState, request: Request) -> Org:
    """The caller's org, with the call counted (raises INVALID_SESSION_ID / REQUEST_LIMIT_EXCEEDED)."""
    scheme, _, token = _header(request, "authorization").partition(" ")
    hinted = state.orgs.get(state.org_hint(token.strip()) or "")
    if hinted is not None and hinted.expire_sessions_after_calls is not None:
        if hinted.expire_sessions_after_calls <= 0:
            hinted.access_tokens_expired_at = state.clock.now()
            hinted.expire_sessions_after_calls = None
        else:
            hinted.expire_sessions_after_calls -= 1
    org = state.org_of_access(token.strip()) if scheme.lower() in ("bearer", "oauth") else None
    if org is None:
        raise errors.invalid_session()
    request.scope[ORG_SCOPE_KEY] = org
    state.count_call(org)
    return org


def _answer(state: SalesforceState, org: Org, body: Any, status: int = 200) -> Response:
    headers = {"Sforce-Limit-Info": state.limit_info(org)}
    if body is None:
        return Response(status_code=status, headers=headers)
    return JSONResponse(body, status_code=status, headers=headers)


def _sobject(name: str) -> str:
    for known in OBJECTS:
        if known.lower() == name.lower():
            return known
    raise errors.invalid_type(name)


def _attributes(version: str, sobject: str, record_id: str) -> dict[str, str]:
    return {"type": sobject, "url": f"/services/data/v{version}/sobjects/{sobject}/{record_id}"}


def _shape(version: str, sobject: str, record: dict, fields: list[str] | None = None) -> dict:
    names = fields or list(OBJECTS[sobject])
    return {"attributes": _attributes(version, sobject, record["Id"]), **{f: record.get(f) for f in names}}


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError:
        raise errors.SalesforceError(400, "JSON_PARSER_ERROR", "Unexpected character in the body") from None
    if not isinstance(body, dict):
        raise errors.SalesforceError(400, "JSON_PARSER_ERROR", "Can not deserialize SObject out of the body")
    body.pop("attributes", None)
    return body


def _batch_size(request: Request) -> int:
    options = _header(request, "sforce-query-options")
    for part in options.split(","):
        key, _, value = part.strip().partition("=")
        if key.strip().lower() == "batchsize" and value.strip().isdigit():
            return max(MIN_BATCH, min(MAX_BATCH, int(value)))
    return MAX_BATCH


def _minute(epoch: float) -> float:
    return epoch - epoch % 60  # getDeleted ignores seconds


def api_router(state: SalesforceState) -> APIRouter:
    router = APIRouter(prefix="/services/data", tags=["Salesforce REST API"])

    @router.get("/", summary="Versions")
    async def versions() -> list[dict[str, str]]:
        return [
            {"label": f"Release {v}", "url": f"/services/data/v{v}", "version": v}
            for v in ("57.0", "58.0", "59.0", "60.0", "61.0", "62.0")
        ]

    @router.get("/v{version}/limits/", include_in_schema=False)
    @router.get("/v{version}/limits", summary="Org limits")
    async def limits(version: str, request: Request) -> Response:
        org = authorize(state, request)
        used = state.api_usage(org)
        return _answer(
            state,
            org,
            {"DailyApiRequests": {"Max": org.daily_api_requests, "Remaining": org.daily_api_requests - used}},
        )

    def _page(
        org: Org,
        version: str,
        locator_id: str | None,
        records: list[dict],
        start: int,
        batch: int,
        total: int,
    ):
        end = min(start + batch, len(records))
        body: dict[str, Any] = {
            "totalSize": total,
            "done": end >= len(records),
            "records": records[start:end],
        }
        if end < len(records):
            locator = locator_id or state.new_locator(records, batch, version)
            state.locators[locator].position = end
            body["nextRecordsUrl"] = f"/services/data/v{version}/query/{locator}-{end}"
        return _answer(state, org, body)

    @router.get("/v{version}/query/", include_in_schema=False)
    @router.get("/v{version}/query", summary="Run a SOQL query")
    async def query(version: str, request: Request) -> Response:
        org = authorize(state, request)
        text = request.query_params.get("q")
        if not text:
            raise errors.malformed_query("query string is missing")
        parsed = soql.parse(text)
        candidates = [r for r in org.records[parsed.sobject].values() if soql.matches(parsed.where, r)]
        ordered = soql.sort(candidates, parsed.order_by)[parsed.offset :]
        if parsed.limit is not None:
            ordered = ordered[: parsed.limit]
        shaped = [_shape(version, parsed.sobject, r, parsed.fields) for r in ordered]
        return _page(org, version, None, shaped, 0, _batch_size(request), len(shaped))

    @router.get("/v{version}/query/{locator}", summary="Query More Results")
    async def query_more(version: str, locator: str, request: Request) -> Response:
        org = authorize(state, request)
        locator_id, _, position = locator.rpartition("-")
        if not locator_id or not position.isdigit():
            raise errors.SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        found = state.locator(locator_id)
        return _page(org, version, locator_id, found.records, int(position), found.batch, len(found.records))

    @router.get("/v{version}/sobjects/{sobject}/deleted/", summary="sObject Get Deleted")
    async def get_deleted(version: str, sobject: str, request: Request) -> Response:
        org = authorize(state, request)
        sobject = _sobject(sobject)
        try:
            start = parse_datetime(unquote(request.query_params["start"]).replace(" ", "+")).timestamp()
            end = parse_datetime(unquote(request.query_params["end"]).replace(" ", "+")).timestamp()
        except (KeyError, ValueError):
            raise errors.SalesforceError(400, "MALFORMED_QUERY", "start and end must be dateTimes") from None
        now = state.clock.now()
        if _minute(start) >= _minute(end):
            raise errors.SalesforceError(
                400, "INVALID_REPLICATION_DATE", "startDate must chronologically precede endDate"
            )
        if start < now - REPLICATION_WINDOW_DAYS * DAY:
            raise errors.SalesforceError(
                400,
                "INVALID_REPLICATION_DATE",
                f"startDate cannot be more than {REPLICATION_WINDOW_DAYS} days ago",
            )
        # Seconds are ignored; an end in the future is covered up to now.
        start, end = _minute(start), max(_minute(start), _minute(min(end, now)))
        deleted = state.deleted_between(org, sobject, start, end)
        return _answer(
            state,
            org,
            {
                "deletedRecords": [{"id": rid, "deletedDate": sf_datetime(at)} for rid, at in deleted],
                "earliestDateAvailable": sf_datetime(_minute(state.earliest_available(org, sobject))),
                "latestDateCovered": sf_datetime(end),
            },
        )

    @router.get("/v{version}/sobjects/{sobject}/{record_id}", summary="sObject Rows: get")
    async def get_record(version: str, sobject: str, record_id: str, request: Request) -> Response:
        org = authorize(state, request)
        sobject = _sobject(sobject)
        record = state.find(org, sobject, record_id)
        if record is None:
            raise errors.not_found()
        fields = request.query_params.get("fields")
        names = [f.strip() for f in fields.split(",")] if fields else None
        if names:
            unknown = [f for f in names if f not in OBJECTS[sobject]]
            if unknown:
                raise errors.invalid_field(f"No such column '{unknown[0]}' on entity '{sobject}'.")
        return _answer(state, org, _shape(version, sobject, record, names))

    @router.post("/v{version}/sobjects/{sobject}/", include_in_schema=False)
    @router.post(
        "/v{version}/sobjects/{sobject}", status_code=201, summary="sObject Basic Information: create"
    )
    async def create(version: str, sobject: str, request: Request) -> Response:
        org = authorize(state, request)
        record = state.write(org, _sobject(sobject), await _json_body(request))
        return _answer(state, org, {"id": record["Id"], "success": True, "errors": []}, 201)

    @router.patch("/v{version}/sobjects/{sobject}/{record_id}", summary="sObject Rows: update")
    async def update(version: str, sobject: str, record_id: str, request: Request) -> Response:
        org = authorize(state, request)
        sobject = _sobject(sobject)
        record = state.find(org, sobject, record_id)
        if record is None:
            raise errors.not_found()
        state.write(org, sobject, await _json_body(request), record["Id"])
        return _answer(state, org, None, 204)

    @router.delete("/v{version}/sobjects/{sobject}/{record_id}", summary="sObject Rows: delete")
    async def delete(version: str, sobject: str, record_id: str, request: Request) -> Response:
        org = authorize(state, request)
        sobject = _sobject(sobject)
        record = state.find(org, sobject, record_id)
        if record is None:
            raise errors.not_found()
        state.delete(org, sobject, record["Id"])
        return _answer(state, org, None, 204)

    @router.get("/v{version}/sobjects/{sobject}/{field}/{value}", summary="sObject Rows by External ID: get")
    async def get_by_external_id(
        version: str, sobject: str, field: str, value: str, request: Request
    ) -> Response:
        org = authorize(state, request)
        sobject = _sobject(sobject)
        found = _external_matches(org, sobject, field, value)
        if not found:
            raise errors.not_found()
        if len(found) > 1:
            return _answer(state, org, [_attributes(version, sobject, r["Id"])["url"] for r in found], 300)
        return _answer(state, org, _shape(version, sobject, found[0]))

    @router.patch(
        "/v{version}/sobjects/{sobject}/{field}/{value}", summary="sObject Rows by External ID: upsert"
    )
    async def upsert(version: str, sobject: str, field: str, value: str, request: Request) -> Response:
        org = authorize(state, request)
        sobject = _sobject(sobject)
        found = _external_matches(org, sobject, field, value)
        body = await _json_body(request)
        if field in body and str(body[field]) != value:
            raise errors.SalesforceError(
                400,
                "INVALID_FIELD",
                f"The external ID field {field} in the body must match the URL",
                fields=[field],
            )
        body.pop(field, None)
        if len(found) > 1:
            return _answer(state, org, [_attributes(version, sobject, r["Id"])["url"] for r in found], 300)
        if not found:
            if request.query_params.get("updateOnly") == "true":
                raise errors.not_found()
            record = state.write(org, sobject, body | ({} if field == "Id" else {field: value}))
            return _answer(
                state, org, {"id": record["Id"], "success": True, "errors": [], "created": True}, 201
            )
        record = state.write(org, sobject, body, found[0]["Id"])
        if float(version) >= 46.0:
            return _answer(
                state, org, {"id": record["Id"], "success": True, "errors": [], "created": False}, 200
            )
        return _answer(state, org, None, 204)

    def _external_matches(org: Org, sobject: str, field: str, value: str) -> list[dict]:
        if field == "Id":
            record = state.find(org, sobject, value)
            return [record] if record else []
        if field not in EXTERNAL_ID_FIELDS.get(sobject, ()):
            raise errors.not_found(f"Provided external ID field does not exist or is not accessible: {field}")
        return [
            r for r in org.records[sobject].values() if r.get(field) is not None and str(r[field]) == value
        ]

    return router
