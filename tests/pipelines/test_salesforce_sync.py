"""The Salesforce assets, materialised for real: simple-salesforce over https against the sandbox (its own CA)
→ warehouse.salesforce_* → app.clients, app.contacts, app.leads. Session refresh mid-sync, incremental
reads (counted at the sandbox), queryMore paging, getDeleted soft deletes, the API-usage margin and a spent
allocation, links to the firm's own records, and tenant isolation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import dagster as dg
import pytest
from sqlalchemy import select, text

from connectors.base import RetryPolicy
from connectors.salesforce import SalesforceClient, SalesforceConfig, SalesforceCredentials
from core_api.connections.secrets import open_credentials
from core_api.db import tenant_session
from core_api.models import Connection
from pipelines.assets.salesforce import (
    ACCOUNTS,
    APP_CLIENTS,
    APP_CONTACTS,
    APP_LEADS,
    CONTACTS,
    LEADS,
    salesforce,
)
from pipelines.partitions import salesforce_connections
from pipelines.resources import FirmsyncDatabase, SalesforceApi
from tests.pipelines.conftest import SyncTarget, add_connection, new_firm


@pytest.fixture(scope="module")
def own_sandbox(tmp_path_factory):
    """A sandbox for the tests that move its clock (getDeleted reports whole minutes): moved, the session's
    would date every vendor edit minutes ahead of the local edits other modules' tests compare them with
    (DESIGN's conflict rule)."""
    from tests.support.processes import SandboxServer

    server = SandboxServer(tmp_path_factory.mktemp("salesforce-sandbox"))
    yield server
    server.stop()


ORG = {"accounts": 6, "contacts": 12, "leads": 5, "opportunities": 4, "seed": 11}


class SandboxTimeSalesforce:
    """The real client, whose clock follows the sandbox's (a test moves the sandbox's forward so getDeleted's
    whole minutes pass). Everything else is `SalesforceApi`'s."""

    page_size = 2000

    def __init__(self, sandbox, page_size: int = 2000) -> None:
        self.sandbox = sandbox
        self.page_size = page_size

    def client(self, config: dict, credentials: dict, on_tokens):
        skew = self.sandbox.advance_clock(0.001)
        return SalesforceClient(
            SalesforceConfig.model_validate(config),
            SalesforceCredentials.model_validate(credentials),
            on_tokens=on_tokens,
            retry_policy=RetryPolicy(max_attempts=3, base_delay=0.05, max_delay=0.2),
            now=lambda: datetime.now(UTC) + timedelta(seconds=skew),
        )


@pytest.fixture
def sf_resources(database_url, sandbox):
    return {"db": FirmsyncDatabase(), "salesforce": SandboxTimeSalesforce(sandbox)}


def make_target(sandbox, instance, *, tenant=None, config: dict | None = None, **spec) -> SyncTarget:
    org = sandbox.new_salesforce_org(**{**ORG, **spec})
    tenant = tenant or new_firm()
    connection_id = add_connection(tenant, sandbox.salesforce_connection_body(org, **(config or {})))
    target = SyncTarget(tenant=tenant, connection_id=connection_id, realm=org)
    instance.add_dynamic_partitions(salesforce_connections.name, [target.key])
    return target


def admin(sandbox, target, method: str, path: str, **kwargs):
    return sandbox.salesforce_admin(method, f"/orgs/{target.realm['org_id']}{path}", **kwargs)


def materialize(target, instance, resources):
    return dg.materialize(
        [*salesforce.assets, *salesforce.checks],
        partition_key=target.key,
        instance=instance,
        resources=resources,
        raise_on_error=False,
    )


def metadata(result, key) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key == key)
    return {k: v.value for k, v in event.materialization.metadata.items()}


def rows(target, sql: str, **params):
    with tenant_session(target.tenant) as session:
        return session.execute(text(sql), {"c": target.connection_id, **params}).all()


def count(target, sql: str, **params) -> int:
    return rows(target, sql, **params)[0][0]


def connection(target) -> Connection:
    with tenant_session(target.tenant) as session:
        found = session.scalar(select(Connection).where(Connection.id == target.connection_id))
        session.expunge(found)
        return found


def test_first_sync_loads_every_stream_and_merges_clients_contacts_and_leads(sandbox, instance, sf_resources):
    target = make_target(sandbox, instance)
    result = materialize(target, instance, sf_resources)
    assert result.success
    for table, expected in (("accounts", 6), ("contacts", 12), ("leads", 5), ("opportunities", 4)):
        assert (
            count(target, f"select count(*) from warehouse.salesforce_{table} where connection_id = :c")
            == expected
        )
    assert metadata(result, ACCOUNTS)["rows_inserted"] == 6

    accounts = {r.external_id: r for r in rows(target, "select * from warehouse.salesforce_accounts")}
    clients = rows(
        target,
        """select r.external_id, c.name, c.city, c.email, c.status from app.external_refs r
           join app.clients c on c.id = r.entity_id
           where r.connection_id = :c and r.entity = 'client'""",
    )
    assert len(clients) == 6
    for client in clients:
        account = accounts[client.external_id]
        assert (client.name, client.city, client.status) == (account.name, account.billing_city, "active")
        assert client.email is not None  # the account's first contact's address
    assert metadata(result, APP_CLIENTS)["clients_created"] == 6

    contacts = rows(
        target,
        """select w.email, w.account_id, k.email as app_email, cr.external_id as client_account
           from warehouse.salesforce_contacts w
           join app.external_refs r on r.connection_id = w.connection_id and r.entity = 'contact'
                                   and r.external_id = w.external_id
           join app.contacts k on k.id = r.entity_id
           join app.external_refs cr on cr.entity = 'client' and cr.entity_id = k.client_id
                                    and cr.connection_id = w.connection_id
           where w.connection_id = :c""",
    )
    assert len(contacts) == 12
    assert all(c.email == c.app_email and c.account_id == c.client_account for c in contacts)
    assert metadata(result, APP_CONTACTS)["contacts_created"] == 12

    leads = rows(
        target,
        """select w.email, w.status as sf_status, a.email as app_email, a.status, a.company_name, w.company
           from warehouse.salesforce_leads w
           join app.external_refs r on r.connection_id = w.connection_id and r.entity = 'lead'
                                   and r.external_id = w.external_id
           join app.leads a on a.id = r.entity_id
           where w.connection_id = :c""",
    )
    assert len(leads) == 5
    expected = {
        "Open - Not Contacted": "new",
        "Working - Contacted": "contacted",
        "Closed - Not Converted": "lost",
    }
    assert all((lead.app_email, lead.company_name) == (lead.email, lead.company) for lead in leads)
    assert all(lead.status == expected[lead.sf_status] for lead in leads)
    assert metadata(result, APP_LEADS)["leads_created"] == 5


def test_second_sync_reads_only_what_changed_and_soft_deletes_deletions(database_url, own_sandbox, instance):
    sandbox = own_sandbox
    sf_resources = {"db": FirmsyncDatabase(), "salesforce": SandboxTimeSalesforce(sandbox)}
    target = make_target(sandbox, instance)
    assert materialize(target, instance, sf_resources).success
    contact = rows(target, "select external_id from warehouse.salesforce_contacts order by external_id")[0][0]
    lead = rows(target, "select external_id from warehouse.salesforce_leads order by external_id")[0][0]
    admin(sandbox, target, "PATCH", f"/records/Contact/{contact}", json={"Email": "renamed@okafor.example"})
    admin(sandbox, target, "DELETE", f"/records/Lead/{lead}")
    sandbox.advance_clock(120)  # getDeleted reports whole minutes
    admin(sandbox, target, "DELETE", "/stats")

    result = materialize(target, instance, sf_resources)
    assert result.success
    stats = admin(sandbox, target, "GET", "/stats")
    # Per stream one query and one getDeleted: nothing paged, nothing re-read.
    assert stats["total"] == 8 and stats["by_status"] == {"200": 8}
    assert (
        metadata(result, CONTACTS)["rows_updated"] == 1 and metadata(result, CONTACTS)["rows_inserted"] == 0
    )
    assert metadata(result, ACCOUNTS)["rows_updated"] == 0
    assert metadata(result, LEADS)["rows_updated"] == 1  # the tombstone
    deleted = rows(
        target, "select deleted_at, name from warehouse.salesforce_leads where external_id = :e", e=lead
    )
    assert deleted[0].deleted_at is not None and deleted[0].name is not None  # last known columns kept
    app_lead = rows(
        target,
        """select a.deleted_at from app.leads a join app.external_refs r on r.entity_id = a.id
           where r.connection_id = :c and r.external_id = :e""",
        e=lead,
    )
    assert app_lead[0].deleted_at is not None
    assert metadata(result, APP_LEADS)["leads_deleted"] == 1
    emails = rows(
        target,
        """select k.email from app.contacts k join app.external_refs r on r.entity_id = k.id
           where r.connection_id = :c and r.external_id = :e""",
        e=contact,
    )
    assert emails[0].email == "renamed@okafor.example"


def test_query_more_pages_commit_one_batch_at_a_time(database_url, sandbox, instance):
    target = make_target(sandbox, instance, accounts=3, contacts=450, leads=0, opportunities=0)
    resources = {"db": FirmsyncDatabase(), "salesforce": SandboxTimeSalesforce(sandbox, page_size=200)}
    result = materialize(target, instance, resources)
    assert result.success
    assert metadata(result, CONTACTS)["pages"] == 3 and metadata(result, CONTACTS)["rows_inserted"] == 450
    assert admin(sandbox, target, "GET", "/stats")["by_path"]["/services/data/v59.0/query/{locator}"] == {
        "200": 2
    }


def test_a_session_that_expires_mid_sync_is_refreshed_and_the_new_token_stored(
    sandbox, instance, sf_resources
):
    target = make_target(sandbox, instance)
    assert materialize(target, instance, sf_resources).success
    first_token = open_credentials(connection(target))["access_token"]
    # The stored session dies after two more requests: in the middle of the next run's streams.
    admin(sandbox, target, "POST", "/tokens/expire", json={"after_calls": 2})
    admin(
        sandbox,
        target,
        "PATCH",
        f"/records/Lead/{rows(target, 'select external_id from warehouse.salesforce_leads')[0][0]}",
        json={"Phone": "(555) 010-9999"},
    )
    admin(sandbox, target, "DELETE", "/stats")
    result = materialize(target, instance, sf_resources)
    assert result.success
    assert metadata(result, ACCOUNTS)["token_refreshes"] == 1
    stored = open_credentials(connection(target))
    assert stored["access_token"] != first_token
    assert stored["refresh_token"] == target.realm["refresh_token"]
    stats = admin(sandbox, target, "GET", "/stats")
    assert stats["by_status"].get("401") == 1
    assert (
        count(target, "select count(*) from warehouse.salesforce_leads where phone = '(555) 010-9999'") == 1
    )


def test_usage_near_the_limit_stops_the_sync_once_with_a_clear_error(sandbox, instance, sf_resources):
    target = make_target(sandbox, instance)
    admin(sandbox, target, "PUT", "/limits", json={"daily_api_requests": 1000, "api_usage": 899})
    admin(sandbox, target, "DELETE", "/stats")
    result = materialize(target, instance, sf_resources)
    assert not result.success
    # One call (the accounts query brought usage to 900 of 1,000, the 10 % margin): no step retries.
    assert admin(sandbox, target, "GET", "/stats")["total"] == 1
    assert count(target, "select count(*) from warehouse.salesforce_accounts") == 6  # what was read is kept
    assert count(target, "select count(*) from warehouse.salesforce_contacts") == 0
    row = connection(target)
    assert row.status == "error" and row.last_sync_status == "failed"
    assert "API usage 900 of 1,000" in row.status_detail


def test_a_spent_daily_allocation_is_a_clear_failure_without_a_retry_storm(sandbox, instance, sf_resources):
    target = make_target(sandbox, instance, config={"api_usage_margin_percent": 0})
    admin(sandbox, target, "PUT", "/limits", json={"daily_api_requests": 1000, "api_usage": 1000})
    admin(sandbox, target, "DELETE", "/stats")
    result = materialize(target, instance, sf_resources)
    assert not result.success
    # The refresh (not an API request) and one refused query; nothing retried.
    assert admin(sandbox, target, "GET", "/stats")["by_status"] == {"403": 1}
    row = connection(target)
    assert row.status == "error" and "REQUEST_LIMIT_EXCEEDED" in row.last_sync_error


def test_accounts_and_leads_link_to_the_firms_own_records(sandbox, instance, sf_resources):
    tenant = new_firm()
    org = sandbox.new_salesforce_org(**ORG)
    account = sandbox.salesforce_admin("GET", f"/orgs/{org['org_id']}/records/Account")["records"][0]
    lead = sandbox.salesforce_admin("GET", f"/orgs/{org['org_id']}/records/Lead")["records"][0]
    client_id, lead_id = uuid.uuid4(), uuid.uuid4()
    with tenant_session(tenant) as session:
        # The firm already has the account as a client (another vendor's, or typed in) and the lead.
        first_contact_email = None
        contacts = sandbox.salesforce_admin("GET", f"/orgs/{org['org_id']}/records/Contact")["records"]
        mine = sorted(
            (c for c in contacts if c["AccountId"] == account["Id"]),
            key=lambda c: (c["CreatedDate"], c["Id"]),
        )
        first_contact_email = mine[0]["Email"] if mine else None
        session.execute(
            text("insert into app.clients (id, firm_id, name, email) values (:i, :f, :n, :e)"),
            {"i": client_id, "f": tenant.firm_id, "n": account["Name"], "e": first_contact_email},
        )
        session.execute(
            text("insert into app.leads (id, firm_id, name, email) values (:i, :f, 'Someone', :e)"),
            {"i": lead_id, "f": tenant.firm_id, "e": lead["Email"].upper()},
        )
    connection_id = add_connection(tenant, sandbox.salesforce_connection_body(org))
    target = SyncTarget(tenant=tenant, connection_id=connection_id, realm=org)
    instance.add_dynamic_partitions(salesforce_connections.name, [target.key])
    result = materialize(target, instance, sf_resources)
    assert result.success
    assert metadata(result, APP_CLIENTS)["clients_matched"] == 1
    assert metadata(result, APP_CLIENTS)["clients_created"] == 5
    assert metadata(result, APP_LEADS)["leads_matched"] == 1
    linked = rows(
        target, "select entity, entity_id, external_id from app.external_refs where connection_id = :c"
    )
    assert ("client", client_id, account["Id"]) in [tuple(r) for r in linked]
    assert ("lead", lead_id, lead["Id"]) in [tuple(r) for r in linked]


def test_two_firms_see_only_their_own_salesforce_rows(sandbox, instance, sf_resources):
    first = make_target(sandbox, instance, seed=21)
    second = make_target(sandbox, instance, seed=22, accounts=2, contacts=3, leads=1, opportunities=1)
    assert materialize(first, instance, sf_resources).success
    assert materialize(second, instance, sf_resources).success
    for target, accounts, leads in ((first, 6, 5), (second, 2, 1)):
        # No filter on firm or connection: row-level security alone scopes what a tenant session sees.
        assert count(target, "select count(*) from warehouse.salesforce_accounts") == accounts
        assert count(target, "select count(*) from warehouse.salesforce_leads") == leads
        assert count(target, "select count(distinct firm_id) from warehouse.salesforce_contacts") == 1
        assert (
            count(
                target,
                "select count(*) from app.external_refs where provider = 'salesforce' and entity = 'lead'",
            )
            == leads
        )


def test_salesforce_api_resource_builds_the_client():
    client = SalesforceApi(timeout_seconds=5).client(
        {"org_id": "00D5g00000FIRMSYNC", "instance_url": "https://acme.my.salesforce.com", "client_id": "x"},
        {"client_secret": "s", "refresh_token": "r"},
        on_tokens=lambda tokens: None,
    )
    assert isinstance(client, SalesforceClient) and client.config.login_url == "https://login.salesforce.com"


def test_salesforce_is_declared_in_the_definitions():
    from pipelines.definitions import defs

    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {"salesforce_sync_job", "salesforce_sweep_job"} <= jobs
    sync = defs.get_assets_def(ACCOUNTS)
    assert sync.partitions_def == salesforce_connections and sync.op.pool == "salesforce"
    assert "salesforce" in (defs.resources or {})
    merge = defs.get_assets_def(APP_CONTACTS)
    assert set(merge.asset_deps[merge.key]) == {CONTACTS, APP_CLIENTS}


def test_the_demo_firm_is_connected_to_the_demo_org_over_https(database_url, sandbox, instance, settings):
    """`make run`'s demo firm: connected to the sandbox's demo org with the CA bundle from settings; a sync
    through the real resource (no test clock) fills its clients from the org's accounts."""
    from core_api.demo import DEMO_SALESFORCE_ORG, seed_demo
    from core_api.tenancy import Role, issue_tenant_context

    settings = settings.model_copy(
        update={"sandbox_tls_url": sandbox.https_url, "sandbox_ca_bundle": sandbox.ca_bundle}
    )
    firm_id = seed_demo(settings, sandbox_url=sandbox.url)
    assert seed_demo(settings, sandbox_url=sandbox.url) == firm_id  # idempotent
    tenant = issue_tenant_context(firm_id, Role.firm_admin)
    with tenant_session(tenant) as session:
        [(connection_id, config)] = session.execute(
            text("select id, config from app.connections where provider = 'salesforce'")
        ).all()
    assert config["org_id"] == DEMO_SALESFORCE_ORG and config["ca_bundle"] == sandbox.ca_bundle
    assert config["instance_url"] == sandbox.https_url
    target = SyncTarget(tenant=tenant, connection_id=connection_id, realm={})
    instance.add_dynamic_partitions(salesforce_connections.name, [target.key])
    result = materialize(
        target, instance, {"db": FirmsyncDatabase(), "salesforce": SalesforceApi(timeout_seconds=10)}
    )
    assert result.success
    demo = sandbox.salesforce_admin("GET", f"/orgs/{DEMO_SALESFORCE_ORG}")
    assert metadata(result, ACCOUNTS)["dagster/row_count"] == demo["counts"]["Account"]
    linked = count(
        target, "select count(*) from app.external_refs where connection_id = :c and entity = 'client'"
    )
    assert linked == demo["counts"]["Account"]


def _sf_records(sandbox, target, sobject: str) -> list[dict]:
    return admin(sandbox, target, "GET", f"/records/{sobject}")["records"]


def test_local_leads_and_contacts_are_upserted_on_the_external_id_and_conflicts_follow_the_rule(
    sandbox, instance, sf_resources
):
    from core_api.clients.schemas import ContactCreate
    from core_api.clients.service import create_contact
    from core_api.leads.schemas import LeadCreate, LeadUpdate
    from core_api.leads.service import create_lead, update_lead
    from pipelines.push_crm import push_crm_connection

    target = make_target(sandbox, instance)
    assert materialize(target, instance, sf_resources).success
    db, factory = FirmsyncDatabase(), sf_resources["salesforce"]

    def push():
        return push_crm_connection(db, factory, target.connection_id)

    # Pulled records are not echoed back: the merge writes no outbox rows.
    assert push().changes == 0
    with tenant_session(target.tenant) as session:
        lead = create_lead(
            session,
            target.tenant,
            LeadCreate(
                name="Ada Okafor", company_name="Okafor Tax", email="ada@okafor.example", status="contacted"
            ),
        )
    first = push()
    assert (first.changes, first.pushed) == (1, 1)
    mine = [r for r in _sf_records(sandbox, target, "Lead") if r["Firmsync_Id__c"] == str(lead.id)]
    assert len(mine) == 1
    assert (mine[0]["FirstName"], mine[0]["LastName"], mine[0]["Company"], mine[0]["Status"]) == (
        "Ada",
        "Okafor",
        "Okafor Tax",
        "Working - Contacted",
    )
    assert push().changes == 0  # the cursor moved past it
    with tenant_session(target.tenant) as session:
        update_lead(session, target.tenant, lead.id, LeadUpdate(phone="(555) 010-4242"), None)
    assert push().pushed == 1
    again = [r for r in _sf_records(sandbox, target, "Lead") if r["Firmsync_Id__c"] == str(lead.id)]
    assert len(again) == 1 and again[0]["Id"] == mine[0]["Id"] and again[0]["Phone"] == "(555) 010-4242"
    # The next pull links it back to the same local lead (no second lead).
    assert materialize(target, instance, sf_resources).success
    assert count(target, "select count(*) from app.leads where email = 'ada@okafor.example'") == 1

    # A contact of a client this org holds goes to that account; a client it does not hold keeps its own.
    client_id, account_id = rows(
        target,
        "select entity_id, external_id from app.external_refs where connection_id = :c and entity = 'client'",
    )[0]
    with tenant_session(target.tenant) as session:
        contact = create_contact(
            session,
            target.tenant,
            client_id,
            ContactCreate(first_name="Kwame", last_name="Mensah", title="CFO"),
        )
    assert push().pushed == 1
    [pushed] = [r for r in _sf_records(sandbox, target, "Contact") if r["Firmsync_Id__c"] == str(contact.id)]
    assert (pushed["AccountId"], pushed["LastName"], pushed["Title"]) == (account_id, "Mensah", "CFO")

    # Both sides edit a pulled lead, Salesforce last: Salesforce's copy wins and is recorded.
    pulled_lead, sf_id = rows(
        target,
        """select r.entity_id, r.external_id from app.external_refs r join warehouse.salesforce_leads w
             on w.connection_id = r.connection_id and w.external_id = r.external_id
           where r.connection_id = :c and r.entity = 'lead' and w.firmsync_id is null limit 1""",
    )[0]
    with tenant_session(target.tenant) as session:
        update_lead(session, target.tenant, pulled_lead, LeadUpdate(company_name="Edited here"), None)
    admin(sandbox, target, "PATCH", f"/records/Lead/{sf_id}", json={"Company": "Edited in Salesforce"})
    outcome = push()
    assert outcome.conflicts == 1
    assert admin(sandbox, target, "GET", f"/records/Lead/{sf_id}")["Company"] == "Edited in Salesforce"
    [conflict] = rows(
        target, "select resolution, entity, external_id from app.sync_conflicts where connection_id = :c"
    )
    assert tuple(conflict) == ("vendor_wins", "lead", sf_id)
    assert materialize(target, instance, sf_resources).success  # the pull applies Salesforce's copy
    assert (
        count(
            target,
            "select count(*) from app.leads where id = :i and company_name = 'Edited in Salesforce'",
            i=pulled_lead,
        )
        == 1
    )


def test_the_crm_push_sensor_asks_for_a_run_once_a_lead_changes(sandbox, instance, sf_resources):
    from core_api.leads.schemas import LeadCreate
    from core_api.leads.service import create_lead
    from pipelines.push_crm import crm_outbox_push

    target = make_target(sandbox, instance, accounts=1, contacts=0, leads=0, opportunities=0)

    def requested() -> list:
        context = dg.build_sensor_context(instance=instance, resources={"db": FirmsyncDatabase()})
        return [r for r in crm_outbox_push(context) if r.partition_key == target.key]

    assert requested() == []
    with tenant_session(target.tenant) as session:
        create_lead(session, target.tenant, LeadCreate(name="Lin Chen", company_name="Chen CPA"))
    [run] = requested()
    assert run.run_key.startswith(f"crm-push:{target.key}:")
