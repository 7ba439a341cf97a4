"""The Stripe connector through the official SDK against the sandbox server (a real HTTP server started
by the session's `sandbox` fixture): full and incremental reads, changes from events, retries."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from connectors import registry
from connectors.base import AuthError, CursorExpiredError, Page, RetryPolicy, StreamCursor, TokenBucket
from connectors.stripe import (
    STREAMS,
    StripeAccountClient,
    StripeConfig,
    StripeCredentials,
    event_change,
    latest_changes,
)
from connectors.stripe.mapping import customer_to_row

FAST_RETRIES = RetryPolicy(max_attempts=12, base_delay=0.05, max_delay=0.5, max_retry_after=5.0)
DAY = 86_400


class Account:
    def __init__(self, sandbox, **spec: Any) -> None:
        self.sandbox = sandbox
        self.body = sandbox.new_stripe_account(**spec)
        self.account_id: str = self.body["account_id"]
        self.secret_key: str = self.body["secret_key"]

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = httpx.request(
            method, f"{self.sandbox.stripe}/_sandbox/accounts/{self.account_id}{path}", timeout=30, **kwargs
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def fault(self, kind: str, **spec: Any) -> None:
        httpx.post(
            f"{self.sandbox.stripe}/_sandbox/faults", json={"kind": kind, "realm": self.account_id, **spec}
        ).raise_for_status()

    def client(self, key: str | None = None, **options: Any) -> StripeAccountClient:
        options.setdefault("retry_policy", FAST_RETRIES)
        options.setdefault("timeout", 5.0)
        options.setdefault("bucket", TokenBucket.per_second(1000))
        config = StripeConfig(account_id=self.account_id, api_base_url=self.sandbox.stripe)
        credentials = StripeCredentials(api_key=key or self.secret_key, webhook_signing_secret="whsec_x")
        return StripeAccountClient(config, credentials, **options)


def _read(
    client: StripeAccountClient, stream: str, cursor: str | None = None
) -> tuple[list[Page], str | None]:
    pages = list(client.pages(stream, cursor))
    return pages, pages[-1].cursor


def _ids(pages: list[Page]) -> list[str]:
    return [row["id"] for page in pages for row in page.records]


def _after(pages: list[Page], cursor: str | None) -> list[str]:
    """Ids created after the cursor's second. The rest of an incremental read must be the objects of that
    very second, read again on purpose (`created[gte]`: none created later in it can be missed)."""
    boundary = int(StreamCursor.parse(cursor).value.timestamp()) if cursor else -1
    rows = [row for page in pages for row in page.records]
    assert all(row["created"] >= boundary for row in rows)
    return [row["id"] for row in rows if row["created"] > boundary]


def test_a_first_sync_reads_every_object_page_by_page(sandbox) -> None:
    account = Account(sandbox, customers=230, payments=20, spread_days=10)
    with account.client() as client:
        pages, cursor = _read(client, "customers")
    ids = _ids(pages)
    assert len(ids) == len(set(ids)) == 230
    assert [len(p.records) for p in pages] == [100, 100, 30] and [p.has_more for p in pages] == [
        True,
        True,
        False,
    ]
    # Until the walk ends no page moves the cursor; the last one carries the newest `created`.
    newest = max(row["created"] for page in pages for row in page.records)
    assert [p.cursor for p in pages[:-1]] == [None, None]
    assert StreamCursor.parse(cursor).value == datetime.fromtimestamp(newest, UTC)
    assert pages[0].records[0]["object"] == "customer" and "address" in pages[0].records[0]  # raw JSON
    by_path = account.admin("GET", "/stats")["by_path"]
    assert by_path["/v1/customers"] == {"200": 3}


def test_an_incremental_sync_sees_only_new_objects_and_changes_from_events(sandbox) -> None:
    day_ago = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    account = Account(sandbox, customers=40, payments=60, refund_share=0.2, spread_days=20, anchor=day_ago)
    with account.client() as client:
        first = {stream: _read(client, stream) for stream in STREAMS}
        cursors = {stream: cursor for stream, (_, cursor) in first.items()}
        old_customers = [row for page in first["customers"][0] for row in page.records]
        old_charge = next(row for page in first["charges"][0] for row in page.records if not row["refunded"])

        new_customer = account.admin(
            "POST", "/customers", json={"name": "Fresh Client Ltd", "email": "f@x.example"}
        )
        paid = account.admin("POST", "/payments", json={"amount": 9_900, "customer": new_customer["id"]})
        account.admin("POST", "/refunds", json={"charge": old_charge["id"], "amount": 100})
        account.admin("POST", f"/customers/{old_customers[5]['id']}", json={"name": "Renamed & Co"})
        client.delete_customer(old_customers[6]["id"])

        second = {stream: _read(client, stream, cursors[stream]) for stream in STREAMS}

    assert _after(second["customers"][0], cursors["customers"]) == [new_customer["id"]]
    assert _after(second["charges"][0], cursors["charges"]) == [paid["charge"]["id"]]
    assert _after(second["payment_intents"][0], cursors["payment_intents"]) == [paid["payment_intent"]["id"]]
    [refund_id] = _after(second["refunds"][0], cursors["refunds"])
    assert account.admin("GET", "")["counts"]["refunds"] == len(_ids(first["refunds"][0])) + 1
    first_event_ids = set(_ids(first["events"][0]))
    new_event_ids = set(_after(second["events"][0], cursors["events"]))
    assert len(new_event_ids) == 8 and not first_event_ids & new_event_ids
    events = [row for page in second["events"][0] for row in page.records if row["id"] in new_event_ids]
    changes = latest_changes(events)
    assert changes == {
        (c.stream, c.object_id): c for c in map(event_change, reversed(events)) if c is not None
    }
    assert changes[("charges", old_charge["id"])].payload["amount_refunded"] == 100
    assert changes[("refunds", refund_id)].payload["charge"] == old_charge["id"]
    assert changes[("customers", old_customers[5]["id"])].payload["name"] == "Renamed & Co"
    deleted = changes[("customers", old_customers[6]["id"])]
    assert deleted.deleted and deleted.payload["email"] == old_customers[6]["email"]
    for stream in STREAMS:  # cursors only move forward
        assert StreamCursor.parse(second[stream][1]) >= StreamCursor.parse(cursors[stream])


def test_a_429_storm_converges(sandbox) -> None:
    account = Account(sandbox, customers=60, spread_days=5)
    account.admin("PUT", "/limits", json={"read_per_second": 2})
    with account.client() as client:  # its own bucket allows far more than the account's 2/s
        started = time.monotonic()
        ids = [row["id"] for page in client.pages("customers", page_size=10) for row in page.records]
    assert len(set(ids)) == 60
    stats = account.admin("GET", "/stats")
    assert stats["throttled"] > 0 and stats["by_path"]["/v1/customers"]["200"] == 6
    assert time.monotonic() - started >= 2  # six pages at two a second


def test_the_client_bucket_keeps_under_the_published_limit(sandbox) -> None:
    account = Account(sandbox, customers=50, spread_days=5)
    account.admin("PUT", "/limits", json={"read_per_second": 5})
    with account.client(bucket=TokenBucket.per_second(4, burst=1)) as client:
        ids = _ids(list(client.pages("customers", page_size=5)))
    assert len(ids) == 50
    assert account.admin("GET", "/stats")["throttled"] == 0


def test_5xx_and_timeouts_are_retried(sandbox) -> None:
    account = Account(sandbox, customers=5, payments=5)
    account.fault("503", times=2, path_contains="/v1/charges")
    account.fault("timeout", times=1, delay_seconds=3, path_contains="/v1/refunds")
    with account.client(timeout=1.0, max_network_retries=1) as client:
        assert len(_ids(list(client.pages("charges")))) == 5
        assert list(client.pages("refunds"))[-1].has_more is False
    by_path = account.admin("GET", "/stats")["by_path"]
    assert by_path["/v1/charges"] == {"200": 1, "503": 2}
    assert by_path["/v1/refunds"]["200"] == 1


def test_a_bad_key_fails_fast_as_an_auth_error(sandbox) -> None:
    account = Account(sandbox, customers=1)
    with account.client(key="sk_test_51" + "n" * 40) as client:
        started = time.monotonic()
        with pytest.raises(AuthError) as raised:
            list(client.pages("customers"))
    assert raised.value.status_code == 401 and time.monotonic() - started < 2
    assert "n" * 40 not in str(raised.value)


def test_an_events_cursor_older_than_thirty_days_asks_for_a_full_refresh(sandbox) -> None:
    account = Account(sandbox, customers=1)
    stale = (datetime.now(UTC) - timedelta(days=31)).isoformat()
    with account.client() as client, pytest.raises(CursorExpiredError):
        list(client.pages("events", stale))


def test_a_deleted_customer_retrieves_as_the_stub(sandbox) -> None:
    account = Account(sandbox, customers=3)
    with account.client() as client:
        customer_id = _ids(list(client.pages("customers")))[0]
        assert client.delete_customer(customer_id)["deleted"] is True
        stub = client.retrieve("customers", customer_id)
    row = customer_to_row(stub)
    assert (row["external_id"], row["deleted"], row["email"]) == (customer_id, True, None)


def test_the_registry_builds_the_client_from_a_connection_body(sandbox) -> None:
    account = Account(sandbox, customers=2)
    body = sandbox.stripe_connection_body(account.body)
    spec = registry.get_connector("stripe")
    config = spec.config_model.model_validate(body["config"])
    credentials = spec.credentials_model.model_validate(body["credentials"])
    assert spec.streams == STREAMS and spec.oauth is None and spec.account_id(config) == account.account_id
    assert spec.form_schema()["credentials"]["properties"]["api_key"]["anyOf"][0]["format"] == "password"
    client = spec.build_client(config, credentials, on_tokens=lambda _: None)
    with client:
        assert len(_ids(list(client.streams()["customers"].pages(None)))) == 2
    with pytest.raises(AuthError, match="no API key"):
        spec.build_client(config, credentials.model_copy(update={"api_key": None}), on_tokens=lambda _: None)
    assert credentials.reads_per_second() == 25  # a test-mode key: Stripe's test-mode limit
