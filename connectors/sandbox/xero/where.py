"""The ``where`` and ``order`` query parameters of the Accounting API.

Xero evaluates ``where`` as a .NET LINQ-like expression over the resource's properties, e.g.
``Status=="AUTHORISED" AND Type=="ACCREC"``, ``Contact.ContactID==guid("…")``,
``UpdatedDateUTC>=DateTime(2026, 01, 31)``, ``Name.Contains("Dental")``, ``AmountDue > 0``,
``EmailAddress!=null``, ``Name.ToLower()=="acme"``. Comparisons are case-sensitive, as in .NET. This
module supports that subset (``AND``/``&&``, ``OR``/``||``, ``NOT``/``!``, parentheses,
``== != > >= < <=``, ``Contains``/``StartsWith``/``EndsWith``/``ToLower``/``ToUpper``, literals
``"text"``, numbers, ``true``/``false``/``null``, ``guid("…")``, ``DateTime(y, m, d[, h, mi, s])``).
An unknown property is Xero's ``QueryParseException``. ``order`` is ``Prop [ASC|DESC], …``.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connectors.sandbox.xero.errors import QueryParseError
from connectors.sandbox.xero.timefmt import parse_ms_date

Entity = dict[str, Any]
Predicate = Callable[[Entity], bool]
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<op>==|!=|>=|<=|&&|\|\||[=><!(),.])
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
    )""",
    re.VERBOSE,
)
_METHODS = {"Contains", "StartsWith", "EndsWith", "ToLower", "ToUpper"}


@dataclass(frozen=True)
class _Literal:
    value: Any
    kind: str  # string, number, bool, null, guid, datetime


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    text = text.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QueryParseError(f"Syntax error '{text[pos]}'")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def _comparable(value: Any, kind: str) -> Any:
    """Bring an entity value to the literal's type, so ``/Date(…)/`` compares with ``DateTime(…)``."""
    if value is None:
        return None
    if kind == "datetime" and isinstance(value, str):
        return parse_ms_date(value)
    if kind == "guid" and isinstance(value, str):
        return value.lower()
    if kind == "number" and not isinstance(value, bool):
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return None
    return value


def _compare(op: str, left: Any, right: Any) -> bool:
    if op in ("==", "="):
        return left == right
    if op == "!=":
        return left != right
    if left is None or right is None:
        return False
    try:
        return {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right}[op]
    except TypeError:
        return False


class _Parser:
    def __init__(self, text: str, properties: frozenset[str], type_name: str) -> None:
        self.tokens = _tokens(text)
        self.pos = 0
        self.properties = properties
        self.type_name = type_name

    def peek(self) -> str | None:
        return self.tokens[self.pos][1] if self.pos < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        if self.pos >= len(self.tokens):
            raise QueryParseError("Expression expected")
        token = self.tokens[self.pos]
        if expected is not None and token[1] != expected:
            raise QueryParseError(f"'{expected}' expected")
        self.pos += 1
        return token

    def parse(self) -> Predicate:
        predicate = self.or_expr()
        if self.pos != len(self.tokens):
            raise QueryParseError(f"Syntax error '{self.peek()}'")
        return predicate

    def or_expr(self) -> Predicate:
        parts = [self.and_expr()]
        while self.peek() in ("OR", "||", "or"):
            self.take()
            parts.append(self.and_expr())
        return parts[0] if len(parts) == 1 else (lambda e, ps=tuple(parts): any(p(e) for p in ps))

    def and_expr(self) -> Predicate:
        parts = [self.unary()]
        while self.peek() in ("AND", "&&", "and"):
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else (lambda e, ps=tuple(parts): all(p(e) for p in ps))

    def unary(self) -> Predicate:
        if self.peek() in ("NOT", "!", "not"):
            self.take()
            inner = self.unary()
            return lambda e: not inner(e)
        if self.peek() == "(":
            self.take("(")
            inner = self.or_expr()
            self.take(")")
            return inner
        return self.comparison()

    def literal(self) -> _Literal:
        kind, text = self.take()
        if kind == "string":
            return _Literal(bytes(text[1:-1], "utf-8").decode("unicode_escape"), "string")
        if kind == "number":
            return _Literal(Decimal(text), "number")
        if kind == "word" and text in ("true", "false"):
            return _Literal(text == "true", "bool")
        if kind == "word" and text == "null":
            return _Literal(None, "null")
        if kind == "word" and text.lower() == "guid":
            self.take("(")
            value = self.literal()
            self.take(")")
            return _Literal(str(value.value).lower(), "guid")
        if kind == "word" and text == "DateTime":
            self.take("(")
            numbers = [int(self.take()[1])]
            while self.peek() == ",":
                self.take(",")
                numbers.append(int(self.take()[1]))
            self.take(")")
            try:
                stamp = datetime(*numbers, tzinfo=UTC)  # type: ignore[misc]
            except (TypeError, ValueError) as exc:
                raise QueryParseError(f"Invalid DateTime({numbers})") from exc
            return _Literal(int(stamp.timestamp() * 1000), "datetime")
        raise QueryParseError(f"Syntax error '{text}'")

    def path(self) -> tuple[list[str], list[tuple[str, _Literal | None]]]:
        _, first = self.take()
        if first not in self.properties:
            raise QueryParseError(f"No property or field '{first}' exists in type '{self.type_name}'")
        names, methods = [first], []
        while self.peek() == ".":
            self.take(".")
            _, name = self.take()
            if name in _METHODS:
                self.take("(")
                argument = None if self.peek() == ")" else self.literal()
                self.take(")")
                methods.append((name, argument))
            elif methods:
                raise QueryParseError(f"Syntax error '{name}'")
            else:
                names.append(name)
        return names, methods

    def comparison(self) -> Predicate:
        kind, text = self.tokens[self.pos] if self.pos < len(self.tokens) else ("", "")
        if kind != "word" or text in ("true", "false", "null", "guid", "DateTime"):
            raise QueryParseError(f"Syntax error '{text}'")
        names, methods = self.path()
        string_ops = [(name, arg) for name, arg in methods if name in ("Contains", "StartsWith", "EndsWith")]
        transforms = [name for name, _ in methods if name in ("ToLower", "ToUpper")]

        def value_of(entity: Entity) -> Any:
            value: Any = entity
            for name in names:
                value = value.get(name) if isinstance(value, dict) else None
            for name in transforms:
                value = value.lower() if name == "ToLower" and isinstance(value, str) else value
                value = value.upper() if name == "ToUpper" and isinstance(value, str) else value
            return value

        if string_ops:
            method, argument = string_ops[-1]
            needle = str(argument.value if argument else "")
            test = {"Contains": str.__contains__, "StartsWith": str.startswith, "EndsWith": str.endswith}
            check = test[method]
            return lambda e: isinstance(v := value_of(e), str) and check(v, needle)
        if self.peek() not in ("==", "=", "!=", ">", ">=", "<", "<="):
            # A bare boolean property: ``IsCustomer``.
            return lambda e: value_of(e) is True
        _, op = self.take()
        right = self.literal()
        return lambda e: _compare(op, _comparable(value_of(e), right.kind), right.value)


def parse_where(text: str, properties: frozenset[str], type_name: str) -> Predicate:
    return _Parser(text, properties, type_name).parse()


def _sort_value(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if isinstance(value, bool):
        return (1, value)
    if isinstance(value, int | Decimal):
        return (2, value)
    if isinstance(value, str):
        stamp = parse_ms_date(value)
        return (3, stamp) if stamp is not None else (4, value)
    return (5, str(value))


def order_key(text: str, properties: frozenset[str], type_name: str) -> list[tuple[list[str], bool]]:
    """``Name ASC, UpdatedDateUTC DESC`` → [(path, descending)]."""
    keys = []
    for part in text.split(","):
        words = part.split()
        if not words:
            continue
        path = words[0].split(".")
        if path[0] not in properties:
            raise QueryParseError(f"No property or field '{path[0]}' exists in type '{type_name}'")
        direction = words[1].upper() if len(words) > 1 else "ASC"
        if direction not in ("ASC", "DESC") or len(words) > 2:
            raise QueryParseError(f"Syntax error '{part.strip()}'")
        keys.append((path, direction == "DESC"))
    return keys


def sort_rows(rows: list, keys: list[tuple[list[str], bool]]) -> list:
    """Stable multi-key sort of store rows (``row.entity``), applied from the last key to the first."""
    rows = list(rows)
    for path, descending in reversed(keys):

        def value(row: Any, path: list[str] = path) -> tuple[int, Any]:
            current: Any = row.entity
            for name in path:
                current = current.get(name) if isinstance(current, dict) else None
            return _sort_value(current)

        rows.sort(key=value, reverse=descending)
    return rows
