"""XeroClient against the Xero sandbox over real HTTP, through xero-python. Every test gets its own
organisation (tenant), so counters, limits and faults never mix."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from connectors.base import (
    AuthError,
    ConflictError,
    PermanentError,
    RateLimitedError,
    RetryPolicy,
    StreamCursor,
    TokenBucket,
    TokenSet,
    TransientError,
)
from connectors.registry import get_connector
from connectors.xero import XeroApp, XeroClient, XeroConfig, XeroCredentials, oauth
from connectors.xero.mapping import (
    contact_to_row,
    credit_note_to_row,
    invoice_line_rows,
    invoice_to_row,
    parse_xero_datetime,
    payment_to_row,
)

from .conftest import XeroSandbox

pytestmark = pytest.mark.timeout(60)

# Fast, but the same code path as production: only the numbers differ.
FAST_RETRIES = RetryPolicy(max_attempts=4, base_delay=0.05, max_delay=0.2, max_retry_after=5.0)
CALLBACK = "https://app.firmsync.example/connections/xero/callback"


def fast_bucket() -> TokenBucket:
    return TokenBucket(rate_per_second=10_000, capacity=10_000)


@dataclass
class Org:
    """One sandbox organisation plus what its owner got from the OAuth consent."""

    sandbox: XeroSandbox
    tenant_id: str
    client_id: str
    client_secret: str
    refresh_token: str
    access_token: str
    tokens: list[TokenSet] = field(default_factory=list)

    def app(self) -> XeroApp:
        x = self.sandbox.xero_url
        return XeroApp(
            client_id=self.client_id,
            accounting_url=f"{x}/api.xro/2.0",
            connections_url=f"{x}/connections",
            authorize_url=f"{x}/identity/connect/authorize",
            token_url=f"{x}/identity/connect/token",
            revocation_url=f"{x}/identity/connect/revocation",
        )

    def config(self, **overrides: Any) -> XeroConfig:
        return XeroConfig(**self.app().model_dump(), tenant_id=self.tenant_id, **overrides)

    def credentials(self, **overrides: Any) -> XeroCredentials:
        fields: dict[str, Any] = {"client_secret": self.client_secret, "refresh_token": self.refresh_token}
        fields.update(overrides)
        return XeroCredentials(**fields)

    def live_credentials(self) -> XeroCredentials:
        """The access token from the consent, still valid: no refresh needed."""
        return self.credentials(
            access_token=self.access_token, expires_at=datetime.now(UTC) + timedelta(minutes=25)
        )

    def client(self, credentials: XeroCredentials | None = None, **options: Any) -> XeroClient:
        options.setdefault("retry_policy", FAST_RETRIES)
        options.setdefault("timeout", 5.0)
        options.setdefault("bucket", fast_bucket())
        config = options.pop("config", None) or self.config()
        return XeroClient(config, credentials or self.credentials(), on_tokens=self.tokens.append, **options)

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.sandbox.admin(method, f"/tenants/{self.tenant_id}{path}", **kwargs)

    def outcomes(self, path_suffix: str) -> dict[str, int]:
        by_path = self.admin("GET", "/stats")["by_path"]
        return next((v for k, v in by_path.items() if k.endswith(path_suffix)), {})

    def fault(self, kind: str, **spec: Any) -> None:
        self.sandbox.admin("POST", "/faults", json={"kind": kind, "realm": self.tenant_id, **spec})


@pytest.fixture
def make_org(xero_sandbox: XeroSandbox) -> Callable[..., Org]:
    def make(**spec: Any) -> Org:
        grant = xero_sandbox.admin("POST", "/tenants", json={"seed": 7, **spec})
        return Org(
            sandbox=xero_sandbox,
            tenant_id=grant["tenant_id"],
            client_id=grant["client_id"],
            client_secret=grant["client_secret"],
            refresh_token=grant["refresh_token"],
            access_token=grant["access_token"],
        )

    return make


def sync(client: XeroClient, stream: str, since: str | None = None) -> tuple[list[dict], str | None]:
    records: list[dict] = []
    cursor = since
    for page in client.pages(stream, since):
        records.extend(page.records)
        cursor = page.cursor
    return records, cursor


def invoice_body(contact_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact_id},
        "Date": "2026-11-02",
        "DueDate": "2026-12-02",
        "LineItems": [
            {
                "Description": "Monthly bookkeeping",
                "Quantity": 2,
                "UnitAmount": 450,
                "AccountCode": "210",
                "TaxType": "NONE",
            }
        ],
        "Status": "AUTHORISED",
        **fields,
    }


# --------------------------------------------------------------------------- pulling


def test_every_stream_syncs_completely_and_maps(make_org) -> None:
    org = make_org(contacts=130, invoices=120, credit_notes=6)
    with org.client(org.live_credentials()) as client:
        synced = {name: sync(client, name) for name in client.streams()}
        counts = {name: client.count(name) for name in client.streams()}

    for name, (records, cursor) in synced.items():
        ids = [r[client.streams()[name].primary_key[0]] for r in records]
        assert len(ids) == len(set(ids)), f"{name}: a record emitted twice"
        assert counts[name] == len(ids), name
        if records:
            newest = max(parse_xero_datetime(r["UpdatedDateUTC"]) for r in records)
            assert cursor == StreamCursor(newest).serialise(), name
    assert len(synced["contacts"][0]) >= 130  # ARCHIVED contacts are included (includeArchived)
    assert len(synced["invoices"][0]) >= 120 and synced["credit_notes"][0] and synced["items"][0]

    invoices = synced["invoices"][0]
    assert all(invoice_line_rows(i) for i in invoices if i["Status"] not in ("DELETED",)), (
        "paged invoices carry their line items"
    )
    assert all(invoice_to_row(i)["contact_id"] for i in invoices)
    payments = [payment_to_row(p) for p in synced["payments"][0]]
    assert payments and all(p["invoice_id"] or p["credit_note_id"] for p in payments)
    invoice_ids = {i["InvoiceID"] for i in invoices}
    credit_note_ids = {c["CreditNoteID"] for c in synced["credit_notes"][0]}
    assert {p["invoice_id"] for p in payments if p["invoice_id"]} <= invoice_ids
    assert {p["credit_note_id"] for p in payments if p["credit_note_id"]} <= credit_note_ids
    assert all(contact_to_row(c)["updated_at"] for c in synced["contacts"][0])
    assert all(credit_note_to_row(c)["total"] is not None for c in synced["credit_notes"][0])
    # Invoices were read a page (100) at a time.
    assert org.outcomes("/api.xro/2.0/Invoices").get("200", 0) >= 2


def test_incremental_sync_resumes_from_the_cursor_with_just_the_changes(make_org) -> None:
    org = make_org(contacts=40)
    with org.client(org.live_credentials()) as client:
        first, cursor = sync(client, "contacts")
        assert cursor is not None
        time.sleep(1.1)  # later edits land in a later second
        touched = org.admin("POST", "/touch", json={"contacts": 4, "seed": 3})["contacts"]
        created = client.upsert_contact({"Name": "Newly Signed Client LLP", "EmailAddress": "hi@new.example"})
        changed, next_cursor = sync(client, "contacts", cursor)

    got = {c["ContactID"] for c in changed}
    assert set(touched) | {created["ContactID"]} <= got
    at_cursor = {
        c["ContactID"]
        for c in first
        if StreamCursor(parse_xero_datetime(c["UpdatedDateUTC"])).serialise() == cursor
    }
    assert got - set(touched) - {created["ContactID"]} <= at_cursor  # only the cursor's own records again
    assert StreamCursor.parse(next_cursor) > StreamCursor.parse(cursor)


def test_more_records_in_one_second_than_fit_in_a_page(make_org) -> None:
    org = make_org(contacts=300)
    with org.client(org.live_credentials()) as client:
        _, cursor = sync(client, "contacts")
        time.sleep(1.1)
        # One admin call edits 250 contacts at once; the sandbox stamps them a millisecond apart, so at
        # least one second holds more of them than a page (100) does.
        touched = set(org.admin("POST", "/touch", json={"contacts": 250, "seed": 5})["contacts"])
        changed, _ = sync(client, "contacts", cursor)
    ids = [c["ContactID"] for c in changed]
    assert touched <= set(ids)
    assert len(ids) == len(set(ids))
    per_second = Counter(
        parse_xero_datetime(c["UpdatedDateUTC"]).replace(microsecond=0)
        for c in changed
        if c["ContactID"] in touched
    )
    assert max(per_second.values()) > 100, "the crowded path was needed"


# --------------------------------------------------------------------------- tokens


def test_refresh_rotates_tokens_and_hands_them_over_before_use(make_org) -> None:
    org = make_org(contacts=3)
    seen_by_server_before_persist: list[dict] = []

    def persist(tokens: TokenSet) -> None:
        seen_by_server_before_persist.append(org.outcomes("/api.xro/2.0/Contacts"))
        org.tokens.append(tokens)

    client = XeroClient(org.config(), org.credentials(), on_tokens=persist, retry_policy=FAST_RETRIES)
    with client:  # no access token yet: the client refreshes first
        assert len(sync(client, "contacts")[0]) >= 3
    assert seen_by_server_before_persist == [{}], "no API request before the new tokens were persisted"
    (rotated,) = org.tokens
    assert rotated.refresh_token != org.refresh_token and rotated.access_token != org.access_token
    now = datetime.now(UTC)
    assert rotated.access_expires_at is not None and timedelta(minutes=25) < rotated.access_expires_at - now
    assert rotated.access_expires_at - now <= timedelta(minutes=30)
    assert rotated.refresh_expires_at is not None and rotated.refresh_expires_at > now + timedelta(days=59)
    assert org.outcomes("/identity/connect/token") == {"200": 1}

    creds = org.credentials().with_tokens(rotated)
    with org.client(creds) as again:  # the persisted pair works, without another refresh
        assert again.count("items") is not None
    assert len(org.tokens) == 1


def test_a_crash_between_refresh_and_save_loses_nothing(make_org) -> None:
    """Xero lets a rotated-away refresh token be used again for a grace period, so when the process
    dies after Xero rotated but before the new pair was saved, the stored (old) token still works."""
    org = make_org(contacts=2)

    def crash(tokens: TokenSet) -> None:
        raise RuntimeError("killed before commit")

    with (
        XeroClient(org.config(), org.credentials(), on_tokens=crash, retry_policy=FAST_RETRIES) as doomed,
        pytest.raises(RuntimeError, match="killed before commit"),
    ):
        doomed.count("contacts")
    assert org.outcomes("/api.xro/2.0/Contacts") == {}, "the unsaved access token was never used"

    with org.client() as survivor:  # built from what was stored: the pre-rotation refresh token
        assert survivor.count("contacts") is not None
    assert len(org.tokens) == 1 and org.tokens[0].refresh_token != org.refresh_token


def test_a_401_mid_run_refreshes_once_and_carries_on(make_org) -> None:
    org = make_org(contacts=2)
    creds = org.credentials(
        access_token="not-a-token-xero-issued", expires_at=datetime.now(UTC) + timedelta(hours=1)
    )
    with org.client(creds) as client:
        assert client.count("contacts") is not None
    assert len(org.tokens) == 1
    assert org.outcomes("/api.xro/2.0/Contacts") == {"401": 1, "200": 1}
    assert org.outcomes("/identity/connect/token") == {"200": 1}


def test_a_valid_access_token_is_used_without_refreshing(make_org) -> None:
    org = make_org(contacts=2)
    with org.client(org.live_credentials()) as client:
        client.count("contacts")
    assert org.tokens == [] and org.outcomes("/identity/connect/token") == {}


def test_revoked_grant_raises_auth_error_without_retries(make_org) -> None:
    org = make_org(contacts=2)
    waits: list[float] = []
    policy = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, sleep=waits.append)
    with org.client(org.live_credentials(), retry_policy=policy) as client:
        assert client.count("contacts") is not None
        org.admin("POST", "/revoke")
        with pytest.raises(AuthError) as raised:
            client.count("contacts")  # 401, then the refresh is refused (invalid_grant)
    assert "re-authorised" in str(raised.value) and org.refresh_token not in str(raised.value)
    assert waits == [], "nothing retried"
    assert org.outcomes("/api.xro/2.0/Contacts") == {"200": 1, "401": 1}
    assert org.tokens == []


def test_secrets_never_reach_the_logs(make_org, caplog: pytest.LogCaptureFixture) -> None:
    org = make_org(contacts=1)
    caplog.set_level(logging.DEBUG)
    creds = org.credentials(
        access_token="stale-access-token-value", expires_at=datetime.now(UTC) + timedelta(hours=1)
    )
    with org.client(creds) as client:
        client.count("contacts")
        assert org.client_secret not in repr(client)
    secrets = [
        org.client_secret,
        org.refresh_token,
        "stale-access-token-value",
        *(t.access_token for t in org.tokens),
    ]
    assert caplog.records, "the run logged something at DEBUG"
    assert not [s for s in secrets if s in caplog.text]
    assert "refreshed Xero tokens" in caplog.text


# --------------------------------------------------------------------------- failures and limits


@pytest.mark.parametrize(("kind", "times", "extra"), [("500", 2, {}), ("503", 1, {}), ("drop", 2, {})])
def test_server_failures_are_retried(make_org, kind: str, times: int, extra: dict) -> None:
    org = make_org(contacts=3)
    org.fault(kind, path_contains="/Contacts", times=times, **extra)
    with org.client(org.live_credentials(), timeout=2.0) as client:
        assert client.count("contacts") is not None
    outcomes = org.outcomes("/api.xro/2.0/Contacts")
    assert outcomes.get("200") == 1 and sum(outcomes.values()) == times + 1


def test_a_timeout_is_retried(make_org) -> None:
    org = make_org(contacts=1)
    org.fault("timeout", path_contains="/Items", times=1, delay_seconds=2)
    with org.client(org.live_credentials(), timeout=0.5) as client:
        assert client.count("items") is not None


def test_persistent_server_failure_gives_up_after_the_policy_attempts(make_org) -> None:
    org = make_org(contacts=1)
    org.fault("503", path_contains="/Contacts", times=20)
    with org.client(org.live_credentials()) as client, pytest.raises(TransientError) as raised:
        client.count("contacts")
    assert raised.value.status_code == 503
    assert org.outcomes("/api.xro/2.0/Contacts") == {"503": FAST_RETRIES.max_attempts}


def test_429_is_retried_after_retry_after(make_org) -> None:
    org = make_org(contacts=1)
    org.fault("429", path_contains="/Contacts", times=1, retry_after=1)
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)

    policy = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, sleep=sleep)
    with org.client(org.live_credentials(), retry_policy=policy) as client:
        started = time.monotonic()
        assert client.count("contacts") is not None
        elapsed = time.monotonic() - started
    assert waits and waits[0] >= 1.0 and elapsed >= 1.0
    assert org.outcomes("/api.xro/2.0/Contacts") == {"429": 1, "200": 1}


def test_a_day_spent_elsewhere_fails_fast_with_xeros_wait(make_org) -> None:
    org = make_org(contacts=1)
    org.admin("PUT", "/limits", json={"day_limit": 2})
    for _ in range(2):  # another integration spends the tenant's day
        httpx.get(
            f"{org.config().accounting_url}/Items",
            headers={"Authorization": f"Bearer {org.access_token}", "xero-tenant-id": org.tenant_id},
            timeout=10,
        ).raise_for_status()
    with org.client(org.live_credentials()) as client:
        with pytest.raises(RateLimitedError) as raised:
            client.count("items")  # Xero: 429, X-Rate-Limit-Problem day, Retry-After ~ a day
        assert raised.value.retry_after is not None and raised.value.retry_after > 3600
        assert "day" in str(raised.value)
        with pytest.raises(RateLimitedError) as again:
            client.count("accounts")  # not even sent: the client knows when the day ends
        assert again.value.retry_after is not None and again.value.retry_after > 3600
    assert org.outcomes("/api.xro/2.0/Items") == {"200": 2, "429": 1}
    assert org.outcomes("/api.xro/2.0/Accounts") == {}


def test_x_daylimit_remaining_zero_stops_the_client_before_xero_refuses(make_org) -> None:
    org = make_org(contacts=1)
    org.admin("PUT", "/limits", json={"day_limit": 2})
    with org.client(org.live_credentials()) as client:
        client.count("items")
        client.count("items")  # answered with X-DayLimit-Remaining: 0
        with pytest.raises(RateLimitedError, match="daily call limit"):
            client.count("items")
    assert org.outcomes("/api.xro/2.0/Items") == {"200": 2}


def test_x_minlimit_remaining_slows_the_client_before_xero_refuses(make_org) -> None:
    org = make_org(contacts=1)
    # Three calls a "minute", and a minute lasting one second (the sandbox's time scale).
    org.admin("PUT", "/limits", json={"minute_limit": 3, "time_scale": 60})
    with org.client(org.live_credentials(), bucket=None) as client:  # the tenant's own minute bucket
        started = time.monotonic()
        for _ in range(6):
            client.count("items")
        elapsed = time.monotonic() - started
    stats = org.admin("GET", "/stats")
    assert stats["throttled"] == {}, "the client waited instead of running into 429s"
    assert org.outcomes("/api.xro/2.0/Items") == {"200": 6}
    assert elapsed >= 1.0  # X-MinLimit-Remaining: 0 clamped the bucket, twice


def test_concurrent_requests_stay_within_the_tenant_limit(make_org) -> None:
    org = make_org(contacts=1)
    org.admin("PUT", "/limits", json={"concurrent_limit": 2, "latency_seconds": 0.2})
    errors: list[BaseException] = []
    with org.client(org.live_credentials(), config=org.config(max_concurrent_requests=2)) as client:

        def call() -> None:
            try:
                client.count("items")
            except BaseException as error:  # collected for the assertion below
                errors.append(error)

        threads = [threading.Thread(target=call) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert org.outcomes("/api.xro/2.0/Items") == {"200": 6}  # no 429 for concurrency


# --------------------------------------------------------------------------- pushing


def test_validation_errors_are_permanent_with_xeros_message(make_org) -> None:
    org = make_org(contacts=1)
    with org.client(org.live_credentials()) as client:
        contact = client.upsert_contact({"Name": "Mesa Roofing"})
        bad = invoice_body(
            contact["ContactID"], LineItems=[{"Description": "x", "UnitAmount": 1, "AccountCode": "999"}]
        )
        with pytest.raises(PermanentError) as raised:
            client.create_invoice(bad)
    assert "Account code '999' is not a valid code for this document." in str(raised.value)
    assert raised.value.status_code == 400
    assert org.outcomes("/api.xro/2.0/Invoices") == {"400": 1}  # not retried


def test_contacts_upsert_and_invoices_create_update_void(make_org) -> None:
    org = make_org(contacts=1)
    with org.client(org.live_credentials()) as client:
        contact = client.upsert_contact(
            {"Name": "Pinecrest Yoga", "EmailAddress": "desk@pinecrest.example", "Phones": None}
        )
        assert contact["ContactID"] and contact["EmailAddress"] == "desk@pinecrest.example"
        renamed = client.upsert_contact({"ContactID": contact["ContactID"], "Name": "Pinecrest Yoga Studio"})
        assert renamed["ContactID"] == contact["ContactID"] and renamed["Name"] == "Pinecrest Yoga Studio"
        assert client.get_contact(contact["ContactID"])["Name"] == "Pinecrest Yoga Studio"

        invoice = client.create_invoice(invoice_body(contact["ContactID"], Reference="Nov"))
        assert invoice["Status"] == "AUTHORISED" and invoice["Total"] == 900.0
        updated = client.update_invoice(
            invoice["InvoiceID"], {"Reference": "November"}, invoice["UpdatedDateUTC"]
        )
        assert updated["Reference"] == "November"
        assert parse_xero_datetime(updated["UpdatedDateUTC"]) > parse_xero_datetime(invoice["UpdatedDateUTC"])

        voided = client.void_invoice(invoice["InvoiceID"], updated["UpdatedDateUTC"])
        assert voided["Status"] == "VOIDED" and voided["AmountDue"] == 0.0
        assert invoice_to_row(client.get_invoice(invoice["InvoiceID"]))["status"] == "VOIDED"
        with pytest.raises(PermanentError, match="not of valid status"):
            client.update_invoice(invoice["InvoiceID"], {"Reference": "late"}, voided["UpdatedDateUTC"])


def test_a_retried_create_makes_one_invoice(make_org) -> None:
    org = make_org(contacts=1)
    with org.client(org.live_credentials()) as client:
        contact = client.upsert_contact({"Name": "Harbor Light Dental"})
        org.fault("drop", path_contains="/Invoices", times=1)  # the answer to the first try is lost
        before = client.count("invoices")
        invoice = client.create_invoice(invoice_body(contact["ContactID"]), idempotency_key="outbox-42")
        assert client.count("invoices") == (before or 0) + 1
        again = client.create_invoice(invoice_body(contact["ContactID"]), idempotency_key="outbox-42")
    assert again["InvoiceID"] == invoice["InvoiceID"]


def test_an_edit_in_xero_since_our_last_read_is_a_conflict(make_org) -> None:
    org = make_org(contacts=1)
    with org.client(org.live_credentials()) as ours:
        contact = ours.upsert_contact({"Name": "Copper Kettle Cafe"})
        invoice = ours.create_invoice(invoice_body(contact["ContactID"], Reference="ours"))
        seen = invoice["UpdatedDateUTC"]
        time.sleep(0.01)
        with org.client(org.live_credentials()) as bookkeeper:  # someone edits it in Xero meanwhile
            theirs = bookkeeper.update_invoice(invoice["InvoiceID"], {"Reference": "edited in Xero"}, None)

        with pytest.raises(ConflictError) as raised:
            ours.update_invoice(invoice["InvoiceID"], {"Reference": "pushed by firmsync"}, seen)
        assert raised.value.current is not None
        assert raised.value.current["Reference"] == "edited in Xero"
        assert raised.value.current["UpdatedDateUTC"] == theirs["UpdatedDateUTC"]
        assert ours.get_invoice(invoice["InvoiceID"])["Reference"] == "edited in Xero"  # nothing written
        with pytest.raises(ConflictError):
            ours.void_invoice(invoice["InvoiceID"], seen)
        # Resolved by the caller's rule: push again against the version it has now seen.
        resolved = ours.update_invoice(
            invoice["InvoiceID"], {"Reference": "merged"}, theirs["UpdatedDateUTC"]
        )
    assert resolved["Reference"] == "merged"


# --------------------------------------------------------------------------- connections and OAuth


def test_connections_list_and_disconnect(make_org) -> None:
    org = make_org(contacts=1)
    with org.client(org.live_credentials()) as client:
        connections = client.list_connections()
        mine = [c for c in connections if c["tenantId"] == org.tenant_id]
        assert len(mine) == 1 and mine[0]["tenantType"] == "ORGANISATION" and mine[0]["id"]
        client.delete_connection(mine[0]["id"])
        assert all(c["tenantId"] != org.tenant_id for c in client.list_connections())
        with pytest.raises(AuthError, match="403"):
            client.count("contacts")


def test_connect_flow_with_pkce_then_revoke(make_org, xero_sandbox: XeroSandbox) -> None:
    org = make_org(contacts=2)
    app = org.app()
    pkce, state = oauth.new_pkce(), oauth.new_state()
    xero_sandbox.admin("PUT", "/consent", json={"tenant_ids": [org.tenant_id]})
    try:
        answer = httpx.get(
            oauth.authorization_url(app, CALLBACK, state, pkce.challenge), follow_redirects=False, timeout=10
        )
    finally:
        xero_sandbox.admin("PUT", "/consent", json={"tenant_ids": None})
    assert answer.status_code == 302
    back = parse_qs(urlsplit(answer.headers["location"]).query)
    assert back["state"] == [state]

    with pytest.raises(AuthError):  # the verifier must match the challenge
        oauth.exchange_code(
            app, org.client_secret, back["code"][0], CALLBACK, "x" * 43, retry_policy=FAST_RETRIES
        )
    answer = httpx.get(
        oauth.authorization_url(app, CALLBACK, state, pkce.challenge), follow_redirects=False, timeout=10
    )
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    tokens = oauth.exchange_code(
        app, org.client_secret, code, CALLBACK, pkce.verifier, retry_policy=FAST_RETRIES
    )
    assert tokens.access_token and tokens.refresh_token and tokens.access_expires_at is not None

    tenants = oauth.list_tenants(app, tokens.access_token, retry_policy=FAST_RETRIES)
    assert org.tenant_id in {t["tenantId"] for t in tenants}

    creds = org.credentials(
        refresh_token=tokens.refresh_token,
        access_token=tokens.access_token,
        expires_at=tokens.access_expires_at,
    )
    with org.client(creds) as client:
        assert client.count("contacts") is not None

    oauth.revoke(app, org.client_secret, tokens.refresh_token, retry_policy=FAST_RETRIES)
    with org.client(org.credentials(refresh_token=tokens.refresh_token)) as client, pytest.raises(AuthError):
        client.count("contacts")


def test_registry_builds_a_working_client(make_org) -> None:
    org = make_org(contacts=4)
    spec = get_connector("xero")
    config = spec.config_model.model_validate(org.config().model_dump())
    client = spec.build_client(
        config, org.live_credentials(), on_tokens=org.tokens.append, retry_policy=FAST_RETRIES
    )
    with client:
        streams = client.streams()
        assert tuple(streams) == spec.streams
        contacts = streams["contacts"]
        assert contacts.name == "contacts" and contacts.primary_key == ("ContactID",)
        assert sum(len(p.records) for p in contacts.pages(None)) == client.count("contacts")
