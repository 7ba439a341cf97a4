"""QuickBooksClient writes (customers), change data capture and the OAuth connect helpers, over real
HTTP against the QuickBooks sandbox through python-quickbooks and intuit-oauth. One company per test."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from connectors.base import AuthError, ConflictError, CursorExpiredError, PermanentError, StreamCursor
from connectors.quickbooks import STREAMS, QuickBooksCredentials, QuickBooksFault
from connectors.quickbooks.client import CDC_LOOKBACK
from connectors.quickbooks.mapping import customer_to_row
from connectors.quickbooks.oauth import authorization_url, exchange_code, revoke
from connectors.quickbooks.push_mapping import client_to_customer
from connectors.records import ClientDetails
from connectors.registry import get_connector

from .conftest import FAST_RETRIES, Company

pytestmark = pytest.mark.timeout(60)

REDIRECT_URI = "https://app.firmsync.example/connections/quickbooks/callback"


def client_details(name: str = "Hopper & Partners", **changes) -> ClientDetails:
    fields = {
        "name": name,
        "company_name": name,
        "email": "accounts@hopper.example",
        "phone": "(555) 010-2024",
        "address_line1": "1 Harbour Way",
        "city": "Arlington",
        "region": "VA",
        "postal_code": "22201",
        "active": True,
    }
    return ClientDetails(**(fields | changes))


# --------------------------------------------------------------------------- push: customers


def test_create_then_sparse_update_keeps_fields_the_app_does_not_own(make_company) -> None:
    company: Company = make_company(customers=2)
    with company.client() as client:
        created = client.upsert_customer(client_to_customer(client_details()))
        assert created["DisplayName"] == "Hopper & Partners" and created["SyncToken"] == "0"
        assert created["PrimaryEmailAddr"]["Address"] == "accounts@hopper.example"
        assert client.get("customers", created["Id"]) == created

        # The app no longer knows a phone number: a sparse update leaves QuickBooks' one alone.
        renamed = client_to_customer(client_details("Hopper, Partners & Co", phone=None))
        updated = client.upsert_customer(renamed, external_id=created["Id"], sync_token=created["SyncToken"])
        assert updated["Id"] == created["Id"]
        assert updated["DisplayName"] == "Hopper, Partners & Co"
        assert int(updated["SyncToken"]) == int(created["SyncToken"]) + 1
        assert updated["PrimaryPhone"] == created["PrimaryPhone"]
        assert client.count("customers") == 3


def test_a_stale_sync_token_raises_conflict_carrying_the_current_record(make_company) -> None:
    company: Company = make_company()
    with company.client() as client:
        created = client.upsert_customer(client_to_customer(client_details()))
        # Someone edits the customer in QuickBooks meanwhile.
        theirs = client.upsert_customer(
            {"Notes": "Prefers paper invoices"}, external_id=created["Id"], sync_token=created["SyncToken"]
        )
        with pytest.raises(ConflictError) as raised:
            client.upsert_customer(
                client_to_customer(client_details(email="new@hopper.example")),
                external_id=created["Id"],
                sync_token=created["SyncToken"],  # what the app read before their edit
            )
    conflict = raised.value
    assert conflict.current == theirs  # the vendor's record now, for the caller's resolution rule
    assert conflict.current["Notes"] == "Prefers paper invoices"
    assert "Stale Object" in conflict.message and created["Id"] in conflict.message
    assert not isinstance(conflict, PermanentError)  # a conflict is resolved, not dead-lettered
    assert company.outcomes("/customer").get("400") == 1  # refused once, not retried


def test_a_validation_fault_is_permanent_with_intuits_message(make_company) -> None:
    company: Company = make_company()
    with company.client() as client:
        client.upsert_customer(client_to_customer(client_details()))
        with pytest.raises(QuickBooksFault) as raised:
            # QuickBooks compares display names ignoring case.
            client.upsert_customer(client_to_customer(client_details("hopper & partners")))
    fault = raised.value
    assert isinstance(fault, PermanentError)
    assert fault.code == 6240 and "Duplicate Name Exists Error" in fault.message
    assert company.outcomes("/customer") == {"200": 1, "400": 1}


def test_a_request_id_makes_a_repeated_create_one_customer(make_company) -> None:
    company: Company = make_company()
    payload = client_to_customer(client_details())
    with company.client() as client:
        first = client.upsert_customer(payload, request_id="outbox-7f3a")
        again = client.upsert_customer(payload, request_id="outbox-7f3a")  # e.g. a step retried after a crash
        assert again == first
        assert client.count("customers") == 1


def test_an_update_needs_both_the_id_and_the_token(make_company) -> None:
    company: Company = make_company()
    with company.client() as client, pytest.raises(ValueError, match="SyncToken"):
        client.upsert_customer({"DisplayName": "x"}, external_id="5")
    assert company.outcomes("/customer") == {}


def test_server_failures_during_a_write_are_retried_with_the_same_request_id(make_company) -> None:
    company: Company = make_company()
    company.fault("503", path_contains="/customer", times=2)
    with company.client() as client:
        created = client.upsert_customer(client_to_customer(client_details()))
        assert client.count("customers") == 1
    assert created["DisplayName"] == "Hopper & Partners"
    assert company.outcomes("/customer") == {"503": 2, "200": 1}


# --------------------------------------------------------------------------- change data capture


def test_cdc_reports_the_changed_customers_and_a_resumable_cursor(make_company) -> None:
    company: Company = make_company(customers=60, anchor=datetime.now(UTC) - timedelta(days=2))
    since = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    touched = company.sandbox.admin(
        "POST", f"/realms/{company.realm_id}/customers/touch", json={"count": 3, "deactivate": 2}
    )
    with company.client() as client:
        changes = client.changes_since(["Customer"], since)
        again = client.changes_since(["customers"], changes.cursor)
    changed = {c["Id"] for c in changes.records["customers"]}
    assert changed == set(touched["touched"]) | set(touched["deactivated"])
    assert not changes.truncated and changes.deleted("customers") == []
    assert {c["Id"] for c in changes.records["customers"] if not customer_to_row(c)["active"]} == set(
        touched["deactivated"]
    )
    newest = max(StreamCursor.parse(c["MetaData"]["LastUpdatedTime"]) for c in changes.records["customers"])
    assert StreamCursor.parse(changes.cursor) >= newest
    assert again.records["customers"] == [] or StreamCursor.parse(again.cursor) >= StreamCursor.parse(
        changes.cursor
    )
    assert company.outcomes("/cdc") == {"200": 2}


def test_the_sync_engine_path_reads_lists_by_query_and_recent_transactions_by_cdc(make_company) -> None:
    company: Company = make_company(customers=30, anchor=datetime.now(UTC) - timedelta(days=1))
    company.sandbox.admin("POST", f"/realms/{company.realm_id}/customers/touch", json={"count": 4})
    recent = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    with company.client() as client:
        via_engine = [r["Id"] for page in client.stream_pages("customers", recent) for r in page.records]
        via_query = [r["Id"] for page in client.query_pages("customers", recent) for r in page.records]
        assert sorted(via_engine) == sorted(via_query) and len(via_engine) == 4
        assert company.outcomes("/cdc") == {}  # a list entity never costs a CDC call
        (page,) = list(client.stream_pages("invoices", recent))
        assert page.records == []
    assert company.outcomes("/cdc") == {"200": 1}  # recent transactions: one CDC call

    # A month later the cursor is beyond CDC: customers are never deleted, so the query still suffices…
    later = datetime.now(UTC) + CDC_LOOKBACK
    rotated = company.credentials(refresh_token=company.tokens[-1].refresh_token)
    with company.client(rotated, now=lambda: later) as client:
        assert client.cdc_reaches(recent) is False
        old = [r["Id"] for page in client.stream_pages("customers", recent) for r in page.records]
        assert sorted(old) == sorted(via_query)
        with pytest.raises(CursorExpiredError):
            client.changes_since(["customers"], recent)
        # …but transactions can be deleted, which only a full refresh notices: the engine's fallback.
        for stream in ("invoices", "payments", "credit_memos"):
            with pytest.raises(CursorExpiredError):
                next(iter(client.stream_pages(stream, recent)))
    assert company.outcomes("/cdc") == {"200": 1}  # the expired cursors cost no request


def test_streams_cover_the_registry_and_a_full_read_uses_the_query(make_company) -> None:
    company: Company = make_company(customers=12)
    spec = get_connector("quickbooks")
    with company.client() as client:
        streams = client.streams()
        assert tuple(streams) == spec.streams == STREAMS
        stream = streams["customers"]
        assert stream.primary_key == ("Id",)
        assert sum(len(p.records) for p in stream.pages(None)) == client.count("customers") == 12
    assert company.outcomes("/cdc") == {}


# --------------------------------------------------------------------------- OAuth connect flow


def test_connect_flow_authorize_exchange_use_and_revoke(make_company) -> None:
    company: Company = make_company(customers=3)
    config = company.config()
    url = authorization_url(config, REDIRECT_URI, state="csrf-4f1c")
    parsed = urlparse(url)
    query = parse_qs(parsed.query)
    assert url.startswith(f"{company.sandbox.quickbooks_url}/connect/oauth2?")  # from the discovery document
    assert query["client_id"] == [company.client_id] and query["response_type"] == ["code"]
    assert query["scope"] == ["com.intuit.quickbooks.accounting"] and query["state"] == ["csrf-4f1c"]
    assert query["redirect_uri"] == [REDIRECT_URI] and "code_challenge" not in query  # Intuit: no PKCE

    # The user approves (the sandbox consents at once; realmId picks this test's company).
    consent = httpx.get(f"{url}&realmId={company.realm_id}", follow_redirects=False, timeout=10)
    assert consent.status_code == 302
    callback = parse_qs(urlparse(consent.headers["location"]).query)
    assert callback["state"] == ["csrf-4f1c"] and callback["realmId"] == [company.realm_id]

    tokens = exchange_code(config, company.client_secret, callback["code"][0], company.realm_id, REDIRECT_URI)
    assert tokens.access_expires_at is not None and tokens.access_expires_at > datetime.now(UTC)
    assert tokens.refresh_expires_at is not None and tokens.refresh_expires_at > tokens.access_expires_at
    connected = QuickBooksCredentials.from_tokens(company.client_secret, tokens)
    with company.client(connected) as client:
        assert client.count("customers") == 3

    # An authorization code is single use.
    with pytest.raises(AuthError, match="code exchange rejected"):
        exchange_code(config, company.client_secret, callback["code"][0], company.realm_id, REDIRECT_URI)

    revoke(config, company.client_secret, tokens.refresh_token)
    disconnected = connected.model_copy(update={"access_token": None})
    with company.client(disconnected) as client, pytest.raises(AuthError):
        client.count("customers")


def test_connect_helpers_refuse_what_they_cannot_use(make_company) -> None:
    company: Company = make_company()
    config = company.config()
    with pytest.raises(ValueError, match="state"):
        authorization_url(config, REDIRECT_URI, state="")
    with pytest.raises(ValueError, match="not an Intuit OAuth scope"):
        authorization_url(config.model_copy(update={"scopes": ("accounting.everything",)}), REDIRECT_URI, "s")
    with pytest.raises(AuthError, match="code exchange rejected"):
        exchange_code(config, "not-the-secret", "some-code", company.realm_id, REDIRECT_URI)


def test_retry_policy_reaches_the_oauth_helpers(make_company) -> None:
    company: Company = make_company()
    company.fault("503", path_contains="/oauth2/v1/tokens/revoke", times=1)
    # revoke() uses the default policy; one 503 costs one backoff (about a second) and then succeeds.
    revoke(company.config(), company.client_secret, company.refresh_token)
    with company.client() as client, pytest.raises(AuthError):
        client.count("customers")
    assert FAST_RETRIES.max_attempts > 1


def test_a_429_storm_on_writes_is_waited_out(make_company) -> None:
    company: Company = make_company()
    company.fault("429", path_contains="/customer", times=3, retry_after=0)
    with company.client() as client:
        created = client.upsert_customer(client_to_customer(client_details()))
        assert client.count("customers") == 1
    assert created["Id"]
    assert company.outcomes("/customer") == {"429": 3, "200": 1}
