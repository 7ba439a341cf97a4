"""The Salesforce client through simple-salesforce against the sandbox over https (its own CA): incremental
reads on SystemModstamp, queryMore paging, getDeleted tombstones, session refresh, the API-usage margin and
REQUEST_LIMIT_EXCEEDED, retries, upserts on the external-id field, and the CA bundle winning over
REQUESTS_CA_BUNDLE."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from connectors.base import CursorExpiredError, PermanentError, RetryPolicy
from connectors.registry import get_connector
from connectors.salesforce import ApiLimitExceeded, ApiUsageNearLimit, SalesforceClient
from connectors.salesforce.config import SalesforceConfig, SalesforceCredentials
from connectors.salesforce.mapping import contact_to_row, is_deleted


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory):
    """A sandbox for the tests that move its clock (getDeleted reports whole minutes): moved, the session's
    would date every vendor edit minutes ahead of the local edits other modules' tests compare them with
    (DESIGN's conflict rule)."""
    from tests.support.processes import SandboxServer

    server = SandboxServer(tmp_path_factory.mktemp("salesforce-sandbox"))
    yield server
    server.stop()


FAST = RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2, max_retry_after=5.0)


class Org:
    def __init__(self, sandbox, **spec) -> None:
        self.sandbox = sandbox
        self.info = sandbox.new_salesforce_org(**spec)
        self.id = self.info["org_id"]
        self.tokens: list = []

    def admin(self, method: str, path: str, **kwargs):
        return self.sandbox.salesforce_admin(method, f"/orgs/{self.id}{path}", **kwargs)

    def client(self, *, access_token: bool = True, now=None, **config) -> SalesforceClient:
        body = self.sandbox.salesforce_connection_body(self.info, **config)
        credentials = body["credentials"] | (
            {"access_token": self.info["access_token"]} if access_token else {}
        )
        return SalesforceClient(
            SalesforceConfig.model_validate(body["config"]),
            SalesforceCredentials.model_validate(credentials),
            on_tokens=self.tokens.append,
            retry_policy=FAST,
            **({"now": now} if now else {}),
        )

    def calls(self, path_end: str = "") -> int:
        stats = self.admin("GET", "/stats")["by_path"]
        return sum(sum(by.values()) for path, by in stats.items() if path.endswith(path_end))

    def reset_calls(self) -> None:
        self.admin("DELETE", "/stats")


def read(client, sobject, cursor=None, page_size=2000):
    pages = list(client.pages(sobject, cursor, page_size=page_size))
    return pages, [r for p in pages for r in p.records]


def test_incremental_reads_only_what_changed_since_the_cursor(sandbox):
    org = Org(sandbox, accounts=6, contacts=12, leads=4, opportunities=3)
    client = org.client()
    pages, records = read(client, "Contact")
    assert len(records) == 12 and len({r["Id"] for r in records}) == 12
    assert all("attributes" not in r and "firmsyncId" in r for r in records)
    cursor = pages[-1].cursor
    assert json.loads(cursor)["id"] == records[-1]["Id"]

    org.reset_calls()
    _, again = read(client, "Contact", cursor)
    assert again == []
    assert org.calls("/query/") == 1  # one query, nothing re-read
    assert org.calls("/deleted/") == 1

    edited = records[3]
    org.admin("PATCH", f"/records/Contact/{edited['Id']}", json={"Title": "Partner"})
    created = org.admin(
        "POST", "/records/Contact", json={"LastName": "Okafor", "Email": "ada@okafor.example"}
    )
    org.reset_calls()
    pages, changed = read(client, "Contact", pages[-1].cursor)
    assert [r["Id"] for r in changed] == [edited["Id"], created["Id"]]
    assert changed[0]["Title"] == "Partner"
    assert org.calls() == 2  # the query and getDeleted


def test_query_more_pages_over_several_batches_and_resumes_from_a_middle_page(sandbox):
    org = Org(sandbox, accounts=5, contacts=450, leads=0, opportunities=0)
    client = org.client(query_batch_size=200)
    org.reset_calls()
    pages, records = read(client, "Contact")
    assert len(records) == 450 and len({r["Id"] for r in records}) == 450
    assert [p.has_more for p in pages] == [True, True, False]
    assert [len(p.records) for p in pages] == [200, 200, 50]
    assert org.calls("/query/{locator}") == 2 and org.calls("/query/") == 1
    stamps = [(r["SystemModstamp"], r["Id"]) for r in records]
    assert stamps == sorted(stamps)
    # A run killed after the first page resumes from its cursor: the rest, nothing twice.
    _, rest = read(org.client(query_batch_size=200), "Contact", pages[0].cursor)
    assert [r["Id"] for r in rest] == [r["Id"] for r in records[200:]]


def test_deleted_records_come_back_as_tombstones(own_sandbox):
    sandbox = own_sandbox
    org = Org(sandbox, accounts=3, contacts=6, leads=2, opportunities=0)
    pages, records = read(org.client(), "Lead")
    gone = records[0]["Id"]
    org.admin("DELETE", f"/records/Lead/{gone}")
    # getDeleted ignores seconds: a deletion is reported once its minute is over. Two minutes on, for the
    # sandbox and the client alike (the sandbox clock is shared by the session: it only moves forward).
    skew = sandbox.advance_clock(120)
    later = org.client(now=lambda: datetime.now(UTC) + timedelta(seconds=skew))
    _, changed = read(later, "Lead", pages[-1].cursor)
    assert len(changed) == 1 and is_deleted(changed[0]) and changed[0]["Id"] == gone
    row = contact_to_row(changed[0])
    assert row["external_id"] == gone and row["deleted_at"] is not None and row["name"] is None


def test_a_deletion_window_older_than_30_days_is_an_expired_cursor(sandbox):
    org = Org(sandbox, accounts=1, contacts=1, leads=1, opportunities=0)
    client = org.client()
    old = (datetime.now(UTC) - timedelta(days=40)).strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    cursor = json.dumps({"modstamp": old, "id": "00Q000000000000AAA", "deleted": old})
    with pytest.raises(CursorExpiredError, match="INVALID_REPLICATION_DATE"):
        read(client, "Lead", cursor)


def test_an_expired_session_is_refreshed_once_and_the_new_token_handed_over(sandbox):
    org = Org(sandbox, accounts=2, contacts=3, leads=0, opportunities=0)
    client = org.client()
    read(client, "Account")
    assert org.tokens == []
    org.admin("POST", "/tokens/expire")
    _, records = read(client, "Account")
    assert len(records) == 2
    assert len(org.tokens) == 1
    new = org.tokens[0]
    assert new.access_token != org.info["access_token"] and new.access_token.startswith(org.id[:15] + "!")
    assert new.refresh_token == org.info["refresh_token"]  # Salesforce does not rotate it
    stats = org.admin("GET", "/stats")["by_status"]
    assert stats.get("401") == 1


def test_a_client_without_an_access_token_starts_by_refreshing(sandbox):
    org = Org(sandbox, accounts=2, contacts=0, leads=0, opportunities=0)
    _, records = read(org.client(access_token=False), "Account")
    assert len(records) == 2 and len(org.tokens) == 1


def test_a_revoked_grant_is_an_auth_error(sandbox):
    from connectors.base import AuthError

    org = Org(sandbox, accounts=1, contacts=0, leads=0, opportunities=0)
    org.admin("POST", "/tokens/revoke")
    with pytest.raises(AuthError, match="invalid_grant"):
        read(org.client(), "Account")


def test_usage_near_the_daily_limit_stops_before_the_next_call(sandbox):
    org = Org(sandbox, accounts=2, contacts=450, leads=0, opportunities=0)
    # 10 % of 1,000 is kept free: the first call brings usage to 900 and the stream stops there.
    org.admin("PUT", "/limits", json={"daily_api_requests": 1000, "api_usage": 899})
    client = org.client(query_batch_size=200)
    org.reset_calls()
    pages = []
    with pytest.raises(ApiUsageNearLimit, match="900 of 1,000") as stopped:
        for page in client.pages("Contact", None, page_size=200):
            pages.append(page)
    assert not stopped.value.retryable
    assert [len(p.records) for p in pages] == [200]  # what was read is kept (with its cursor)
    assert org.calls() == 1
    # A larger margin setting is honoured the same way; a smaller one lets the sync go on.
    _, records = read(org.client(query_batch_size=200, api_usage_margin_percent=5), "Contact")
    assert len(records) == 450


def test_a_spent_daily_limit_is_a_clear_permanent_failure_without_retries(sandbox):
    org = Org(sandbox, accounts=2, contacts=2, leads=0, opportunities=0)
    org.admin("PUT", "/limits", json={"daily_api_requests": 500, "api_usage": 500})
    org.reset_calls()
    with pytest.raises(ApiLimitExceeded, match="REQUEST_LIMIT_EXCEEDED") as failed:
        read(org.client(api_usage_margin_percent=0), "Account")
    assert failed.value.status_code == 403 and not failed.value.retryable
    assert org.calls() == 1


def test_server_errors_are_retried(sandbox):
    org = Org(sandbox, accounts=3, contacts=0, leads=0, opportunities=0)
    sandbox.salesforce_admin("POST", "/faults", json={"kind": "503", "realm": org.id, "times": 2})
    org.reset_calls()
    _, records = read(org.client(), "Account")
    assert len(records) == 3
    # A first read has no deletions to ask for: one query, answered on the third attempt.
    assert org.admin("GET", "/stats")["by_status"] == {"503": 2, "200": 1}


def test_leads_and_contacts_are_upserted_on_the_external_id_field(sandbox):
    org = Org(sandbox, accounts=1, contacts=0, leads=0, opportunities=0)
    client = org.client()
    lead_id, created = client.upsert_lead("lead-1", {"LastName": "Nakamura", "Company": "Nakamura Bakery"})
    assert created
    same_id, created = client.upsert_lead(
        "lead-1", {"LastName": "Nakamura", "Company": "Nakamura Bakery Ltd"}
    )
    assert (same_id, created) == (lead_id, False)
    stored = org.admin("GET", f"/records/Lead/{lead_id}")
    assert stored["Company"] == "Nakamura Bakery Ltd" and stored["Firmsync_Id__c"] == "lead-1"
    # Read back, the external id arrives under one name whatever the field is called.
    _, leads = read(client, "Lead")
    assert [lead["firmsyncId"] for lead in leads] == ["lead-1"]

    account = org.admin("GET", "/records/Account")["records"][0]["Id"]
    contact_id, created = client.upsert_contact("contact-1", {"LastName": "Ito", "AccountId": account})
    assert created and client.get("Contact", contact_id)["AccountId"] == account

    org.admin("POST", "/records/Lead", json={"LastName": "Twin", "Company": "A", "Firmsync_Id__c": "dup"})
    org.admin("POST", "/records/Lead", json={"LastName": "Twin", "Company": "B", "Firmsync_Id__c": "dup"})
    with pytest.raises(PermanentError) as several:
        client.upsert_lead("dup", {"LastName": "Twin", "Company": "C"})
    assert several.value.status_code == 300


def test_older_api_versions_answer_an_updating_upsert_with_204(sandbox):
    org = Org(sandbox, accounts=0, contacts=0, leads=0, opportunities=0)
    client = org.client(api_version="45.0")
    first, _ = client.upsert_lead("x-1", {"LastName": "Kim", "Company": "Kim & Co"})
    assert client.upsert_lead("x-1", {"LastName": "Kim", "Company": "Kim and Co"}) == (first, False)


def test_the_connection_ca_bundle_wins_over_requests_ca_bundle(sandbox, monkeypatch, tmp_path):
    org = Org(sandbox, accounts=1, contacts=0, leads=0, opportunities=0)
    # The environment names the system store (as on this machine): the sandbox's CA is not in it.
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    _, records = read(org.client(), "Account")
    assert len(records) == 1
    with pytest.raises(PermanentError, match="TLS verification failed"):
        read(org.client(ca_bundle=None), "Account")


def test_registered_with_its_config_and_streams():
    spec = get_connector("salesforce")
    assert spec.streams == ("accounts", "contacts", "leads", "opportunities")
    assert "ca_bundle" in spec.form_schema()["config"]["properties"]
    config = SalesforceConfig(
        org_id="00D5g00000FIRMSYNC", instance_url="https://acme.my.salesforce.com/", client_id="x"
    )
    assert spec.account_id(config) == "00D5g00000FIRMSYNC"
    assert config.token_url == "https://login.salesforce.com/services/oauth2/token"
    with pytest.raises(ValueError):
        SalesforceConfig(org_id="00D5g00000FIRMSYNC", instance_url="http://acme.example", client_id="x")
