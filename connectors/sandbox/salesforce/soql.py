"""The SOQL the sandbox understands (SOQL and SOSL Reference): one object, no relationships or aggregates.

    SELECT field, ... FROM Object
    [WHERE condition]            -- field op value, AND / OR / NOT, parentheses
    [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST], ...]
    [LIMIT n] [OFFSET n]

Values: 'strings' (with \\' escapes), numbers, true/false, null, dateTime literals without quotes
(`2026-11-01T09:00:00Z`, `…+01:00`, `….000+0000`) and date literals (`2026-11-01`). String equality is
case-insensitive, as in SOQL. Anything else answers MALFORMED_QUERY; an unknown field INVALID_FIELD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox.salesforce import errors
from connectors.sandbox.salesforce.schema import OBJECTS, parse_datetime

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2}))
      | (?P<date>\d{4}-\d{2}-\d{2})
      | (?P<number>-?\d+(?:\.\d+)?)
      | (?P<string>'(?:[^'\\]|\\.)*')
      | (?P<op><=|>=|!=|<>|=|<|>)
      | (?P<punct>[(),])
      | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    )""",
    re.VERBOSE,
)
KEYWORDS = {"SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "ORDER", "BY", "ASC", "DESC", "NULLS", "FIRST"}
KEYWORDS |= {"LAST", "LIMIT", "OFFSET", "NULL", "TRUE", "FALSE"}


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokenize(query: str) -> list[Token]:
    tokens, position = [], 0
    query = query.strip()
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None or match.end() == position:
            raise errors.malformed_query(f"unexpected token: '{query[position : position + 20]}'")
        kind = match.lastgroup or ""
        tokens.append(Token(kind, match.group(kind)))
        position = match.end()
    return tokens


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any  # str | float | bool | None | ("datetime", str) | ("date", str)


@dataclass(frozen=True)
class BoolOp:
    op: str  # AND | OR | NOT
    parts: tuple[Any, ...]


@dataclass
class Query:
    sobject: str
    fields: list[str]
    where: Any = None
    order_by: list[tuple[str, bool, bool]] = field(default_factory=list)  # (field, descending, nulls_last)
    limit: int | None = None
    offset: int = 0


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self, upper: bool = True) -> str | None:
        if self.i >= len(self.tokens):
            return None
        text = self.tokens[self.i].text
        return text.upper() if upper else text

    def take(self) -> Token:
        if self.i >= len(self.tokens):
            raise errors.malformed_query("unexpected end of query")
        self.i += 1
        return self.tokens[self.i - 1]

    def expect(self, word: str) -> None:
        token = self.take()
        if token.text.upper() != word:
            raise errors.malformed_query(f"expecting '{word}', unexpected token: '{token.text}'")

    def name(self) -> str:
        token = self.take()
        if token.kind != "word" or token.text.upper() in KEYWORDS:
            raise errors.malformed_query(f"unexpected token: '{token.text}'")
        return token.text

    def query(self) -> Query:
        self.expect("SELECT")
        fields = [self.name()]
        while self.peek() == ",":
            self.take()
            fields.append(self.name())
        self.expect("FROM")
        query = Query(self.name(), fields)
        if self.peek() == "WHERE":
            self.take()
            query.where = self.disjunction()
        if self.peek() == "ORDER":
            self.take()
            self.expect("BY")
            query.order_by.append(self.ordering())
            while self.peek() == ",":
                self.take()
                query.order_by.append(self.ordering())
        if self.peek() == "LIMIT":
            self.take()
            query.limit = self.integer()
        if self.peek() == "OFFSET":
            self.take()
            query.offset = self.integer()
        if self.peek() is not None:
            raise errors.malformed_query(f"unexpected token: '{self.peek(upper=False)}'")
        return query

    def integer(self) -> int:
        token = self.take()
        if token.kind != "number" or "." in token.text or token.text.startswith("-"):
            raise errors.malformed_query(f"expecting a non-negative integer, got '{token.text}'")
        return int(token.text)

    def ordering(self) -> tuple[str, bool, bool]:
        name = self.name()
        descending = False
        if self.peek() in ("ASC", "DESC"):
            descending = self.take().text.upper() == "DESC"
        nulls_last = descending  # SOQL: NULLS FIRST for ascending, NULLS LAST for descending
        if self.peek() == "NULLS":
            self.take()
            nulls_last = self.take().text.upper() == "LAST"
        return name, descending, nulls_last

    def disjunction(self) -> Any:
        parts = [self.conjunction()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.conjunction())
        return parts[0] if len(parts) == 1 else BoolOp("OR", tuple(parts))

    def conjunction(self) -> Any:
        parts = [self.unary()]
        while self.peek() == "AND":
            self.take()
            parts.append(self.unary())
        return parts[0] if len(parts) == 1 else BoolOp("AND", tuple(parts))

    def unary(self) -> Any:
        if self.peek() == "NOT":
            self.take()
            return BoolOp("NOT", (self.unary(),))
        if self.peek() == "(":
            self.take()
            inner = self.disjunction()
            self.expect(")")
            return inner
        name = self.name()
        op = self.take()
        if op.kind != "op":
            raise errors.malformed_query(f"unexpected token: '{op.text}'")
        return Condition(name, "!=" if op.text == "<>" else op.text, self.value())

    def value(self) -> Any:
        token = self.take()
        if token.kind == "string":
            return re.sub(r"\\(.)", r"\1", token.text[1:-1])
        if token.kind == "number":
            return float(token.text)
        if token.kind == "datetime":
            return ("datetime", token.text)
        if token.kind == "date":
            return ("date", token.text)
        upper = token.text.upper()
        if upper in ("TRUE", "FALSE"):
            return upper == "TRUE"
        if upper == "NULL":
            return None
        raise errors.malformed_query(f"unexpected token: '{token.text}'")


def parse(text: str) -> Query:
    query = _Parser(tokenize(text)).query()
    query.sobject = next((name for name in OBJECTS if name.lower() == query.sobject.lower()), query.sobject)
    schema = OBJECTS.get(query.sobject)
    if schema is None:
        raise errors.SalesforceError(
            400,
            "INVALID_TYPE",
            f"sObject type '{query.sobject}' is not supported. If you are attempting to use a custom "
            "object, be sure to append the '__c' after the entity name.",
        )
    # Canonical field names (SOQL names are case-insensitive).
    by_lower = {name.lower(): name for name in schema}

    def canonical(name: str) -> str:
        found = by_lower.get(name.lower())
        if found is None:
            raise errors.invalid_field(f"No such column '{name}' on entity '{query.sobject}'.")
        return found

    query.fields = [canonical(f) for f in query.fields]
    query.order_by = [(canonical(f), d, n) for f, d, n in query.order_by]

    def check(node: Any) -> Any:
        if isinstance(node, Condition):
            name = canonical(node.field)
            value = node.value
            kind = schema[name]
            if kind in ("datetime", "date") and isinstance(value, str):
                raise errors.SalesforceError(
                    400,
                    "INVALID_FIELD",
                    f"value of filter criterion for field '{name}' must be of type {kind} and should not be "
                    "enclosed in quotes",
                )
            if isinstance(value, tuple):
                if (value[0] == "datetime") != (kind == "datetime") or kind not in ("datetime", "date"):
                    raise errors.SalesforceError(
                        400,
                        "INVALID_FIELD",
                        f"value of filter criterion for field '{name}' must be of type "
                        f"{kind} and should not be enclosed in quotes",
                    )
                if value[0] == "datetime":
                    value = ("datetime", parse_datetime(value[1]))
            return Condition(name, node.op, value)
        return BoolOp(node.op, tuple(check(p) for p in node.parts))

    if query.where is not None:
        query.where = check(query.where)
    return query


def _comparable(record: dict[str, Any], name: str, value: Any) -> tuple[Any, Any]:
    actual = record.get(name)
    if isinstance(value, tuple):
        if value[0] == "datetime":
            return (parse_datetime(actual) if actual else None), value[1]
        return actual, value[1]
    if isinstance(value, str) and isinstance(actual, str) and name != "Id" and not name.endswith("Id"):
        return actual.lower(), value.lower()
    return actual, value


def matches(node: Any, record: dict[str, Any]) -> bool:
    if node is None:
        return True
    if isinstance(node, BoolOp):
        if node.op == "AND":
            return all(matches(p, record) for p in node.parts)
        if node.op == "OR":
            return any(matches(p, record) for p in node.parts)
        return not matches(node.parts[0], record)
    actual, wanted = _comparable(record, node.field, node.value)
    if node.op == "=":
        return actual == wanted
    if node.op == "!=":
        return actual != wanted
    if actual is None or wanted is None:
        return False
    try:
        return {"<": actual < wanted, "<=": actual <= wanted, ">": actual > wanted, ">=": actual >= wanted}[
            node.op
        ]
    except TypeError:
        return False


def sort(records: list[dict[str, Any]], order_by: list[tuple[str, bool, bool]]) -> list[dict[str, Any]]:
    result = list(records)
    for name, descending, nulls_last in reversed(order_by):
        present = [r for r in result if r.get(name) is not None]
        missing = [r for r in result if r.get(name) is None]
        present.sort(key=lambda r: r[name], reverse=descending)  # ISO datetimes in UTC sort as text
        result = present + missing if nulls_last else missing + present
    return result
