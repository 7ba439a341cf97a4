"""The Accounting API 2.0 endpoints, at ``/api.xro/2.0`` like Xero's
(developer.xero.com/documentation/api/accounting/requests-and-responses).

- ``GET /{Collection}``: ``If-Modified-Since`` (rows with a later ``UpdatedDateUTC``), ``where``,
  ``order``, ``IDs``, ``page`` (100 per page; ``pageSize`` up to 1000) for the collections Xero
  pages (Contacts, Invoices, CreditNotes, Payments; a paged answer carries ``pagination``). Without
  ``page`` every match is returned, invoices and credit notes without their ``LineItems``. Contacts
  leave out ARCHIVED ones unless ``includeArchived=true``. Default order: ``UpdatedDateUTC``, then id.
  Invoices also take ``ContactIDs``, ``Statuses`` and ``InvoiceNumbers``; Contacts ``searchTerm``.
- ``GET /{Collection}/{id}`` (or the number / code): one element, in full; unknown is 404.
- ``PUT`` / ``POST /Contacts``, ``/Invoices``, ``/Payments`` (``{"Contacts": [...]}`` or one object),
  ``POST /{Collection}/{id}`` to update one. A bad element fails the whole request with a 400
  ValidationException unless ``summarizeErrors=false`` (then 200, each element with its
  ``StatusAttributeString``). ``Idempotency-Key`` replays the first answer for 6 minutes.

Every answer is ``{"Id", "Status": "OK", "ProviderName", "DateTimeUTC", [pagination,]
"<Collection>": [...]}``.
"""

import hashlib
import math
import uuid
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Request, Response

from connectors.sandbox.xero import contacts, invoices, payments
from connectors.sandbox.xero.errors import (
    Invalid,
    NotFound,
    PostDataInvalid,
    Problem,
    QueryParseError,
    ValidationException,
    missing_scope,
)
from connectors.sandbox.xero.gateway import CONSENT_SCOPE_KEY, TENANT_KEY
from connectors.sandbox.xero.jsonbody import dumps, loads
from connectors.sandbox.xero.resources import RESOURCES, SETTINGS_READ, Resource
from connectors.sandbox.xero.state import XeroState
from connectors.sandbox.xero.store import Row
from connectors.sandbox.xero.tenant import CONTACTS, INVOICES, PAYMENTS, Batch, Tenant, name_key
from connectors.sandbox.xero.timefmt import envelope_timestamp, json_timestamp, ms, parse_if_modified_since
from connectors.sandbox.xero.tokens import Consent
from connectors.sandbox.xero.where import order_key, parse_where, sort_rows

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
WRITABLE = (CONTACTS, INVOICES, PAYMENTS)


def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status, media_type="application/json; charset=utf-8")


def data_router(state: XeroState) -> APIRouter:
    router = APIRouter(prefix="/api.xro/2.0", tags=["Xero Accounting API 2.0"])

    def envelope(collection: str, rows: Iterable[bytes], pagination: dict[str, int] | None = None) -> bytes:
        head = dumps(
            {
                "Id": str(uuid.uuid4()),
                "Status": "OK",
                "ProviderName": state.settings.xero_app_name,
                "DateTimeUTC": envelope_timestamp(state.clock.now()),
            }
        )[:-1]
        paging = b',"pagination":' + dumps(pagination) if pagination is not None else b""
        return head + paging + b',"' + collection.encode() + b'":[' + b",".join(rows) + b"]}"

    def context(
        request: Request, collection: str | None, write: bool = False
    ) -> tuple[Tenant, Resource | None]:
        consent: Consent = request.scope[CONSENT_SCOPE_KEY]
        tenant: Tenant = request.scope[TENANT_KEY]
        resource = RESOURCES.get(collection.lower()) if collection else None
        if collection and resource is None:
            raise NotFound()
        allowed = (resource.write_scopes if write else resource.read_scopes) if resource else SETTINGS_READ
        if not allowed & set(consent.scope):
            raise missing_scope()
        return tenant, resource

    def params_of(request: Request) -> dict[str, str]:
        return {key.lower(): value for key, value in request.query_params.items()}

    def matching(tenant: Tenant, resource: Resource, params: dict[str, str], since: int | None) -> list[Row]:
        table = tenant.table(resource.name)
        keys = (
            "where",
            "order",
            "ids",
            "contactids",
            "statuses",
            "invoicenumbers",
            "includearchived",
            "searchterm",
        )
        cache_key = (since, *(params.get(k) for k in keys))

        def run() -> list[Row]:
            rows = table.updated_after(since)
            if params.get("ids"):
                wanted = {i.strip().lower() for i in params["ids"].split(",")}
                rows = [r for r in rows if r.id in wanted]
            if resource.name == INVOICES:
                if params.get("contactids"):
                    wanted = {i.strip().lower() for i in params["contactids"].split(",")}
                    rows = [r for r in rows if r.entity["Contact"].get("ContactID") in wanted]
                if params.get("statuses"):
                    wanted = {s.strip().upper() for s in params["statuses"].split(",")}
                    rows = [r for r in rows if r.entity["Status"] in wanted]
                if params.get("invoicenumbers"):
                    wanted = {name_key(n) for n in params["invoicenumbers"].split(",")}
                    rows = [r for r in rows if name_key(r.entity.get("InvoiceNumber", "")) in wanted]
            if resource.name == CONTACTS:
                if params.get("includearchived", "").lower() != "true":
                    rows = [r for r in rows if r.entity["ContactStatus"] != "ARCHIVED"]
                if params.get("searchterm"):
                    term = params["searchterm"].casefold()
                    fields = ("Name", "FirstName", "LastName", "ContactNumber", "EmailAddress")
                    rows = [
                        r for r in rows if any(term in str(r.entity.get(f, "")).casefold() for f in fields)
                    ]
            if params.get("where"):
                predicate = parse_where(params["where"], resource.properties, resource.type_name)
                rows = [r for r in rows if predicate(r.entity)]
            if params.get("order"):
                rows = sort_rows(rows, order_key(params["order"], resource.properties, resource.type_name))
            return rows

        return table.cached(cache_key, run)

    @router.get("/Organisation", summary="The organisation (tenant) the request is for")
    @router.get("/organisation", include_in_schema=False)
    async def organisation(request: Request) -> Response:
        tenant, _ = context(request, None)
        org = {
            "OrganisationID": tenant.tenant_id,
            "Name": tenant.name,
            "LegalName": tenant.name,
            "PaysTax": True,
            "Version": "US",
            "OrganisationType": "COMPANY",
            "BaseCurrency": "USD",
            "CountryCode": "US",
            "IsDemoCompany": tenant.tenant_id == state.demo_tenant_id,
            "OrganisationStatus": "ACTIVE",
            "FinancialYearEndDay": 31,
            "FinancialYearEndMonth": 12,
            "SalesTaxBasis": "ACCRUALS",
            "DefaultSalesTax": "Tax Exclusive",
            "DefaultPurchasesTax": "Tax Exclusive",
            "CreatedDateUTC": json_timestamp(tenant.created_ms),
            "OrganisationEntityType": "COMPANY",
            "Timezone": "PACIFICSTANDARDTIME",
            "ShortCode": "!" + tenant.tenant_id[:5],
            "Edition": "BUSINESS",
            "Class": "STANDARD",
            "Addresses": [],
            "Phones": [],
            "ExternalLinks": [],
            "PaymentTerms": {},
        }
        return _json(envelope("Organisations", [dumps(org)]))

    @router.get("/{collection}", summary="List a collection (If-Modified-Since, where, order, IDs, page)")
    async def list_collection(collection: str, request: Request) -> Response:
        tenant, resource = context(request, collection)
        assert resource is not None
        params = params_of(request)
        since = None
        if request.headers.get("if-modified-since"):
            try:
                since = ms(parse_if_modified_since(request.headers["if-modified-since"]))
            except ValueError as exc:
                raise QueryParseError(str(exc)) from exc
        rows = matching(tenant, resource, params, since)
        pagination = None
        if resource.paged and params.get("page"):
            try:
                page = max(1, int(params["page"]))
                size = min(MAX_PAGE_SIZE, max(1, int(params.get("pagesize") or DEFAULT_PAGE_SIZE)))
            except ValueError as exc:
                raise QueryParseError("page and pageSize must be whole numbers") from exc
            pagination = {
                "page": page,
                "pageSize": size,
                "pageCount": math.ceil(len(rows) / size),
                "itemCount": len(rows),
            }
            rows = rows[(page - 1) * size : page * size]
            bodies = [r.json() for r in rows]
        elif resource.lines_only_when_paged or params.get("summaryonly", "").lower() == "true":
            bodies = [r.summary_json() if resource.lines_only_when_paged else r.json() for r in rows]
        else:
            bodies = [r.json() for r in rows]
        return _json(envelope(resource.name, bodies, pagination))

    def find(tenant: Tenant, resource: Resource, key: str) -> Row | None:
        table = tenant.table(resource.name)
        row = table.get(key)
        if row is None and resource.number_field:
            wanted = name_key(key)
            row = next(
                (
                    r
                    for r in table.in_creation_order()
                    if name_key(str(r.entity.get(resource.number_field, ""))) == wanted
                ),
                None,
            )
        return row

    @router.get("/{collection}/{key}", summary="One element, by id (or number / code)")
    async def get_one(collection: str, key: str, request: Request) -> Response:
        tenant, resource = context(request, collection)
        assert resource is not None
        row = find(tenant, resource, key)
        if row is None:
            raise NotFound()
        return _json(envelope(resource.name, [row.json()]))

    async def write(request: Request, collection: str, key: str | None) -> Response:
        tenant, resource = context(request, collection, write=True)
        assert resource is not None
        if resource.name not in WRITABLE:
            raise Problem(501, f"NotImplemented: the sandbox does not emulate writes to {resource.name}")
        target = None
        if key is not None:
            target = find(tenant, resource, key)
            if target is None:
                raise NotFound()
        raw = await request.body()
        idempotency_key = request.headers.get("idempotency-key")
        fingerprint = hashlib.sha256(
            f"{request.method} {request.url.path}?{request.url.query}".encode() + raw
        ).hexdigest()
        if idempotency_key:
            earlier = state.recall(tenant.tenant_id, idempotency_key, fingerprint)
            if earlier == "conflict":
                raise PostDataInvalid(f"Idempotency-Key {idempotency_key} is used with a different request")
            if isinstance(earlier, tuple):
                return _json(earlier[1], earlier[0])
        try:
            body = loads(raw or b"null")
        except ValueError as exc:
            raise PostDataInvalid(f"The request body is not valid JSON: {exc}") from exc
        if isinstance(body, dict) and isinstance(body.get(resource.name), list):
            elements = body[resource.name]
        elif isinstance(body, dict):
            elements = [body]
        else:
            raise PostDataInvalid(f'Expected {{"{resource.name}": [...]}} or one {resource.type_name} object')
        if not all(isinstance(e, dict) for e in elements):
            raise PostDataInvalid(f"Every element of {resource.name} must be an object")
        summarize = request.query_params.get("summarizeErrors", "true").lower() != "false"
        now = state.clock.now()

        def apply(batch: Batch, element: dict[str, Any]) -> Row:
            if resource.name == CONTACTS:
                return contacts.prepare(batch, element, now, target.id if target else None)
            if resource.name == INVOICES:
                by_number = request.method == "POST"  # PUT only creates
                return invoices.prepare(batch, element, now, target.id if target else None, by_number)
            existing = target or (
                batch.get(PAYMENTS, str(element["PaymentID"])) if element.get("PaymentID") else None
            )
            if existing is not None:
                return payments.delete(batch, existing, element, now)
            if element.get("PaymentID"):
                raise Invalid(f"Payment with PaymentID {element['PaymentID']} could not be found.")
            return payments.prepare(batch, element, now)

        error_flag = "HasValidationErrors" if resource.name == CONTACTS else "HasErrors"
        results: list[tuple[Row | None, dict[str, Any], list[str]]] = []
        batch = Batch(tenant)
        for element in elements:
            one = batch if summarize else Batch(tenant)
            try:
                row = apply(one, element)
            except Invalid as invalid:
                results.append((None, element, invalid.messages))
                continue
            results.append((row, element, []))
            if not summarize:
                one.save()
        failed = any(messages for _, _, messages in results)
        if summarize and failed:
            raise ValidationException(
                [
                    {
                        **element,
                        error_flag: bool(messages),
                        "ValidationErrors": [{"Message": m} for m in messages],
                    }
                    for _, element, messages in results
                ]
            )
        if summarize:
            batch.save()
        table = tenant.table(resource.name)
        bodies = []
        for row, element, messages in results:
            if row is None:
                echoed = {
                    **element,
                    "StatusAttributeString": "ERROR",
                    error_flag: True,
                    "ValidationErrors": [{"Message": m} for m in messages],
                }
                bodies.append(dumps(echoed))
                continue
            saved = table.get(row.id) or row
            bodies.append(
                saved.json() if summarize else dumps({**saved.entity, "StatusAttributeString": "OK"})
            )
        payload = envelope(resource.name, bodies)
        if idempotency_key:
            state.remember(tenant.tenant_id, idempotency_key, fingerprint, 200, payload)
        return _json(payload)

    @router.put("/{collection}", summary="Create elements (Contacts, Invoices, Payments)")
    async def put_collection(collection: str, request: Request) -> Response:
        return await write(request, collection, None)

    @router.post("/{collection}", summary="Create or update elements (Contacts, Invoices, Payments)")
    async def post_collection(collection: str, request: Request) -> Response:
        return await write(request, collection, None)

    @router.post(
        "/{collection}/{key}", summary="Update one element (VOIDED voids an invoice; DELETED a payment)"
    )
    async def post_one(collection: str, key: str, request: Request) -> Response:
        return await write(request, collection, key)

    return router
