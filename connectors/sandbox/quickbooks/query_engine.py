"""Runs parsed QBO queries against a realm's customers.

Semantics worth knowing (they are QBO's): property names are case-insensitive, string comparisons
ignore case, date-times compare as instants whatever offset the client wrote, STARTPOSITION is 1-based,
MAXRESULTS defaults to 100 and is capped at 1000, and inactive customers are left out unless the
query filters on Active itself.
"""

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Literal
from zoneinfo import ZoneInfo

from connectors.sandbox.quickbooks import errors
from connectors.sandbox.quickbooks.customers import CustomerRow, CustomerTable
from connectors.sandbox.quickbooks.query_language import Condition, OrderKey, Query, Value
from connectors.sandbox.quickbooks.timefmt import parse_timestamp

DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_CAP = 1000
NULL_LITERAL = " "  # QBO writes "is null" as = ' '
LAST_UPDATED = "metadata.lastupdatedtime"
PropertyKind = Literal["id", "string", "bool", "number", "datetime"]
# Entities a real company has but this sandbox does not emulate yet; naming them is not a typo.
OTHER_QBO_ENTITIES = frozenset(
    [
        "Account",
        "Attachable",
        "Bill",
        "BillPayment",
        "Class",
        "CompanyInfo",
        "CreditMemo",
        "Department",
        "Deposit",
        "Employee",
        "Estimate",
        "Invoice",
        "Item",
        "JournalEntry",
        "Payment",
        "PaymentMethod",
        "Preferences",
        "Purchase",
        "PurchaseOrder",
        "RefundReceipt",
        "SalesReceipt",
        "TaxAgency",
        "TaxCode",
        "TaxRate",
        "Term",
        "TimeActivity",
        "Transfer",
        "Vendor",
        "VendorCredit",
    ]
)
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class Property:
    name: str
    kind: PropertyKind
    value: Callable[[CustomerRow], Any]  # what comparisons see: strings casefolded, None when unset


def _text(key: str, sub: str | None = None) -> Callable[[CustomerRow], str | None]:
    def value(row: CustomerRow) -> str | None:
        text = row.entity.get(key)
        if sub is not None:
            text = text.get(sub) if text else None
        return text.casefold() if text else None

    return value


def _plain(key: str) -> Callable[[CustomerRow], Any]:
    return lambda row: row.entity.get(key)


_CUSTOMER_PROPERTIES = [
    Property("Id", "id", operator.attrgetter("id")),
    Property("Active", "bool", operator.attrgetter("active")),
    Property("Job", "bool", _plain("Job")),
    Property("Balance", "number", _plain("Balance")),
    Property("BalanceWithJobs", "number", _plain("BalanceWithJobs")),
    Property("PrimaryEmailAddr", "string", _text("PrimaryEmailAddr", "Address")),
    Property("MetaData.CreateTime", "datetime", operator.attrgetter("created")),
    Property("MetaData.LastUpdatedTime", "datetime", operator.attrgetter("updated")),
    *(
        Property(name, "string", _text(name))
        for name in (
            "DisplayName",
            "GivenName",
            "MiddleName",
            "FamilyName",
            "CompanyName",
            "FullyQualifiedName",
            "PrintOnCheckName",
            "Title",
            "Suffix",
        )
    ),
]
CUSTOMER_PROPERTIES = {prop.name.lower(): prop for prop in _CUSTOMER_PROPERTIES}


@dataclass(frozen=True)
class QueryPage:
    rows: list[CustomerRow]
    start_position: int
    total: int  # matches before paging; what COUNT(*) reports


def _property(name: str) -> Property:
    prop = CUSTOMER_PROPERTIES.get(name.lower())
    if prop is None:
        raise errors.query_validation_error(f"Property {name} not found for Entity Customer")
    return prop


def _coerce(prop: Property, value: Value, zone: ZoneInfo) -> Any:
    """Turn a literal into the property's comparable type, or answer as QBO does for a bad value."""
    raw = value.value
    try:
        if prop.kind == "id":
            number = float(raw) if not isinstance(raw, bool) else float("nan")
            if number != int(number):
                raise ValueError
            return int(number)
        if prop.kind == "string" and value.kind != "bool":
            text = raw if isinstance(raw, str) else f"{raw:g}"
            return text.casefold()
        if prop.kind == "bool":
            if value.kind == "bool":
                return raw
            if isinstance(raw, str) and raw.lower() in ("true", "false"):
                return raw.lower() == "true"
        if prop.kind == "number" and value.kind != "bool":
            return float(raw)
        if prop.kind == "datetime" and value.kind == "string":
            return parse_timestamp(str(raw), zone)
    except (ValueError, OverflowError):
        pass
    raise errors.query_validation_error(f"value {raw} is not a valid {prop.kind} for property {prop.name}")


def _like_pattern(text: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in text.split("%")), re.IGNORECASE | re.DOTALL)


def _predicate(condition: Condition, zone: ZoneInfo) -> Callable[[CustomerRow], bool]:
    prop = _property(condition.property)
    read = prop.value
    if condition.operator == "=" and condition.values[0] == Value("string", NULL_LITERAL):
        return lambda row: read(row) is None
    if condition.operator == "LIKE":
        if prop.kind != "string" or condition.values[0].kind != "string":
            raise errors.query_validation_error(f"LIKE is not supported for property {prop.name}")
        pattern = _like_pattern(str(condition.values[0].value))
        return lambda row: (value := read(row)) is not None and pattern.fullmatch(value) is not None
    if condition.operator == "IN":
        wanted = {_coerce(prop, value, zone) for value in condition.values}
        return lambda row: read(row) in wanted
    compare, target = _COMPARE[condition.operator], _coerce(prop, condition.values[0], zone)
    return lambda row: (value := read(row)) is not None and compare(value, target)


def _last_updated_range(conditions: list[Condition], zone: ZoneInfo) -> tuple[Any, bool, Any, bool] | None:
    """The tightest LastUpdatedTime bounds in the WHERE clause, to read from the sorted index."""
    low = high = None
    low_inclusive = high_inclusive = True
    found = False
    for condition in conditions:
        if condition.property.lower() != LAST_UPDATED or condition.operator not in _COMPARE:
            continue
        found = True
        at = _coerce(CUSTOMER_PROPERTIES[LAST_UPDATED], condition.values[0], zone)
        if condition.operator in (">", ">=", "=") and (
            low is None or at > low or (at == low and condition.operator == ">")
        ):
            low, low_inclusive = at, condition.operator != ">"
        if condition.operator in ("<", "<=", "=") and (
            high is None or at < high or (at == high and condition.operator == "<")
        ):
            high, high_inclusive = at, condition.operator != "<"
    return (low, low_inclusive, high, high_inclusive) if found else None


def _sorted(rows: list[CustomerRow], order_by: tuple[OrderKey, ...]) -> list[CustomerRow]:
    # Stable sorts from the last key to the first; rows without a value sort before those with one.
    for key in reversed(order_by):
        read = _property(key.property).value
        present: list[tuple[Any, CustomerRow]] = []
        missing: list[tuple[Any, CustomerRow]] = []
        for row in rows:
            value = read(row)
            (missing if value is None else present).append((value, row))
        present.sort(key=operator.itemgetter(0), reverse=key.descending)
        ordered = present + missing if key.descending else missing + present
        rows = [row for _, row in ordered]
    return rows


def _all_of(predicates: list[Callable[[CustomerRow], bool]]) -> Callable[[CustomerRow], bool]:
    if len(predicates) == 1:
        return predicates[0]
    return lambda row: all(predicate(row) for predicate in predicates)


def check_entity(entity: str) -> None:
    if entity == "Customer":
        return
    if entity in OTHER_QBO_ENTITIES:
        raise errors.query_validation_error(
            f"Entity {entity} is not emulated by the firmsync sandbox (only Customer)"
        )
    raise errors.query_parser_error(
        f"Invalid entity name: {entity}. Entity names are case-sensitive, e.g. Customer"
    )


def _matching(query: Query, customers: CustomerTable, zone: ZoneInfo) -> list[CustomerRow]:
    """Every customer the WHERE clause selects, in ORDERBY order (Id order by default)."""
    conditions = list(query.conditions)
    predicates = [_predicate(condition, zone) for condition in conditions]
    if not any(condition.property.lower() == "active" for condition in conditions):
        predicates.append(operator.attrgetter("active"))
    for key in query.order_by:
        _property(key.property)

    # Pick the cheapest source of candidates; the predicates still check every condition.
    time_range = _last_updated_range(conditions, zone)
    by_id = next((c for c in conditions if c.property.lower() == "id" and c.operator in ("=", "IN")), None)
    order_is_time = len(query.order_by) == 1 and query.order_by[0].property.lower() == LAST_UPDATED
    if by_id is not None:
        ids = sorted({_coerce(CUSTOMER_PROPERTIES["id"], value, zone) for value in by_id.values})
        candidates = [row for row in map(customers.get, ids) if row is not None]
        in_time_order = False
    elif time_range is not None or order_is_time:
        candidates = customers.updated_between(*(time_range or (None, True, None, True)))
        in_time_order = True
    else:
        candidates = list(customers.in_id_order())
        in_time_order = False

    matched = list(filter(_all_of(predicates), candidates))
    if order_is_time and in_time_order:
        # The index is already (LastUpdatedTime, Id) ordered.
        return matched[::-1] if query.order_by[0].descending else matched
    if in_time_order:
        matched.sort(key=operator.attrgetter("id"))  # Id is the default order and the tie-breaker
    return _sorted(matched, query.order_by)


def run_query(query: Query, customers: CustomerTable, zone: ZoneInfo) -> QueryPage:
    check_entity(query.entity)
    start = max(query.start_position or 1, 1)
    max_results = DEFAULT_MAX_RESULTS if query.max_results is None else query.max_results
    if max_results < 1:
        raise errors.query_validation_error("MAXRESULTS must be a positive number")
    max_results = min(max_results, MAX_RESULTS_CAP)
    # Paging through one query re-uses its match list until the next write.
    order = () if query.count_only else query.order_by
    matched = customers.cached_query(
        (query.conditions, order), lambda: _matching(replace(query, order_by=order), customers, zone)
    )
    if query.count_only:
        return QueryPage([], 1, len(matched))
    return QueryPage(matched[start - 1 : start - 1 + max_results], start, len(matched))
