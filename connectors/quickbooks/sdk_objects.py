"""python-quickbooks objects (`Customer`, `Invoice`, `SalesItemLine`, `Ref`…) built from a payload and
carrying only that payload's fields.

The SDK's constructors give every property a default (`Customer.Active = True`, `Invoice.TxnDate = ""`,
`SalesItemLineDetail.TaxInclusiveAmt = 0`, `Ref.name = ""`) and `to_json()` sends them all: a sparse
update would overwrite the company's own values with them, and a create would send empty dates.
"""

from __future__ import annotations

from typing import Any, TypeVar

from quickbooks.objects.base import QuickbooksBaseObject

SdkObject = TypeVar("SdkObject", bound=QuickbooksBaseObject)


def sdk_object(cls: type[SdkObject], payload: dict[str, Any]) -> SdkObject:
    """`cls.from_json(payload)` (nested objects and lines typed by the SDK), minus the defaults."""
    obj = cls.from_json(payload)
    _prune(obj, payload)
    return obj


def _prune(obj: QuickbooksBaseObject, source: dict[str, Any]) -> None:
    for key in [k for k in vars(obj) if not k.startswith("_")]:
        if key not in source:
            delattr(obj, key)
            continue
        value, given = getattr(obj, key), source[key]
        if isinstance(value, QuickbooksBaseObject) and isinstance(given, dict):
            _prune(value, given)
        elif isinstance(value, list) and isinstance(given, list):
            for item, item_source in zip(value, given, strict=True):
                if isinstance(item, QuickbooksBaseObject) and isinstance(item_source, dict):
                    _prune(item, item_source)
