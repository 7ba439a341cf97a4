"""GET/POST /v3/company/{realm}/query: paging, COUNT, ORDERBY, filters, inactive customers, errors."""

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tests.sandbox.conftest import QboRealm


def test_paging_returns_every_active_customer_exactly_once(realm: QboRealm) -> None:
    seen: list[str] = []
    start = 1
    while True:
        response = realm.query(f"SELECT * FROM Customer STARTPOSITION {start} MAXRESULTS 25")
        assert response.status_code == 200
        page = response.json()["QueryResponse"]
        if "Customer" not in page:
            assert page == {}  # past the end QBO answers an empty QueryResponse object
            break
        assert page["startPosition"] == start
        assert page["maxResults"] == len(page["Customer"]) <= 25
        seen += [customer["Id"] for customer in page["Customer"]]
        start += 25
    assert len(seen) == len(set(seen)) == realm.count()
    assert all(row["Active"] for row in realm.rows("SELECT * FROM Customer MAXRESULTS 1000"))
    assert realm.count() < realm.count("WHERE Active IN (true, false)") == 120


def test_default_page_is_100_and_maxresults_is_capped_at_1000(new_realm) -> None:
    big = new_realm(customers=1100)
    assert len(big.rows("SELECT * FROM Customer WHERE Active IN (true, false)")) == 100
    capped = big.rows("SELECT * FROM Customer WHERE Active IN (true, false) MAXRESULTS 5000")
    assert len(capped) == 1000
    assert [int(row["Id"]) for row in capped] == list(range(1, 1001))  # default order is by Id


def test_query_response_shapes(realm: QboRealm) -> None:
    body = realm.query("SELECT * FROM Customer MAXRESULTS 2").json()
    assert set(body) == {"QueryResponse", "time"}
    datetime.fromisoformat(body["time"])
    customer = body["QueryResponse"]["Customer"][0]
    assert {"Id", "SyncToken", "DisplayName", "Active", "Balance", "CurrencyRef", "MetaData"} <= set(customer)
    assert customer["domain"] == "QBO" and customer["sparse"] is False
    assert customer["CurrencyRef"] == {"value": "USD", "name": "United States Dollar"}
    created = datetime.fromisoformat(customer["MetaData"]["CreateTime"])
    assert created.utcoffset() in (timedelta(hours=-8), timedelta(hours=-7))  # company time, US Pacific
    count = realm.query("SELECT COUNT(*) FROM Customer").json()
    assert set(count["QueryResponse"]) == {"totalCount"}


def test_count_matches_the_filter(realm: QboRealm) -> None:
    everyone = realm.rows("SELECT * FROM Customer WHERE Active IN (true, false) MAXRESULTS 1000")
    inactive = [row for row in everyone if not row["Active"]]
    assert inactive, "the seed should include inactive customers"
    assert realm.count("WHERE Active = false") == len(inactive)
    assert realm.count("WHERE Balance > 1000") == sum(
        1 for r in everyone if r["Active"] and r["Balance"] > 1000
    )


def test_orderby_sorts_case_insensitively_and_desc_reverses(realm: QboRealm) -> None:
    names = [
        row["DisplayName"] for row in realm.rows("SELECT * FROM Customer ORDERBY DisplayName MAXRESULTS 1000")
    ]
    assert names == sorted(names, key=str.casefold)
    backwards = realm.rows("SELECT * FROM Customer ORDER BY DisplayName DESC MAXRESULTS 1000")
    assert [row["DisplayName"] for row in backwards] == names[::-1]


def test_orderby_two_keys(realm: QboRealm) -> None:
    rows = realm.rows("SELECT * FROM Customer ORDERBY Balance DESC, Id MAXRESULTS 1000")
    keys = [(-row["Balance"], int(row["Id"])) for row in rows]
    assert keys == sorted(keys)


def test_last_updated_filter_compares_instants_whatever_the_offset(realm: QboRealm) -> None:
    rows = realm.rows("SELECT * FROM Customer ORDERBY MetaData.LastUpdatedTime MAXRESULTS 1000")
    stamps = [datetime.fromisoformat(row["MetaData"]["LastUpdatedTime"]) for row in rows]
    assert stamps == sorted(stamps)
    pivot = stamps[len(stamps) // 2]
    in_utc = pivot.astimezone(UTC)
    expected = {row["Id"] for row, stamp in zip(rows, stamps, strict=True) if stamp >= pivot}
    for written in (
        pivot.isoformat(),  # company offset, e.g. -08:00
        pivot.strftime("%Y-%m-%dT%H:%M:%S%z"),  # basic offset, e.g. -0800
        in_utc.isoformat(),  # +00:00
        in_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        in_utc.astimezone(timezone(timedelta(hours=5, minutes=30))).isoformat(),  # another zone entirely
    ):
        got = realm.rows(
            f"SELECT * FROM Customer WHERE Metadata.LastUpdatedTime >= '{written}' MAXRESULTS 1000"
        )
        assert {row["Id"] for row in got} == expected, written
    after = realm.rows(f"SELECT * FROM Customer WHERE MetaData.LastUpdatedTime > '{in_utc.isoformat()}'")
    assert {row["Id"] for row in after} == {
        r["Id"] for r, stamp in zip(rows, stamps, strict=True) if stamp > pivot
    }


def test_last_updated_range_with_both_bounds(realm: QboRealm) -> None:
    rows = realm.rows("SELECT * FROM Customer ORDERBY MetaData.LastUpdatedTime MAXRESULTS 1000")
    low, high = rows[10]["MetaData"]["LastUpdatedTime"], rows[20]["MetaData"]["LastUpdatedTime"]
    between = realm.rows(
        f"SELECT * FROM Customer WHERE MetaData.LastUpdatedTime >= '{low}' "
        f"AND MetaData.LastUpdatedTime < '{high}' ORDERBY MetaData.LastUpdatedTime MAXRESULTS 1000"
    )
    assert [row["Id"] for row in between] == [
        row["Id"] for row in rows if low <= row["MetaData"]["LastUpdatedTime"] < high
    ]


def test_string_filters_ignore_case_and_property_names_too(realm: QboRealm) -> None:
    target = realm.rows("SELECT * FROM Customer MAXRESULTS 1")[0]
    name = target["DisplayName"]
    assert [
        row["Id"] for row in realm.rows(f"SELECT * FROM Customer WHERE displayname = '{name.upper()}'")
    ] == [target["Id"]]
    word = name.split()[0][1:4]
    liked = realm.rows(f"SELECT * FROM Customer WHERE DisplayName LIKE '%{word.lower()}%' MAXRESULTS 1000")
    assert target["Id"] in {row["Id"] for row in liked}
    assert all(word.lower() in row["DisplayName"].lower() for row in liked)
    starts = realm.rows(f"SELECT * FROM Customer WHERE DisplayName LIKE '{name[:3]}%' MAXRESULTS 1000")
    assert starts and all(row["DisplayName"].lower().startswith(name[:3].lower()) for row in starts)


def test_in_and_equality_on_id(realm: QboRealm) -> None:
    ids = [row["Id"] for row in realm.rows("SELECT * FROM Customer MAXRESULTS 3")]
    got = realm.rows(f"SELECT * FROM Customer WHERE Id IN ('{ids[2]}', '{ids[0]}')")
    assert [row["Id"] for row in got] == sorted([ids[0], ids[2]], key=int)
    assert [row["Id"] for row in realm.rows(f"SELECT * FROM Customer WHERE Id = '{ids[1]}'")] == [ids[1]]


def test_quoted_apostrophes_round_trip(realm: QboRealm) -> None:
    created = realm.write({"DisplayName": "O'Brien & Sons Plumbing"})
    assert created.status_code == 200, created.text
    rows = realm.rows(r"SELECT * FROM Customer WHERE DisplayName = 'O\'Brien & Sons Plumbing'")
    assert [row["Id"] for row in rows] == [created.json()["Customer"]["Id"]]


def test_post_with_the_statement_as_the_body(realm: QboRealm) -> None:
    # python-quickbooks POSTs the statement with Content-Type: application/text.
    response = realm.client.post(
        f"{realm.api}/query",
        content="SELECT COUNT(*) FROM Customer",
        params={"minorversion": 75},
        headers={**realm.headers, "Content-Type": "application/text"},
    )
    assert response.status_code == 200
    assert response.json()["QueryResponse"]["totalCount"] == realm.count()


@pytest.mark.parametrize(
    ("statement", "code", "detail"),
    [
        ("SELECT * FROM Customer WHERE Foo = 'x'", "4001", "Property Foo not found for Entity Customer"),
        ("SELECT * FROM Customer ORDERBY Nope", "4001", "Property Nope not found"),
        (
            "SELECT * FROM Customer WHERE MetaData.LastUpdatedTime > 'yesterday'",
            "4001",
            "not a valid datetime",
        ),
        ("SELECT * FROM Customer WHERE Active = 'maybe'", "4001", "not a valid bool"),
        ("SELECT * FROM Customer WHERE Balance LIKE '1%'", "4001", "LIKE is not supported"),
        ("SELECT * FROM customer", "4000", "Invalid entity name"),
        ("SELECT * FROM Bill", "4001", "not emulated"),
        ("SELECT * FROM Customer WHERE Active = true OR Active = false", "4000", "QueryParserError"),
        ("SELEC * FROM Customer", "4000", "Encountered"),
        ("SELECT * FROM Customer MAXRESULTS 0", "4001", "MAXRESULTS"),
    ],
)
def test_bad_queries_are_validation_faults(realm: QboRealm, statement: str, code: str, detail: str) -> None:
    response = realm.query(statement)
    assert response.status_code == 400
    fault = response.json()["Fault"]
    assert fault["type"] == "ValidationFault"
    assert fault["Error"][0]["code"] == code
    assert detail in fault["Error"][0]["Detail"]


def test_a_write_between_pages_is_seen_by_the_next_page(realm: QboRealm) -> None:
    before = realm.count()
    first = realm.rows("SELECT * FROM Customer ORDERBY DisplayName MAXRESULTS 10")
    assert realm.write({"DisplayName": "AAAA First Alphabetically"}).status_code == 200
    assert realm.count() == before + 1
    again = realm.rows("SELECT * FROM Customer ORDERBY DisplayName MAXRESULTS 10")
    assert again[0]["DisplayName"] == "AAAA First Alphabetically"
    assert again[1:] == first[:9]
