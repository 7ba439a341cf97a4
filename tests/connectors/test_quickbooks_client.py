"""QuickBooksClient against the QuickBooks sandbox over real HTTP, through python-quickbooks and
intuit-oauth. Every test gets its own company (realm), so counters and faults never mix."""

from __future__ import annotations

import logging
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from connectors.base import (
    AuthError,
    PermanentError,
    RateLimitedError,
    RetryPolicy,
    StreamCursor,
    TokenSet,
    TransientError,
)
from connectors.quickbooks import QuickBooksClient, customer_to_row
from connectors.registry import get_connector

from .conftest import FAST_RETRIES, CountingBucket

pytestmark = pytest.mark.timeout(60)


def sync_all(
    client: QuickBooksClient, since: str | None = None, page_size: int = 1000
) -> tuple[list[dict], str]:
    records: list[dict] = []
    cursor = since
    for page in client.customer_pages(since, page_size=page_size):
        records.extend(page.records)
        cursor = page.cursor
    assert cursor is not None
    return records, cursor


# --------------------------------------------------------------------------- syncing


def test_full_sync_pages_every_customer_exactly_once_and_matches_the_count(make_company) -> None:
    company = make_company(customers=300)
    bucket = CountingBucket()
    with company.client(bucket=bucket) as client:
        pages = list(client.customer_pages(None, page_size=40))
        total, active = client.count_customers(), client.count_customers(include_inactive=False)

    ids = [record["Id"] for page in pages for record in page.records]
    assert len(ids) == len(set(ids)) == total == 300
    assert len(pages) >= 8 and pages[-1].has_more is False and all(p.has_more for p in pages[:-1])
    cursors = [StreamCursor.parse(p.cursor) for p in pages if p.cursor]
    assert cursors == sorted(cursors)
    rows = [customer_to_row(record) for page in pages for record in page.records]
    # Every page's cursor is the newest record it passed; the last is at least that, and no later than
    # QuickBooks' own time at the answer less the settle minute (the seeded records are days old).
    assert cursors[-2].value <= max(row["updated_at"] for row in rows) <= cursors[-1].value
    assert cursors[-1].value - max(row["updated_at"] for row in rows) > timedelta(hours=1)
    inactive = [row for row in rows if not row["active"]]
    assert inactive, "QBO hides inactive customers unless asked; the sync must include them"
    assert len(inactive) == total - active
    # Every HTTP request went through the bucket (the discovery document is not a realm request).
    assert bucket.acquired == company.stats()["total"] + 1


def test_incremental_sync_returns_just_the_changed_customers(make_company) -> None:
    company = make_company(customers=120, anchor=datetime.now(UTC) - timedelta(days=1))
    with company.client() as client:
        first, cursor = sync_all(client, page_size=50)
        at_cursor = {
            r["Id"]
            for r in first
            if StreamCursor.parse(r["MetaData"]["LastUpdatedTime"]).serialise() == cursor
        }

        touched = company.sandbox.admin(
            "POST", f"/realms/{company.realm_id}/customers/touch", json={"count": 4, "deactivate": 2}
        )
        created = (
            httpx.post(
                f"{company.sandbox.quickbooks_url}/v3/company/{company.realm_id}/customer",
                params={"minorversion": 75},
                headers={
                    "Authorization": f"Bearer {company.tokens[-1].access_token}",
                    "Accept": "application/json",
                },
                json={
                    "DisplayName": "Newly Signed Client LLP",
                    "PrimaryEmailAddr": {"Address": "hello@newclient.example"},
                },
                timeout=10,
            )
            .raise_for_status()
            .json()["Customer"]
        )

        changed, next_cursor = sync_all(client, since=cursor, page_size=50)

    expected = set(touched["touched"]) | set(touched["deactivated"]) | {created["Id"]}
    assert len(expected) == 7
    got = {r["Id"] for r in changed}
    assert expected <= got
    assert got - expected <= at_cursor  # `>=` re-reads only the cursor's own second
    by_id = {r["Id"]: customer_to_row(r) for r in changed}
    assert all(by_id[i]["active"] is False for i in touched["deactivated"])
    assert all(by_id[i]["active"] is True for i in touched["touched"])
    assert StreamCursor.parse(next_cursor) > StreamCursor.parse(cursor)


def test_customers_sharing_a_timestamp_beyond_a_page_are_all_synced(make_company) -> None:
    company = make_company(customers=40, anchor=datetime.now(UTC) - timedelta(days=1))
    # One admin call edits 25 customers at the same instant: a tie 2.5 pages long.
    touched = company.sandbox.admin("POST", f"/realms/{company.realm_id}/customers/touch", json={"count": 25})
    with company.client() as client:
        records, _ = sync_all(client, page_size=10)
    ids = [r["Id"] for r in records]
    assert len(ids) == len(set(ids)) == 40
    stamps = Counter(r["MetaData"]["LastUpdatedTime"] for r in records if r["Id"] in set(touched["touched"]))
    assert stamps.most_common(1)[0][1] > 10  # the precondition: more rows at one timestamp than a page


# --------------------------------------------------------------------------- tokens


def test_refresh_rotates_the_refresh_token_and_the_old_one_is_then_rejected(make_company) -> None:
    company = make_company(customers=3)
    with company.client() as client:  # no access token yet: the client must refresh first
        assert client.count_customers() == 3
    assert len(company.tokens) == 1
    rotated = company.tokens[0]
    assert rotated.refresh_token != company.refresh_token
    assert rotated.access_expires_at is not None and rotated.access_expires_at > datetime.now(UTC)
    assert rotated.refresh_expires_at is not None and rotated.refresh_expires_at > rotated.access_expires_at

    with company.client() as stale, pytest.raises(AuthError) as raised:  # the pre-rotation refresh token
        stale.count_customers()
    assert company.refresh_token not in str(raised.value) and "re-authorised" in str(raised.value)

    with company.client(company.credentials(refresh_token=rotated.refresh_token)) as fresh:
        assert fresh.count_customers() == 3
    assert company.tokens[-1].refresh_token not in (rotated.refresh_token, company.refresh_token)


def test_on_tokens_runs_before_the_new_access_token_is_used(make_company) -> None:
    company = make_company(customers=1)
    seen_by_server_before_persist: list[dict] = []

    def persist(tokens: TokenSet) -> None:
        seen_by_server_before_persist.append(company.outcomes("/query"))
        company.tokens.append(tokens)

    client = QuickBooksClient(
        company.config(), company.credentials(), on_tokens=persist, retry_policy=FAST_RETRIES
    )
    with client:
        client.count_customers()
    assert seen_by_server_before_persist == [{}]  # no API request had been made yet
    assert company.outcomes("/query") == {"200": 1}


def test_a_401_mid_run_refreshes_once_and_carries_on(make_company) -> None:
    company = make_company(customers=2)
    credentials = company.credentials(
        access_token="not-a-token-the-server-issued",
        access_token_expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    with company.client(credentials) as client:
        assert client.count_customers() == 2
    assert len(company.tokens) == 1
    assert company.outcomes("/query") == {"401": 1, "200": 1}
    assert company.outcomes("/tokens/bearer") == {"200": 1}


def test_an_access_token_near_expiry_is_refreshed_before_use(make_company) -> None:
    company = make_company(customers=2)
    credentials = company.credentials(
        access_token=company.access_token, access_token_expires_at=datetime.now(UTC) + timedelta(seconds=30)
    )
    with company.client(credentials) as client:
        assert client.count_customers() == 2
    assert len(company.tokens) == 1
    assert company.outcomes("/query") == {"200": 1}


def test_a_valid_access_token_is_used_without_refreshing(make_company) -> None:
    company = make_company(customers=2)
    credentials = company.credentials(
        access_token=company.access_token, access_token_expires_at=datetime.now(UTC) + timedelta(minutes=50)
    )
    with company.client(credentials) as client:
        assert client.count_customers() == 2
    assert company.tokens == []
    assert company.outcomes("/tokens/bearer") == {}


def test_revoked_company_raises_auth_error_without_retries(make_company) -> None:
    company = make_company(customers=2)
    credentials = company.credentials(
        access_token=company.access_token, access_token_expires_at=datetime.now(UTC) + timedelta(minutes=50)
    )
    bucket = CountingBucket()
    with company.client(credentials, bucket=bucket) as client:
        assert client.count_customers() == 2
        assert bucket.acquired == 1
        company.sandbox.admin("POST", f"/realms/{company.realm_id}/revoke")
        with pytest.raises(AuthError):
            client.count_customers()
    # One rejected query, then the discovery document and one rejected refresh: nothing retried.
    assert bucket.acquired == 1 + 3
    assert company.outcomes("/query") == {"200": 1, "401": 1}
    assert company.tokens == []


def test_secrets_never_reach_the_logs(make_company, caplog: pytest.LogCaptureFixture) -> None:
    company = make_company(customers=1)
    caplog.set_level(logging.DEBUG)
    credentials = company.credentials(
        access_token="stale-access-token-value",
        access_token_expires_at=datetime.now(UTC) + timedelta(hours=1),
    )
    with company.client(credentials) as client:
        client.count_customers()
        assert company.client_secret not in repr(client)
    secrets = [
        company.client_secret,
        company.refresh_token,
        "stale-access-token-value",
        company.tokens[0].access_token,
        company.tokens[0].refresh_token,
    ]
    assert caplog.records, "expected DEBUG logs from requests/urllib3 to check"
    for secret in secrets:
        assert secret not in caplog.text


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize(
    ("kind", "times", "extra"),
    [("500", 2, {}), ("503", 2, {}), ("drop", 2, {}), ("timeout", 1, {"delay_seconds": 3})],
)
def test_server_failures_are_retried_until_the_call_succeeds(
    make_company, kind: str, times: int, extra
) -> None:
    company = make_company(customers=5)
    company.fault(kind, path_contains="/query", times=times, **extra)
    with company.client(timeout=1.0) as client:
        assert client.count_customers() == 5
    outcomes = company.outcomes("/query")
    assert outcomes.get("200") == 1
    assert sum(outcomes.values()) == times + 1


def test_persistent_server_failure_gives_up_after_the_policy_attempts(make_company) -> None:
    company = make_company(customers=1)
    company.fault("503", path_contains="/query", times=20)
    with company.client() as client, pytest.raises(TransientError) as raised:
        client.count_customers()
    assert raised.value.status_code == 503
    assert company.outcomes("/query") == {"503": FAST_RETRIES.max_attempts}


def test_429_waits_at_least_retry_after(make_company) -> None:
    company = make_company(customers=1)
    company.fault("429", path_contains="/query", times=1, retry_after=1)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, sleep=sleep)
    with company.client(retry_policy=policy) as client:
        started = time.monotonic()
        assert client.count_customers() == 1
        elapsed = time.monotonic() - started
    assert waits and waits[0] >= 1.0
    assert elapsed >= 1.0
    assert company.outcomes("/query") == {"429": 1, "200": 1}


def test_the_published_limit_answers_429_with_retry_after(make_company) -> None:
    company = make_company(customers=1)
    company.sandbox.admin("PUT", f"/realms/{company.realm_id}/limits", json={"requests_per_minute": 3})
    # A Retry-After beyond the policy's patience is handed to the caller instead of slept through.
    impatient = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, max_retry_after=0.5)
    with company.client(retry_policy=impatient) as client, pytest.raises(RateLimitedError) as raised:
        for _ in range(6):
            client.count_customers()
    assert raised.value.retry_after is not None and raised.value.retry_after > 0.5
    assert company.outcomes("/query").get("429") == 1


def test_invalid_query_is_permanent_and_not_retried(make_company) -> None:
    company = make_company(customers=1)
    with company.client() as client, pytest.raises(PermanentError) as raised:
        client.query("SELECT * FROM Nope")
    assert "4000" in str(raised.value)
    assert company.outcomes("/query") == {"400": 1}


def test_registry_builds_a_working_client(make_company) -> None:
    company = make_company(customers=4)
    spec = get_connector("quickbooks")
    config = spec.config_model.model_validate(company.config().model_dump())
    client = spec.build_client(
        config, company.credentials(), on_tokens=company.tokens.append, retry_policy=FAST_RETRIES
    )
    with client:
        assert client.count_customers() == 4
        stream = client.streams()["customers"]
        assert stream.name in spec.streams and stream.primary_key == ("Id",)
        assert sum(len(p.records) for p in stream.pages(None)) == 4
