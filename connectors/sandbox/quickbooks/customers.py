"""The Customer entity: its stored rows, the indexes queries use, and the create/update rules.

Rules follow the QBO Customer reference: DisplayName unique per company (else 6240), derived from the
name parts when omitted; every write bumps SyncToken and MetaData.LastUpdatedTime; an update must carry
the current SyncToken (else 5010); ``sparse: true`` merges, a full update replaces every writable field;
customers are never deleted, only made inactive (Active false).
"""

import bisect
import json
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox.quickbooks import errors

STRING_PROPERTIES = frozenset(
    [
        "Title",
        "GivenName",
        "MiddleName",
        "FamilyName",
        "Suffix",
        "DisplayName",
        "CompanyName",
        "PrintOnCheckName",
        "Notes",
        "ResaleNum",
        "PreferredDeliveryMethod",
        "PrimaryTaxIdentifier",
        "SecondaryTaxIdentifier",
        "OpenBalanceDate",
        "BusinessNumber",
        "GSTIN",
        "GSTRegistrationType",
        "TaxExemptionReasonId",
        "ClientEntityId",
    ]
)
BOOL_PROPERTIES = frozenset(("Active", "Job", "BillWithParent", "Taxable", "IsProject"))
OBJECT_PROPERTIES = frozenset(
    [
        "BillAddr",
        "ShipAddr",
        "PrimaryPhone",
        "AlternatePhone",
        "Mobile",
        "Fax",
        "PrimaryEmailAddr",
        "WebAddr",
        "DefaultTaxCodeRef",
        "SalesTermRef",
        "PaymentMethodRef",
        "ParentRef",
        "ARAccountRef",
        "CurrencyRef",
        "CustomerTypeRef",
    ]
)
ADDRESS_PROPERTIES = ("BillAddr", "ShipAddr")
# Sent back by SDKs that echo what they read; the server owns these and ignores what clients say.
SERVER_OWNED = frozenset(
    (
        "Id",
        "SyncToken",
        "MetaData",
        "FullyQualifiedName",
        "domain",
        "sparse",
        "Balance",
        "BalanceWithJobs",
        "Level",
    )
)
SERVER_OWNED |= {"V4IDPseudonym"}
KEPT_ON_FULL_UPDATE = (
    "Id",
    "SyncToken",
    "domain",
    "sparse",
    "Balance",
    "BalanceWithJobs",
    "CurrencyRef",
    "MetaData",
)
NAME_PARTS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
    "AUD": "Australian Dollar",
}
DISPLAY_NAME_MAX = 500


def name_key(name: str) -> str:
    """Uniqueness is checked ignoring case and repeated spaces."""
    return " ".join(name.split()).casefold()


@dataclass(slots=True)
class CustomerRow:
    """One revision of a customer. Never mutated: a write stores a new row."""

    id: int
    entity: dict[str, Any]
    created: int  # epoch seconds, what MetaData.CreateTime shows
    updated: int  # epoch seconds, what MetaData.LastUpdatedTime shows
    active: bool = field(init=False)  # a plain attribute: every query filters on it
    _json: bytes | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.active = bool(self.entity.get("Active", True))

    def json(self) -> bytes:
        # Cached: a page of 1000 customers is then a join of ready-made bytes.
        if self._json is None:
            self._json = json.dumps(self.entity, separators=(",", ":"), ensure_ascii=False).encode()
        return self._json


class CustomerTable:
    """Rows by Id, plus a (LastUpdatedTime, Id) index kept sorted for incremental queries and CDC.

    Query results (before paging) are cached until the next write, so a client paging through
    tens of thousands of customers pays for filtering and sorting once, not once per page.
    """

    QUERY_CACHE_SIZE = 16

    def __init__(self) -> None:
        self.rows: dict[int, CustomerRow] = {}
        self._by_updated: list[tuple[int, int]] = []
        self._names: dict[str, int] = {}
        self._last_id = 0
        self._query_cache: OrderedDict[Hashable, list[CustomerRow]] = OrderedDict()

    def cached_query(self, key: Hashable, run: Callable[[], list[CustomerRow]]) -> list[CustomerRow]:
        rows = self._query_cache.get(key)
        if rows is None:
            rows = self._query_cache[key] = run()
            if len(self._query_cache) > self.QUERY_CACHE_SIZE:
                self._query_cache.popitem(last=False)
        else:
            self._query_cache.move_to_end(key)
        return rows

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def last_id(self) -> int:
        return self._last_id

    def get(self, customer_id: int) -> CustomerRow | None:
        return self.rows.get(customer_id)

    def id_for_name(self, name: str) -> int | None:
        return self._names.get(name_key(name))

    def allocate_id(self) -> int:
        self._last_id += 1
        return self._last_id

    def put(self, row: CustomerRow) -> None:
        self._query_cache.clear()
        old = self.rows.get(row.id)
        if old is not None:
            del self._by_updated[bisect.bisect_left(self._by_updated, (old.updated, old.id))]
            self._names.pop(name_key(old.entity["DisplayName"]), None)
        self.rows[row.id] = row
        bisect.insort(self._by_updated, (row.updated, row.id))
        self._names[name_key(row.entity["DisplayName"])] = row.id

    def add_many(self, rows: Iterable[CustomerRow]) -> None:
        """Bulk insert of new rows: one sort instead of an insort each."""
        self._query_cache.clear()
        for row in rows:
            self.rows[row.id] = row
            self._by_updated.append((row.updated, row.id))
            self._names[name_key(row.entity["DisplayName"])] = row.id
        self._by_updated.sort()

    def in_id_order(self) -> Iterator[CustomerRow]:
        # Ids are allocated increasing and rows are never removed, so insertion order is Id order.
        return iter(self.rows.values())

    def updated_between(
        self, low: float | None, low_inclusive: bool, high: float | None, high_inclusive: bool
    ) -> list[CustomerRow]:
        """Rows whose LastUpdatedTime falls in the range, ordered by (LastUpdatedTime, Id)."""
        index = self._by_updated
        start = 0
        if low is not None:
            bound = (low, -1) if low_inclusive else (low, float("inf"))
            start = bisect.bisect_left(index, bound)
        end = len(index)
        if high is not None:
            bound = (high, float("inf")) if high_inclusive else (high, -1)
            end = bisect.bisect_left(index, bound)
        rows = self.rows
        return [rows[customer_id] for _, customer_id in index[start:end]]


def _strip_empty(value: Any) -> Any:
    """QBO keeps only properties with values; SDKs send "" and null for everything unset."""
    if isinstance(value, dict):
        cleaned = {k: v for k, v in ((k, _strip_empty(v)) for k, v in value.items()) if v not in ("", None)}
        return cleaned or None
    return value


def writable_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Validate a Customer request body and return the writable properties it sets."""
    fields: dict[str, Any] = {}
    for name, value in body.items():
        if name in SERVER_OWNED:
            continue
        if name in STRING_PROPERTIES:
            ok = value is None or isinstance(value, str)
        elif name in BOOL_PROPERTIES:
            ok = value is None or isinstance(value, bool)
        elif name in OBJECT_PROPERTIES:
            ok = value is None or isinstance(value, dict)
        else:
            raise errors.invalid_property(name)
        if not ok:
            raise errors.invalid_property(name)
        value = _strip_empty(value)
        if value not in ("", None):
            fields[name] = value
    return fields


def _finish(entity: dict[str, Any], next_address_id: Callable[[], str]) -> dict[str, Any]:
    """Fill the properties QBO derives: DisplayName from name parts, FullyQualifiedName, address Ids."""
    display = entity.get("DisplayName") or " ".join(entity[p] for p in NAME_PARTS if entity.get(p))
    if not display.strip():
        raise errors.required_param_missing("DisplayName")
    if len(display) > DISPLAY_NAME_MAX:
        raise errors.invalid_value(f"DisplayName is longer than {DISPLAY_NAME_MAX} characters")
    entity["DisplayName"] = display
    entity["FullyQualifiedName"] = display
    entity.setdefault("PrintOnCheckName", display)
    currency = entity.get("CurrencyRef")
    if currency and "name" not in currency and currency.get("value") in CURRENCY_NAMES:
        entity["CurrencyRef"] = {**currency, "name": CURRENCY_NAMES[currency["value"]]}
    for prop in ADDRESS_PROPERTIES:
        if prop in entity and "Id" not in entity[prop]:
            entity[prop] = {"Id": next_address_id(), **entity[prop]}
    return entity


def new_entity(
    customer_id: int, fields: dict[str, Any], balance: float, next_address_id: Callable[[], str]
) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "Id": str(customer_id),
        "SyncToken": "0",
        "domain": "QBO",
        "sparse": False,
        "Active": True,
        "Job": False,
        "BillWithParent": False,
        "Taxable": False,
        "IsProject": False,
        "PreferredDeliveryMethod": "Print",
        "Balance": balance,
        "BalanceWithJobs": balance,
        "CurrencyRef": {"value": "USD", "name": CURRENCY_NAMES["USD"]},
    }
    entity.update(fields)
    return _finish(entity, next_address_id)


def updated_entity(
    current: dict[str, Any], fields: dict[str, Any], sparse: bool, next_address_id: Callable[[], str]
) -> dict[str, Any]:
    if sparse:
        entity = {**current, **fields}
    else:
        # A full update replaces every writable property: what the body omits is cleared.
        entity = {k: current[k] for k in KEPT_ON_FULL_UPDATE if k in current}
        entity.update(
            {"Active": True, "Job": False, "BillWithParent": False, "Taxable": False, "IsProject": False}
        )
        entity["PreferredDeliveryMethod"] = current.get("PreferredDeliveryMethod", "Print")
        entity.update(fields)
    if "PrintOnCheckName" not in fields and current.get("PrintOnCheckName") == current.get("DisplayName"):
        entity.pop("PrintOnCheckName", None)  # it followed the old name; let it follow the new one
    entity["sparse"] = False
    return _finish(entity, next_address_id)
