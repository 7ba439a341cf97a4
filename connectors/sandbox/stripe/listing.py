"""List endpoints as Stripe pages them (docs.stripe.com/api/pagination).

- Objects come newest first (by `created`; within one second, the later-created first).
- `limit` is 1..100 (default 10). `starting_after=<id>` answers the objects after that one in list
  order (older), `ending_before=<id>` the ones just before it (newer); only one of the two may be given.
- `created` filters by Unix seconds: `created=<t>` exactly, or `created[gt|gte|lt|lte]=<t>`.
- The answer is `{"object": "list", "url": <path>, "has_more": bool, "data": [...]}`; `has_more` says
  whether more objects lie beyond this page in the direction of travel.
"""

from collections.abc import Callable, Mapping
from typing import Any

from connectors.sandbox.stripe import errors
from connectors.sandbox.stripe.account import Table

DEFAULT_LIMIT = 10
MAX_LIMIT = 100
_RANGE_OPERATORS: dict[str, Callable[[int, int], bool]] = {
    "gt": lambda value, bound: value > bound,
    "gte": lambda value, bound: value >= bound,
    "lt": lambda value, bound: value < bound,
    "lte": lambda value, bound: value <= bound,
}


def _integer(raw: str, param: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise errors.invalid(f"Invalid integer: {raw}", param) from None


def parse_limit(params: Mapping[str, str]) -> int:
    if "limit" not in params:
        return DEFAULT_LIMIT
    limit = _integer(params["limit"], "limit")
    if limit < 1:
        raise errors.invalid("This value must be greater than or equal to 1.", "limit")
    if limit > MAX_LIMIT:
        raise errors.invalid(f"This value must be less than or equal to {MAX_LIMIT}.", "limit")
    return limit


def created_filter(params: Mapping[str, str]) -> Callable[[dict[str, Any]], bool]:
    checks: list[Callable[[int], bool]] = []
    if "created" in params:
        exact = _integer(params["created"], "created")
        checks.append(lambda value: value == exact)
    for operator, compare in _RANGE_OPERATORS.items():
        name = f"created[{operator}]"
        if name in params:
            bound = _integer(params[name], name)
            checks.append(lambda value, bound=bound, compare=compare: compare(value, bound))
    return lambda row: all(check(row["created"]) for check in checks)


def page(
    table: Table,
    params: Mapping[str, str],
    *,
    url: str,
    kind: str,
    keep: Callable[[dict[str, Any]], bool] = lambda _: True,
) -> dict[str, Any]:
    limit = parse_limit(params)
    starting_after, ending_before = params.get("starting_after"), params.get("ending_before")
    if starting_after and ending_before:
        raise errors.invalid("You may only specify one of these parameters: ending_before, starting_after.")
    in_range = created_filter(params)
    rows = [row for row in table.newest_first() if keep(row) and in_range(row)]

    def position(anchor: str, param: str) -> tuple[int, int]:
        row = table.rows.get(anchor)
        if row is None:
            raise errors.no_such(kind, anchor, param)
        return row["created"], table.order[anchor]

    def key(row: dict[str, Any]) -> tuple[int, int]:
        return row["created"], table.order[row["id"]]

    if starting_after:
        bound = position(starting_after, "starting_after")
        older = [row for row in rows if key(row) < bound]
        data, has_more = older[:limit], len(older) > limit
    elif ending_before:
        bound = position(ending_before, "ending_before")
        newer = [row for row in rows if key(row) > bound]
        data, has_more = newer[-limit:], len(newer) > limit
    else:
        data, has_more = rows[:limit], len(rows) > limit
    return {"object": "list", "data": data, "has_more": has_more, "url": url}
