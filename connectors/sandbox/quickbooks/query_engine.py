"""Runs parsed QBO queries against one entity table of a realm.

Semantics worth knowing (they are QBO's): property names are case-insensitive, string comparisons
ignore case, date-times compare as instants whatever offset the client wrote, dates (TxnDate, DueDate)
as calendar dates, references (CustomerRef) by Id, STARTPOSITION is 1-based, MAXRESULTS defaults to 100
and is capped at 1000, and inactive name-list objects (customers, items, accounts) are left out unless
the query filters on Active itself.
"""

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any
from zoneinfo import ZoneInfo

from connectors.sandbox.quickbooks import errors
from connectors.sandbox.quickbooks.entities import OTHER_QBO_ENTITIES, SPECS, EntitySpec, Property
from connectors.sandbox.quickbooks.fields import check_date
from connectors.sandbox.quickbooks.query_language import Condition, OrderKey, Query, Value
from connectors.sandbox.quickbooks.table import EntityRow, EntityTable
from connectors.sandbox.quickbooks.timefmt import parse_timestamp

DEFAULT_MAX_RESULTS = 100
MAX_RESULTS_CAP = 1000
NULL_LITERAL = " "  # QBO writes "is null" as = ' '
LAST_UPDATED = "metadata.lastupdatedtime"
_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}


@dataclass(frozen=True)
class QueryPage:
    rows: list[EntityRow]
    start_position: int
    total: int  # matches before paging; what COUNT(*) reports


def _property(spec: EntitySpec, name: str) -> Property:
    prop = spec.property(name)
    if prop is None:
        raise errors.query_validation_error(f"Property {name} not found for Entity {spec.name}")
    return prop


def _coerce(prop: Property, value: Value, zone: ZoneInfo) -> Any:
    """Turn a literal into the property's comparable type, or answer as QBO does for a bad value."""
    raw = value.value
    try:
        if prop.kind in ("id", "ref"):
            number = float(raw) if not isinstance(raw, bool) else float("nan")
            if number != int(number):
                raise ValueError
            return int(number) if prop.kind == "id" else str(int(number))
        if prop.kind == "key" and value.kind == "string":
            return raw
        if prop.kind == "date" and value.kind == "string":
            return check_date(str(raw), prop.name)
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
    except (ValueError, OverflowError, errors.QboFault):
        pass
    raise errors.query_validation_error(f"value {raw} is not a valid {prop.kind} for property {prop.name}")


def _like_pattern(text: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in text.split("%")), re.IGNORECASE | re.DOTALL)


def _predicate(spec: EntitySpec, condition: Condition, zone: ZoneInfo) -> Callable[[EntityRow], bool]:
    prop = _property(spec, condition.property)
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


def _last_updated_range(
    spec: EntitySpec, conditions: list[Condition], zone: ZoneInfo
) -> tuple[Any, bool, Any, bool] | None:
    """The tightest LastUpdatedTime bounds in the WHERE clause, to read from the sorted index."""
    low = high = None
    low_inclusive = high_inclusive = True
    found = False
    for condition in conditions:
        if condition.property.lower() != LAST_UPDATED or condition.operator not in _COMPARE:
            continue
        found = True
        at = _coerce(_property(spec, LAST_UPDATED), condition.values[0], zone)
        if condition.operator in (">", ">=", "=") and (
            low is None or at > low or (at == low and condition.operator == ">")
        ):
            low, low_inclusive = at, condition.operator != ">"
        if condition.operator in ("<", "<=", "=") and (
            high is None or at < high or (at == high and condition.operator == "<")
        ):
            high, high_inclusive = at, condition.operator != "<"
    return (low, low_inclusive, high, high_inclusive) if found else None


def _sorted(spec: EntitySpec, rows: list[EntityRow], order_by: tuple[OrderKey, ...]) -> list[EntityRow]:
    # Stable sorts from the last key to the first; rows without a value sort before those with one.
    for key in reversed(order_by):
        read = _property(spec, key.property).value
        present: list[tuple[Any, EntityRow]] = []
        missing: list[tuple[Any, EntityRow]] = []
        for row in rows:
            value = read(row)
            (missing if value is None else present).append((value, row))
        present.sort(key=operator.itemgetter(0), reverse=key.descending)
        ordered = present + missing if key.descending else missing + present
        rows = [row for _, row in ordered]
    return rows


def _all_of(predicates: list[Callable[[EntityRow], bool]]) -> Callable[[EntityRow], bool]:
    if len(predicates) == 1:
        return predicates[0]
    return lambda row: all(predicate(row) for predicate in predicates)


def check_entity(entity: str) -> EntitySpec:
    spec = SPECS.get(entity)
    if spec is not None:
        return spec
    if entity in OTHER_QBO_ENTITIES:
        raise errors.query_validation_error(
            f"Entity {entity} is not emulated by the firmsync sandbox (emulated: {', '.join(SPECS)})"
        )
    raise errors.query_parser_error(
        f"Invalid entity name: {entity}. Entity names are case-sensitive, e.g. Customer"
    )


def _matching(spec: EntitySpec, query: Query, table: EntityTable, zone: ZoneInfo) -> list[EntityRow]:
    """Every object the WHERE clause selects, in ORDERBY order (Id order by default)."""
    conditions = list(query.conditions)
    predicates = [_predicate(spec, condition, zone) for condition in conditions]
    if spec.name_list and not any(condition.property.lower() == "active" for condition in conditions):
        predicates.append(operator.attrgetter("active"))
    for key in query.order_by:
        _property(spec, key.property)

    # Pick the cheapest source of candidates; the predicates still check every condition.
    time_range = _last_updated_range(spec, conditions, zone)
    by_id = next((c for c in conditions if c.property.lower() == "id" and c.operator in ("=", "IN")), None)
    order_is_time = len(query.order_by) == 1 and query.order_by[0].property.lower() == LAST_UPDATED
    if by_id is not None:
        id_property = _property(spec, "Id")
        ids = sorted({_coerce(id_property, value, zone) for value in by_id.values}, key=str)
        candidates = [row for row in map(table.get, ids) if row is not None]
        candidates.sort(key=_id_order)
        in_time_order = False
    elif time_range is not None or order_is_time:
        candidates = table.updated_between(*(time_range or (None, True, None, True)))
        in_time_order = True
    else:
        candidates = list(table.in_id_order())
        in_time_order = False

    matched = list(filter(_all_of(predicates), candidates))
    if order_is_time and in_time_order:
        # The index is already (LastUpdatedTime, Id) ordered.
        return matched[::-1] if query.order_by[0].descending else matched
    if in_time_order:
        matched.sort(key=_id_order)  # Id is the default order and the tie-breaker
    return _sorted(spec, matched, query.order_by)


def _id_order(row: EntityRow) -> tuple[int, Any]:
    return (0, row.id) if isinstance(row.id, int) else (1, str(row.id))


def run_query(query: Query, table_for: Callable[[str], EntityTable], zone: ZoneInfo) -> QueryPage:
    spec = check_entity(query.entity)
    table = table_for(spec.name)
    start = max(query.start_position or 1, 1)
    max_results = DEFAULT_MAX_RESULTS if query.max_results is None else query.max_results
    if max_results < 1:
        raise errors.query_validation_error("MAXRESULTS must be a positive number")
    max_results = min(max_results, MAX_RESULTS_CAP)
    # Paging through one query re-uses its match list until the next write.
    order = () if query.count_only else query.order_by
    matched = table.cached_query(
        (query.conditions, order), lambda: _matching(spec, replace(query, order_by=order), table, zone)
    )
    if query.count_only:
        return QueryPage([], 1, len(matched))
    return QueryPage(matched[start - 1 : start - 1 + max_results], start, len(matched))
