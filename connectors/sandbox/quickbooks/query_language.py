"""Parser for the QBO query language (developer.intuit.com, "Query operations and syntax").

    SELECT * [, Property]... | COUNT(*) FROM Entity
        [WHERE Property Operator Value [AND Property Operator Value]...]
        [ORDERBY Property [ASC|DESC][, Property [ASC|DESC]]...]
        [STARTPOSITION n] [MAXRESULTS n]

Operators are ``= < > <= >= IN LIKE`` (LIKE supports only the % wildcard); values are 'quoted strings'
(with \\' escapes), numbers, true/false, or a parenthesised list for IN. There is no OR, no grouping,
no projection. Keywords are case-insensitive; the entity name is case-sensitive, as documented.
``ORDER BY`` (two words) is accepted too because python-quickbooks sends it.
"""

import re
from dataclasses import dataclass
from typing import Literal

TokenKind = Literal["word", "string", "number", "symbol", "end"]
ValueKind = Literal["string", "number", "bool"]

COMPARISONS = ("=", "<", ">", "<=", ">=")
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<string>'(?:\\.|[^'\\])*')
    | (?P<number>-?\d+(?:\.\d+)?(?![\w.]))
    | (?P<word>[A-Za-z_][A-Za-z0-9_.]*)
    | (?P<symbol><=|>=|!=|<>|[=<>*(),])
    """,
    re.VERBOSE,
)


class QuerySyntaxError(ValueError):
    """The statement does not follow the grammar (QBO answers these with a QueryParserError)."""


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str
    column: int  # 1-based, as QBO's parser reports positions

    def is_keyword(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


@dataclass(frozen=True)
class Value:
    kind: ValueKind
    value: str | float | bool


@dataclass(frozen=True)
class Condition:
    property: str
    operator: str  # one of COMPARISONS, "IN" or "LIKE"
    values: tuple[Value, ...]  # a single value except for IN


@dataclass(frozen=True)
class OrderKey:
    property: str
    descending: bool


@dataclass(frozen=True)
class Query:
    entity: str
    count_only: bool
    conditions: tuple[Condition, ...]
    order_by: tuple[OrderKey, ...]
    start_position: int | None
    max_results: int | None


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise QuerySyntaxError(
                f'Lexical error at line 1, column {position + 1}. Encountered: "{text[position]}"'
            )
        kind = match.lastgroup
        if kind != "space":
            tokens.append(Token(kind, match.group(), position + 1))  # type: ignore[arg-type]
        position = match.end()
    tokens.append(Token("end", "<EOF>", len(text) + 1))
    return tokens


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.current
        self.index += 1
        return token

    def fail(self, expected: str) -> QuerySyntaxError:
        token = self.current
        return QuerySyntaxError(
            f'Encountered " {token.text} " at line 1, column {token.column}. Was expecting: {expected}'
        )

    def expect_keyword(self, *words: str) -> Token:
        if not self.current.is_keyword(*words):
            raise self.fail(" | ".join(words))
        return self.advance()

    def expect_symbol(self, symbol: str) -> Token:
        if self.current.kind != "symbol" or self.current.text != symbol:
            raise self.fail(f'"{symbol}"')
        return self.advance()

    def expect_word(self, what: str) -> str:
        if self.current.kind != "word":
            raise self.fail(what)
        return self.advance().text

    def expect_integer(self, clause: str) -> int:
        token = self.current
        if token.kind != "number" or not token.text.isdigit():
            raise self.fail(f"an integer after {clause}")
        self.advance()
        return int(token.text)

    def parse(self) -> Query:
        self.expect_keyword("SELECT")
        count_only = False
        if self.current.is_keyword("COUNT"):
            self.advance()
            self.expect_symbol("(")
            self.expect_symbol("*")
            self.expect_symbol(")")
            count_only = True
        else:
            self.expect_symbol("*")
            # python-quickbooks asks for Item's Sku explicitly ("SELECT *, Sku FROM Item"); "*" already
            # returns every property, so the extra names change nothing.
            while self.current.kind == "symbol" and self.current.text == ",":
                self.advance()
                self.expect_word("a property name")
        self.expect_keyword("FROM")
        entity = self.expect_word("an entity name")

        conditions: list[Condition] = []
        if self.current.is_keyword("WHERE"):
            self.advance()
            conditions.append(self.condition())
            while self.current.is_keyword("AND"):
                self.advance()
                conditions.append(self.condition())
            if self.current.is_keyword("OR"):
                raise self.fail("AND (OR is not supported)")

        order_by: list[OrderKey] = []
        if self.current.is_keyword("ORDERBY", "ORDER"):
            if self.advance().text.upper() == "ORDER":
                self.expect_keyword("BY")
            order_by.append(self.order_key())
            while self.current.kind == "symbol" and self.current.text == ",":
                self.advance()
                order_by.append(self.order_key())

        start_position = max_results = None
        while self.current.is_keyword("STARTPOSITION", "MAXRESULTS"):
            keyword = self.advance().text.upper()
            if keyword == "STARTPOSITION" and start_position is None:
                start_position = self.expect_integer(keyword)
            elif keyword == "MAXRESULTS" and max_results is None:
                max_results = self.expect_integer(keyword)
            else:
                raise QuerySyntaxError(f"{keyword} given twice")

        if self.current.kind != "end":
            raise self.fail("<EOF>")
        return Query(entity, count_only, tuple(conditions), tuple(order_by), start_position, max_results)

    def condition(self) -> Condition:
        prop = self.expect_word("a property name")
        token = self.current
        if token.is_keyword("IN"):
            self.advance()
            self.expect_symbol("(")
            values = [self.value()]
            while self.current.kind == "symbol" and self.current.text == ",":
                self.advance()
                values.append(self.value())
            self.expect_symbol(")")
            return Condition(prop, "IN", tuple(values))
        if token.is_keyword("LIKE"):
            self.advance()
            return Condition(prop, "LIKE", (self.value(),))
        if token.kind == "symbol" and token.text in COMPARISONS:
            self.advance()
            return Condition(prop, token.text, (self.value(),))
        raise self.fail('"=" | "<" | ">" | "<=" | ">=" | "IN" | "LIKE"')

    def value(self) -> Value:
        token = self.current
        if token.kind == "string":
            self.advance()
            return Value("string", _unquote(token.text))
        if token.kind == "number":
            self.advance()
            return Value("number", float(token.text))
        if token.is_keyword("TRUE", "FALSE"):
            self.advance()
            return Value("bool", token.text.upper() == "TRUE")
        raise self.fail("a 'quoted string', a number, true or false")

    def order_key(self) -> OrderKey:
        prop = self.expect_word("a property name")
        descending = False
        if self.current.is_keyword("ASC", "DESC"):
            descending = self.advance().text.upper() == "DESC"
        return OrderKey(prop, descending)


def parse_query(text: str) -> Query:
    return _Parser(text).parse()
