"""The Active Directory assets, materialised for real: slapd playing a domain
(deploy/local/directory_server.py) over LDAPS → warehouse.active_directory_users / _groups → the firm's
app.users and app.memberships."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import dagster as dg
import pytest
from sqlalchemy import text

from core_api.db import owner_engine, session_factory, tenant_session
from core_api.models import Membership, User
from core_api.tenancy import Role, TenantContext
from pipelines.assets.active_directory import APP_USERS, GROUPS_ASSET, USERS_ASSET, active_directory
from pipelines.partitions import active_directory_connections
from pipelines.resources import ActiveDirectoryApi
from tests.pipelines.conftest import add_connection, new_firm


@dataclass
class Domain:
    tree: object
    groups: dict[str, str]
    users: dict[str, str]


@dataclass
class Target:
    tenant: TenantContext
    connection_id: uuid.UUID

    @property
    def key(self) -> str:
        return str(self.connection_id)


def add_member(tenant: TenantContext, email: str, role: Role) -> uuid.UUID:
    """A member of the firm that AD did not provision."""
    with session_factory(owner_engine())() as session, session.begin():
        user = User(email=email, password_hash="!", full_name="Manual Member")
        session.add(user)
        session.flush()
        session.add(Membership(firm_id=tenant.firm_id, user_id=user.id, role=role))
        return user.id


@pytest.fixture
def domain(ldap_server) -> Domain:
    tree = ldap_server.new_tree()
    tag = tree.dn.split(",")[0][3:]  # addresses unique to this test's tree
    users = {
        "alice": tree.add_user("alice", "Alice", "Able", mail=f"alice.{tag}@firm.test"),
        "bob": tree.add_user("bob", "Bob", "Baker", mail=f"bob.{tag}@firm.test"),
        "carol": tree.add_user("carol", "Carol", "Cole", mail=f"carol.{tag}@firm.test"),
        "dave": tree.add_user("dave", "Dave", "Dunn", mail=f"dave.{tag}@firm.test"),
        "erin": tree.add_user("erin", "Erin", "Eve", mail=f"erin.{tag}@firm.test", disabled=True),
        "frank": tree.add_user("frank", "Frank", "Fox", upn=f"frank.{tag}@firm.test"),  # no mail
    }
    juniors = tree.add_group("Juniors", [users["carol"]])
    groups = {
        "admins": tree.add_group("Firmsync Admins", [users["alice"]]),
        "partners": tree.add_group("Firmsync Partners", [users["bob"]]),
        # Nested: Juniors' members are staff through it.
        "staff": tree.add_group("Firmsync Staff", [users["alice"], users["erin"], users["frank"], juniors]),
        "juniors": juniors,
        "unmapped": tree.add_group("Everyone", list(users.values())),
    }
    return Domain(tree, groups, users)


def _mappings(domain: Domain) -> list[dict]:
    return [
        {"group_dn": domain.groups["admins"], "role": "firm_admin"},
        {"group_dn": domain.groups["partners"].upper(), "role": "partner"},  # DNs compare case-insensitively
        {"group_dn": domain.groups["staff"], "role": "staff"},
    ]


def _connect(ldap_server, domain: Domain, instance, tenant: TenantContext | None = None) -> Target:
    tenant = tenant or new_firm()
    body = {
        "provider": "active_directory",
        "config": ldap_server.config(domain.tree, _mappings(domain)),
        "credentials": {"password": ldap_server.service_password},
    }
    target = Target(tenant, add_connection(tenant, body))
    instance.add_dynamic_partitions(active_directory_connections.name, [target.key])
    return target


@pytest.fixture
def target(database_url, ldap_server, domain, instance) -> Target:
    return _connect(ldap_server, domain, instance)


@pytest.fixture
def ad_resources(resources):
    return resources | {
        "active_directory": ActiveDirectoryApi(
            timeout_seconds=5, max_attempts=3, retry_base_delay_seconds=0.05
        )
    }


def _sync(target: Target, instance, resources, *, full: bool = False, failing: tuple[str, ...] = ()):
    result = dg.materialize(
        [*active_directory.assets, *active_directory.checks],
        partition_key=target.key,
        instance=instance,
        resources=resources,
        tags={"firmsync/full_refresh": "true"} if full else None,
        raise_on_error=False,
    )
    assert result.success
    failed = [(c.check_name, c.description) for c in result.get_asset_check_evaluations() if not c.passed]
    assert [name for name, _ in failed] == list(failing), failed
    return result


def _metadata(result, key) -> dict:
    event = next(e for e in result.get_asset_materialization_events() if e.asset_key == key)
    return {k: v.value for k, v in event.materialization.metadata.items()}


def _members(target: Target) -> dict[str, tuple[str, bool, str]]:
    """email local part → (role, active, full name) of every member of the firm."""
    with tenant_session(target.tenant) as session:
        rows = session.execute(
            text(
                "select u.email, m.role::text, m.deactivated_at is null, u.full_name from app.memberships m "
                "join app.users u on u.id = m.user_id where m.firm_id = :f"
            ),
            {"f": target.tenant.firm_id},
        ).all()
    return {r[0].split(".")[0].split("@")[0]: (r[1], r[2], r[3]) for r in rows}


def test_the_first_sync_provisions_members_of_mapped_groups_with_their_roles(
    target, domain, instance, ad_resources
):
    manual = add_member(target.tenant, f"manual-{uuid.uuid4().hex[:8]}@firm.example", Role.manager)
    result = _sync(target, instance, ad_resources)

    assert _metadata(result, USERS_ASSET)["rows_inserted"] == 6
    assert _metadata(result, GROUPS_ASSET)["rows_inserted"] == 5
    counts = _metadata(result, APP_USERS)
    assert (counts["users_created"], counts["users_unmapped"]) == (4, 1)  # dave is in no mapped group
    members = _members(target)
    assert members["alice"] == ("firm_admin", True, "Alice Able")  # admins and staff: the higher role
    assert members["bob"][:2] == ("partner", True)
    assert members["carol"][:2] == ("staff", True)  # through the nested Juniors group
    assert members["frank"][:2] == ("staff", True)  # no mail: the UPN is the address
    assert "dave" not in members and "erin" not in members  # unmapped; disabled from the start
    with tenant_session(target.tenant) as session:
        refs = session.execute(
            text(
                "select r.external_id, w.sam_account_name, u.password_hash from app.external_refs r "
                "join warehouse.active_directory_users w on w.connection_id = r.connection_id "
                "and w.external_id = r.external_id join app.users u on u.id = r.entity_id "
                "where r.connection_id = :c and r.entity = 'user'"
            ),
            {"c": target.connection_id},
        ).all()
        manual_row = session.execute(
            text("select role::text, deactivated_at from app.memberships where user_id = :u"), {"u": manual}
        ).one()
    assert sorted(r.sam_account_name for r in refs) == ["alice", "bob", "carol", "frank"]
    assert all(str(uuid.UUID(r.external_id)) == r.external_id for r in refs)  # objectGUIDs
    assert all(r.password_hash.startswith("!directory:") for r in refs)  # no password signs in
    assert tuple(manual_row) == ("manager", None)


def test_changes_in_the_directory_reach_the_members(target, domain, instance, ad_resources):
    _sync(target, instance, ad_resources)
    tree, users, groups = domain.tree, domain.users, domain.groups

    tree.modify(users["bob"], displayName="Robert Baker")
    tree.remove_member(groups["partners"], users["bob"])
    tree.add_member(groups["staff"], users["bob"])
    result = _sync(target, instance, ad_resources)
    users_meta = _metadata(result, USERS_ASSET)
    assert (users_meta["rows_updated"], users_meta["rows_inserted"]) == (1, 0)  # the delta: bob only
    assert _metadata(result, GROUPS_ASSET)["rows_updated"] == 2
    assert _members(target)["bob"] == ("staff", True, "Robert Baker")

    # Disabled in AD (userAccountControl 0x2): deactivated; enabled again: back with the same role.
    tree.set_disabled(users["carol"], True)
    # Out of every mapped group: deactivated; back in one: re-activated with that group's role.
    tree.remove_member(groups["staff"], users["frank"])
    counts = _metadata(_sync(target, instance, ad_resources), APP_USERS)
    assert counts["users_deactivated"] == 2
    members = _members(target)
    assert members["carol"][:2] == ("staff", False) and members["frank"][:2] == ("staff", False)

    tree.set_disabled(users["carol"], False)
    tree.add_member(groups["partners"], users["frank"])
    counts = _metadata(_sync(target, instance, ad_resources), APP_USERS)
    assert counts["users_reactivated"] == 2 and counts["users_created"] == 0
    members = _members(target)
    assert members["carol"][:2] == ("staff", True) and members["frank"][:2] == ("partner", True)

    # A user who joins a mapped group is provisioned by the next (incremental) sync.
    tree.add_member(groups["staff"], users["dave"])
    assert _metadata(_sync(target, instance, ad_resources), APP_USERS)["users_created"] == 1
    assert _members(target)["dave"][:2] == ("staff", True)


def test_a_deleted_entry_is_soft_deleted_by_a_full_refresh(target, domain, instance, ad_resources):
    _sync(target, instance, ad_resources)
    domain.tree.delete(domain.users["frank"])

    # A delta cannot see deletions: the count check (not blocking) says AD has one user fewer.
    incremental = _sync(target, instance, ad_resources, failing=("row_count_matches_source",))
    assert _metadata(incremental, USERS_ASSET)["rows_marked_deleted"] == 0
    assert _members(target)["frank"][1] is True

    full = _sync(target, instance, ad_resources, full=True)
    assert _metadata(full, USERS_ASSET)["rows_marked_deleted"] == 1
    assert _metadata(full, APP_USERS)["users_deactivated"] == 1
    assert _members(target)["frank"][:2] == ("staff", False)
    with tenant_session(target.tenant) as session:
        gone = session.execute(
            text(
                "select deleted_at is not null from warehouse.active_directory_users "
                "where connection_id = :c and sam_account_name = 'frank'"
            ),
            {"c": target.connection_id},
        ).scalar()
    assert gone is True


def test_the_last_firm_admin_is_never_demoted_or_deactivated(target, domain, instance, ad_resources):
    _sync(target, instance, ad_resources)
    domain.tree.remove_member(domain.groups["admins"], domain.users["alice"])
    counts = _metadata(_sync(target, instance, ad_resources), APP_USERS)
    assert counts["admins_kept"] == 1 and _members(target)["alice"][:2] == ("firm_admin", True)

    add_member(target.tenant, f"owner-{uuid.uuid4().hex[:8]}@firm.example", Role.firm_admin)
    counts = _metadata(_sync(target, instance, ad_resources), APP_USERS)
    assert counts["users_role_changed"] == 1 and _members(target)["alice"][:2] == ("staff", True)


def test_another_firms_connection_sees_none_of_these_rows(
    target, ldap_server, domain, instance, ad_resources
):
    _sync(target, instance, ad_resources)
    other = _connect(ldap_server, domain, instance)  # another firm, the same directory
    counts = _metadata(_sync(other, instance, ad_resources), APP_USERS)
    # The people already have accounts (provisioned for the first firm): never adopted by another.
    assert counts["users_created"] == 0 and counts["users_skipped_existing"] == 4
    assert _members(other) == {}

    for mine, theirs in ((target, other), (other, target)):
        with tenant_session(mine.tenant) as session:
            for table in ("active_directory_users", "active_directory_groups"):
                visible = session.execute(
                    text(f"select connection_id, count(*) from warehouse.{table} group by 1")
                ).all()
                assert dict(visible) == {mine.connection_id: 6 if table.endswith("users") else 5}
                hidden = session.execute(
                    text(f"select count(*) from warehouse.{table} where connection_id = :c"),
                    {"c": theirs.connection_id},
                ).scalar()
                assert hidden == 0


def test_active_directory_is_declared_with_its_jobs_and_nightly_full_refresh():
    from pipelines.definitions import defs

    jobs = {job.name for job in defs.resolve_all_job_defs()}
    assert {"active_directory_sync_job", "active_directory_sweep_job"} <= jobs
    users = defs.get_assets_def(USERS_ASSET)
    assert users.partitions_def == active_directory_connections and users.op.pool == "active_directory"
    merge = defs.get_assets_def(APP_USERS)
    assert set(merge.asset_deps[merge.key]) == {USERS_ASSET, GROUPS_ASSET}
    schedule = defs.get_repository_def().get_schedule_def("active_directory_full_refresh")
    assert schedule.job_name == "active_directory_sweep_job" and schedule.cron_schedule == "30 2 * * *"


def test_the_nightly_full_refresh_asks_for_every_live_connection(target):
    from datetime import UTC, datetime

    from pipelines.resources import FirmsyncDatabase
    from pipelines.schedules import SCHEDULES

    schedule = next(s for s in SCHEDULES if s.name == "active_directory_full_refresh")
    context = dg.build_schedule_context(
        resources={"db": FirmsyncDatabase()}, scheduled_execution_time=datetime.now(UTC)
    )
    requests = schedule.evaluate_tick(context).run_requests
    configs = [r.run_config["ops"]["active_directory_sweep"]["config"] for r in requests]
    assert target.key in [key for config in configs for key in config["connection_ids"]]
    assert all(config["full_refresh"] for config in configs)


def test_a_deletion_in_ad_reaches_the_firm_with_the_next_incremental_sync(
    target, domain, instance, ad_resources
):
    _sync(target, instance, ad_resources)
    domain.tree.delete_like_ad(domain.users["carol"])  # a tombstone in CN=Deleted Objects, as AD keeps it

    result = _sync(target, instance, ad_resources)
    assert _metadata(result, USERS_ASSET)["full_refresh"] is False
    assert _metadata(result, APP_USERS)["users_deactivated"] == 1
    assert _members(target)["carol"][:2] == ("staff", False)
    with tenant_session(target.tenant) as session:
        row = session.execute(
            text(
                "select deleted_at is not null, dn, raw->>'isDeleted' from warehouse.active_directory_users "
                "where connection_id = :c and sam_account_name = 'carol'"
            ),
            {"c": target.connection_id},
        ).one()
    assert row[0] is True and row[1] == domain.users["carol"] and row[2] == "TRUE"  # last known columns kept


def test_ad_stays_the_source_of_truth_for_the_members_it_provisioned(target, domain, instance, ad_resources):
    _sync(target, instance, ad_resources)
    with session_factory(owner_engine())() as session, session.begin():
        session.execute(
            text(
                "update app.memberships m set role = 'manager' from app.users u "
                "where u.id = m.user_id and m.firm_id = :f and u.email like 'carol.%'"
            ),
            {"f": target.tenant.firm_id},
        )
        # An app user removed outright: its external ref outlives it.
        session.execute(
            text(
                "delete from app.users u using app.memberships m "
                "where m.user_id = u.id and m.firm_id = :f and u.email like 'frank.%'"
            ),
            {"f": target.tenant.firm_id},
        )
    counts = _metadata(_sync(target, instance, ad_resources), APP_USERS)
    assert (counts["users_role_changed"], counts["users_created"]) == (1, 1)
    members = _members(target)
    assert members["carol"][:2] == ("staff", True) and members["frank"][:2] == ("staff", True)


def test_a_refused_bind_fails_fast_and_marks_the_connection(
    database_url, ldap_server, domain, instance, ad_resources
):
    tenant = new_firm()
    body = {
        "provider": "active_directory",
        "config": ldap_server.config(domain.tree, _mappings(domain)),
        "credentials": {"password": "an-old-password"},
    }
    target = Target(tenant, add_connection(tenant, body))
    instance.add_dynamic_partitions(active_directory_connections.name, [target.key])
    result = dg.materialize(
        active_directory.assets,
        partition_key=target.key,
        instance=instance,
        resources=ad_resources,
        raise_on_error=False,
    )
    assert not result.success
    retries = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert retries == []  # a permanent error is not retried
    with tenant_session(tenant) as session:
        status, outcome, error = session.execute(
            text("select status, last_sync_status, last_sync_error from app.connections where id = :c"),
            {"c": target.connection_id},
        ).one()
    assert (status, outcome) == ("needs_reauth", "failed")
    assert "invalidCredentials" in error and "an-old-password" not in error
    assert _members(target) == {}


def test_the_demo_firm_is_provisioned_from_make_runs_demo_domain(
    database_url, sandbox, ldap_server, instance, ad_resources, settings
):
    """`make run` starts slapd with the demo domain (deploy/local/directory_server.py) and hands its
    connection body to the demo seeding: the demo firm's members come from its mapped groups."""
    from core_api.demo import seed_demo
    from core_api.tenancy import issue_tenant_context
    from deploy.local.directory_server import seed_demo_domain

    body = seed_demo_domain(ldap_server)
    assert seed_demo_domain(ldap_server) == body  # the domain is seeded once; a restart finds it
    configured = settings.model_copy(update={"demo_directory": body})
    firm_id = seed_demo(configured, sandbox_url=sandbox.url)
    assert seed_demo(configured, sandbox_url=sandbox.url) == firm_id  # idempotent: still one connection
    tenant = issue_tenant_context(firm_id, Role.firm_admin)
    with tenant_session(tenant) as session:
        [(connection_id,)] = session.execute(
            text("select id from app.connections where provider = 'active_directory'")
        ).all()
    target = Target(tenant, connection_id)
    instance.add_dynamic_partitions(active_directory_connections.name, [target.key])
    _sync(target, instance, ad_resources)
    members = _members(target)
    assert {name: members[name][:2] for name in ("maya", "james", "sofia", "oskar", "lea")} == {
        "maya": ("partner", True),
        "james": ("manager", True),
        "sofia": ("staff", True),
        "oskar": ("staff", True),
        "lea": ("billing", True),
    }
    assert members.get("tom", ("staff", False))[1] is False  # disabled in AD: never an active member
    assert "riley" not in members  # in no mapped group
    assert members["admin"][:2] == ("firm_admin", True)  # the demo admin, whom AD did not provision
