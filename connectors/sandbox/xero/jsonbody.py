"""JSON bodies as Xero writes them: amounts are decimals (``40.00``, ``1.000000``), never floats.

Entities hold amounts as ``Decimal``; ``dumps`` writes them as bare JSON numbers with their scale kept,
so a client parsing with ``parse_float=Decimal`` reads back exactly what Xero would send.
"""

import json
import re
from decimal import Decimal
from typing import Any

_MARK = "\x00"
_DECIMAL = re.compile(r'"\\u0000(-?[0-9.]+)\\u0000"')

CENT = Decimal("0.01")
RATE = Decimal("0.000001")
QUANTITY = Decimal("0.0001")


def money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def _default(value: Any) -> str:
    if isinstance(value, Decimal):
        return f"{_MARK}{value:f}{_MARK}"
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(payload: Any) -> bytes:
    text = json.dumps(payload, default=_default, separators=(",", ":"), ensure_ascii=False)
    return _DECIMAL.sub(r"\1", text).encode()


def loads(raw: bytes) -> Any:
    """Request bodies: numbers become Decimal, as money must."""
    return json.loads(raw, parse_float=Decimal)
