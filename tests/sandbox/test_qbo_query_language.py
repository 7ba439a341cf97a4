"""The QBO query grammar: what parses, into what, and what is a syntax error."""

import pytest

from connectors.sandbox.quickbooks.query_language import (
    Condition,
    OrderKey,
    QuerySyntaxError,
    Value,
    parse_query,
)


def test_select_star_with_every_clause() -> None:
    query = parse_query(
        "SELECT * FROM Customer WHERE Metadata.LastUpdatedTime >= '2026-01-05T10:11:12-08:00' "
        "AND Active IN (true, false) AND Balance > 10.5 ORDERBY MetaData.LastUpdatedTime DESC, Id "
        "STARTPOSITION 101 MAXRESULTS 50"
    )
    assert query.entity == "Customer"
    assert not query.count_only
    assert query.conditions == (
        Condition("Metadata.LastUpdatedTime", ">=", (Value("string", "2026-01-05T10:11:12-08:00"),)),
        Condition("Active", "IN", (Value("bool", True), Value("bool", False))),
        Condition("Balance", ">", (Value("number", 10.5),)),
    )
    assert query.order_by == (OrderKey("MetaData.LastUpdatedTime", True), OrderKey("Id", False))
    assert (query.start_position, query.max_results) == (101, 50)


def test_keywords_are_case_insensitive_and_order_by_may_be_two_words() -> None:
    # python-quickbooks' Customer.all() sends "ORDER BY"; its filter() sends Python's "True".
    query = parse_query("select count(*) from Customer where Active = True order by DisplayName asc")
    assert query.count_only
    assert query.conditions == (Condition("Active", "=", (Value("bool", True),)),)
    assert query.order_by == (OrderKey("DisplayName", False),)


def test_quoted_values_unescape_backslash_quotes() -> None:
    query = parse_query(
        r"SELECT * FROM Customer WHERE DisplayName = 'O\'Brien & Sons' AND GivenName LIKE '%a%'"
    )
    assert query.conditions[0].values == (Value("string", "O'Brien & Sons"),)
    assert query.conditions[1] == Condition("GivenName", "LIKE", (Value("string", "%a%"),))


def test_in_list_of_quoted_ids_and_paging_in_either_order() -> None:
    query = parse_query("SELECT * FROM Customer WHERE Id IN ('1', '2','3') MAXRESULTS 10 STARTPOSITION 5")
    assert [value.value for value in query.conditions[0].values] == ["1", "2", "3"]
    assert (query.start_position, query.max_results) == (5, 10)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * Customer",
        "SELECT FROM Customer",
        "SELECT * FROM Customer WHERE Active = true OR Active = false",
        "SELECT * FROM Customer WHERE DisplayName = 'unterminated",
        "SELECT * FROM Customer WHERE DisplayName != 'x'",
        "SELECT * FROM Customer WHERE Balance BETWEEN 1 AND 2",
        "SELECT * FROM Customer MAXRESULTS 10 MAXRESULTS 20",
        "SELECT * FROM Customer STARTPOSITION -1",
        "SELECT * FROM Customer ORDERBY",
        "SELECT * FROM Customer extra",
        "SELECT Id, DisplayName FROM Customer",
        "",
    ],
)
def test_syntax_errors(statement: str) -> None:
    with pytest.raises(QuerySyntaxError):
        parse_query(statement)


def test_syntax_error_reports_the_offending_token_and_column() -> None:
    with pytest.raises(QuerySyntaxError, match=r'Encountered " frm " at line 1, column 10'):
        parse_query("SELECT * frm Customer")
