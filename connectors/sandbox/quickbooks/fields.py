"""Request-body validation shared by the entities: which properties a client may write, of which JSON type.

SDKs serialise every attribute they know, unset ones as "" or 0 (python-quickbooks) and read-only ones
echoed back from a read; QBO keeps only properties with values and ignores what the server owns. A
property QBO does not know is a 2010 fault, as is a value of the wrong JSON type.
"""

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from connectors.sandbox.quickbooks import errors

COMMON_SERVER_OWNED = frozenset(("Id", "SyncToken", "MetaData", "domain", "sparse", "status"))
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Schema:
    """The writable properties of an entity, by JSON type, and the read-only ones a client may echo."""

    strings: frozenset[str] = frozenset()
    dates: frozenset[str] = frozenset()
    bools: frozenset[str] = frozenset()
    numbers: frozenset[str] = frozenset()
    objects: frozenset[str] = frozenset()
    lists: frozenset[str] = frozenset()
    server_owned: frozenset[str] = field(default=frozenset())

    def __post_init__(self) -> None:
        object.__setattr__(self, "server_owned", self.server_owned | COMMON_SERVER_OWNED)

    @cached_property
    def writable(self) -> frozenset[str]:
        return self.strings | self.dates | self.bools | self.numbers | self.objects | self.lists


def strip_empty(value: Any) -> Any:
    """Drop "" and null recursively (and objects or lists left empty): QBO stores only what has a value."""
    if isinstance(value, dict):
        cleaned = {}
        for key, item in value.items():
            if isinstance(item, dict | list):
                item = strip_empty(item)
            if item is not None and item != "":
                cleaned[key] = item
        return cleaned or None
    if isinstance(value, list):
        items = [strip_empty(item) if isinstance(item, dict | list) else item for item in value]
        return [item for item in items if item is not None and item != ""] or None
    return value


def to_number(value: Any, name: str) -> float:
    """A JSON number, or a numeric string (SDKs that serialise Decimal send "100.00")."""
    if isinstance(value, bool):
        raise errors.invalid_property(name)
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            pass
    raise errors.invalid_property(name)


def check_date(value: str, name: str) -> str:
    try:
        if not _DATE.fullmatch(value):
            raise ValueError(value)
        date.fromisoformat(value)
    except ValueError as exc:
        raise errors.invalid_value(f"{name} is not a valid date (YYYY-MM-DD): {value}") from exc
    return value


def writable_fields(body: dict[str, Any], schema: Schema) -> dict[str, Any]:
    """Validate a request body against ``schema``; return the writable properties it gives values to."""
    fields: dict[str, Any] = {}
    for name, raw in body.items():
        if name in schema.server_owned:
            continue
        if name not in schema.writable:
            raise errors.invalid_property(name)
        value = strip_empty(raw)
        if value in ("", None):
            continue
        if name in schema.strings or name in schema.dates:
            if not isinstance(value, str):
                raise errors.invalid_property(name)
            if name in schema.dates:
                check_date(value, name)
        elif name in schema.bools:
            if not isinstance(value, bool):
                raise errors.invalid_property(name)
        elif name in schema.numbers:
            value = to_number(value, name)
        elif name in schema.objects:
            if not isinstance(value, dict):
                raise errors.invalid_property(name)
        elif not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            raise errors.invalid_property(name)
        fields[name] = value
    return fields


def ref_id(ref: Any) -> str | None:
    """The ``value`` of a ReferenceType, as text (clients send numbers too)."""
    if isinstance(ref, dict):
        value = ref.get("value")
        if isinstance(value, int | str) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()
    return None


def money(value: float) -> float:
    """Amounts are kept to the cent, as QBO rounds them."""
    return round(value + 0.0, 2)
