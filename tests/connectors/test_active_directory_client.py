"""The Active Directory client through ldap3 against a real slapd playing a domain (tests/support):
paging, LDAPS and StartTLS verified against the test CA, credentials, the uSNChanged delta, dropped
connections."""

from __future__ import annotations

import json
import logging
import time
import uuid
from datetime import UTC, datetime

import pytest
from ldap3.core import exceptions as ldap_errors
from pydantic import ValidationError

from connectors.active_directory import (
    ActiveDirectoryClient,
    ActiveDirectoryConfig,
    ActiveDirectoryCredentials,
)
from connectors.active_directory.client import dump_cursor, translate
from connectors.base import AuthError, CursorExpiredError, PermanentError, RetryPolicy, TransientError
from connectors.sandbox.common.tls import ensure_certificates
from deploy.local.directory_server import LdapServer
from tests.support.tcp_proxy import DroppingProxy

FAST = RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05)


def _client(server: LdapServer, tree, password: str | None = None, **overrides) -> ActiveDirectoryClient:
    admins = tree.add_group(f"admins-{uuid.uuid4().hex[:6]}") if "role_mappings" not in overrides else None
    mappings = overrides.pop("role_mappings", [{"group_dn": admins, "role": "firm_admin"}])
    config = ActiveDirectoryConfig.model_validate(server.config(tree, mappings, **overrides))
    credentials = ActiveDirectoryCredentials(password=password or server.service_password)
    return ActiveDirectoryClient(config, credentials, retry_policy=FAST, timeout=5)


def _read(
    client: ActiveDirectoryClient, stream: str, cursor: str | None = None, page_size: int | None = None
):
    pages = list(client.pages(stream, cursor, page_size))
    return pages, [r for p in pages for r in p.records]


def test_paged_search_reads_more_entries_than_a_page(ldap_server):
    tree = ldap_server.new_tree()
    tree.add_users(120)
    with _client(ldap_server, tree) as client:
        pages, records = _read(client, "users", page_size=50)
        assert [len(p.records) for p in pages] == [50, 50, 20]
        assert [p.has_more for p in pages] == [True, True, False]
        # Only the last page moves the cursor: entries arrive in no USN order.
        assert pages[0].cursor is None and pages[1].cursor is None and pages[2].cursor is not None
        guids = {r["objectGUID"] for r in records}
        assert len(guids) == 120 and all(str(uuid.UUID(g)) == g for g in guids)
        assert client.count("users") == 120
        assert json.loads(pages[-1].cursor)["usn"] == max(int(r["uSNChanged"]) for r in records)


def test_objectguid_is_formatted_as_ad_prints_it(ldap_server):
    tree = ldap_server.new_tree()
    guid = uuid.uuid4()
    tree.add_user("gus", "Gus", "Guid", guid=guid, mail="gus@firm.test")
    with _client(ldap_server, tree) as client:
        _, records = _read(client, "users")
    assert [r["objectGUID"] for r in records] == [str(guid)]
    assert records[0]["mail"] == "gus@firm.test" and records[0]["userAccountControl"] == "512"


def test_ldaps_and_starttls_are_verified_against_the_ca(ldap_server, tmp_path):
    tree = ldap_server.new_tree()
    tree.add_user("tls", "Tina", "Tls")
    with _client(ldap_server, tree) as client:  # LDAPS on its own port
        assert [r["sAMAccountName"] for r in _read(client, "users")[1]] == ["tls"]
    starttls = {"use_ssl": False, "start_tls": True, "port": ldap_server.port, "host": "localhost"}
    with _client(ldap_server, tree, **starttls) as client:
        assert [r["sAMAccountName"] for r in _read(client, "users")[1]] == ["tls"]
        client.check()
        assert client._connection.tls_started and not client._connection.server.ssl

    other_ca = ensure_certificates(tmp_path).ca_cert  # a CA that did not sign the server's certificate
    for overrides in ({}, starttls):
        with (
            _client(ldap_server, tree, ca_bundle=str(other_ca), **overrides) as client,
            pytest.raises(PermanentError, match="certificate"),
        ):
            client.check()


def test_an_unencrypted_connection_is_refused_by_the_config(ldap_server):
    tree = ldap_server.new_tree()
    body = ldap_server.config(tree, [{"group_dn": tree.groups_dn, "role": "staff"}], use_ssl=False)
    with pytest.raises(ValidationError, match="must be encrypted"):
        ActiveDirectoryConfig.model_validate(body)
    with pytest.raises(ValidationError, match="role_mappings"):
        ActiveDirectoryConfig.model_validate(
            ldap_server.config(tree, [{"group_dn": tree.groups_dn, "role": "superuser"}])
        )


def test_a_bad_password_is_a_clear_permanent_auth_error(ldap_server, caplog):
    tree = ldap_server.new_tree()
    wrong = "Not-The-Password-42"
    caplog.set_level(logging.DEBUG)
    with _client(ldap_server, tree, password=wrong) as client, pytest.raises(AuthError) as raised:
        list(client.pages("users"))
    assert "invalidCredentials (49)" in str(raised.value) and not raised.value.retryable
    assert wrong not in str(raised.value) and wrong not in caplog.text
    assert client.reconnects == 0  # not retried


def test_a_missing_search_base_is_permanent(ldap_server):
    tree = ldap_server.new_tree()
    with (
        _client(ldap_server, tree, user_search_base=f"ou=Nowhere,{tree.dn}") as client,
        pytest.raises(PermanentError, match="noSuchObject"),
    ):
        list(client.pages("users"))


def test_delta_returns_only_what_changed_since_the_cursor(ldap_server):
    tree = ldap_server.new_tree()
    alice = tree.add_user("alice", "Alice", "Able")
    bob = tree.add_user("bob", "Bob", "Baker")
    group = tree.add_group("Partners", [alice])
    with _client(ldap_server, tree) as client:
        _, users = _read(client, "users")
        user_cursor = client.pages("users").__next__().cursor
        group_pages, _ = _read(client, "groups")
        assert {r["sAMAccountName"] for r in users} == {"alice", "bob"}

        assert _read(client, "users", user_cursor)[1] == []  # nothing changed
        tree.modify(bob, displayName="Robert Baker")
        carol = tree.add_user("carol", "Carol", "Cole")
        pages, changed = _read(client, "users", user_cursor)
        assert {r["sAMAccountName"] for r in changed} == {"bob", "carol"}
        assert next(r for r in changed if r["sAMAccountName"] == "bob")["displayName"] == "Robert Baker"
        new_cursor = pages[-1].cursor
        assert json.loads(new_cursor)["usn"] > json.loads(user_cursor)["usn"]
        assert _read(client, "users", new_cursor)[1] == []

        # AD semantics: a membership change bumps the group's uSNChanged, not the member's.
        tree.add_member(group, carol)
        assert _read(client, "users", new_cursor)[1] == []
        changed_groups = _read(client, "groups", group_pages[-1].cursor)[1]
        assert [g["cn"] for g in changed_groups] == ["Partners"]
        assert {m.split(",")[0] for m in changed_groups[0]["member"]} == {"cn=Alice Able", "cn=Carol Cole"}


def test_a_dropped_connection_restarts_the_pass_and_loses_nothing(ldap_server):
    tree = ldap_server.new_tree()
    tree.add_users(30)
    proxy = DroppingProxy(ldap_server.ldaps_port)
    try:
        with _client(ldap_server, tree, port=proxy.port) as client:
            pages = client.pages("users", page_size=10)
            first = next(pages)
            proxy.drop()  # the paged-results cookie dies with the connection
            rest = list(pages)
        seen = {r["objectGUID"] for r in first.records} | {r["objectGUID"] for p in rest for r in p.records}
        assert len(seen) == 30
        assert client.reconnects >= 1 and proxy.accepted >= 2
        assert rest[-1].cursor is not None and not rest[-1].has_more
    finally:
        proxy.stop()


def test_a_dc_that_publishes_highest_committed_usn_bounds_the_delta_and_pins_the_cursor():
    dc1 = "CN=NTDS Settings,CN=DC1,CN=Servers,CN=Site,CN=Sites,CN=Configuration,DC=firm,DC=test"
    server = LdapServer(root_dse={"dsServiceName": dc1, "highestCommittedUSN": "12004"})
    try:
        tree = server.new_tree()
        for sam in ("u1", "u2", "u3", "u4", "u5"):  # USNs 12001..12005 (the service account took 12001)
            tree.add_user(sam, sam.upper(), "User")
        with _client(server, tree, role_mappings=[{"group_dn": tree.groups_dn, "role": "staff"}]) as client:
            pages, records = _read(client, "users")
            # Past highestCommittedUSN is still being committed: read next time, not now.
            assert all(int(r["uSNChanged"]) <= 12004 for r in records) and len(records) == 3
            assert json.loads(pages[-1].cursor) == {"usn": 12004, "server": dc1}
            other_dc = dump_cursor(12000, dc1.replace("DC1", "DC2"))
            with pytest.raises(CursorExpiredError, match="DC2"):
                list(client.pages("users", other_dc))
            with pytest.raises(CursorExpiredError, match="behind"):
                list(client.pages("users", dump_cursor(13000, dc1)))
    finally:
        server.stop()


def test_a_time_window_reads_what_changed_since_by_when_changed(ldap_server):
    tree = ldap_server.new_tree()
    tree.add_user("old", "Olive", "Old")
    bob = tree.add_user("bob", "Bob", "Baker")
    time.sleep(1.1)  # whenChanged has whole seconds: the window starts after those writes' second
    start = datetime.now(UTC).replace(microsecond=0)
    tree.modify(bob, displayName="Robert Baker")
    tree.add_user("new", "Nina", "New")
    with _client(ldap_server, tree) as client:
        pages = list(client.window_pages("users", start.isoformat()))
    assert sorted(r["sAMAccountName"] for p in pages for r in p.records) == ["bob", "new"]
    assert all(p.cursor is None for p in pages)  # a backfill never moves the stream's cursor


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (ldap_errors.LDAPBusyResult(result=51, description="busy", message="server busy"), TransientError),
        (ldap_errors.LDAPUnavailableResult(result=52, description="unavailable"), TransientError),
        (ldap_errors.LDAPSocketReceiveError("connection reset by peer"), TransientError),
        (ldap_errors.LDAPSessionTerminatedByServerError("session terminated by server"), TransientError),
        (ldap_errors.LDAPInvalidCredentialsResult(result=49, description="invalidCredentials"), AuthError),
        (ldap_errors.LDAPNoSuchObjectResult(result=32, description="noSuchObject"), PermanentError),
        (
            ldap_errors.LDAPSocketOpenError("socket ssl wrapping error: certificate verify failed"),
            PermanentError,
        ),
    ],
)
def test_ldap_errors_are_typed_by_whether_a_retry_can_help(error, expected):
    translated = translate(error)
    assert type(translated) is expected and translated.retryable == (expected is TransientError)


def test_a_certificate_for_another_name_is_refused(ldap_server):
    """The server's certificate names localhost and 127.0.0.1; reached as 127.0.0.2 it must not be trusted."""
    tree = ldap_server.new_tree()
    proxy = DroppingProxy(ldap_server.ldaps_port, listen_host="127.0.0.2")
    try:
        with (
            _client(ldap_server, tree, host="127.0.0.2", port=proxy.port) as client,
            pytest.raises(PermanentError, match=r"not trusted.*doesn't match any name in \['127.0.0.2'\]"),
        ):
            client.check()
    finally:
        proxy.stop()


def test_a_delta_reads_the_streams_tombstones_from_deleted_objects(ldap_server):
    tree, elsewhere = ldap_server.new_tree(), ldap_server.new_tree()
    bob = tree.add_user("bob", "Bob", "Baker")
    tree.add_user("amy", "Amy", "Adams")
    outsider = elsewhere.add_user("otto", "Otto", "Other")
    with _client(ldap_server, tree) as client:
        first, _ = _read(client, "users")
        bob_guid = next(r for p in first for r in p.records if r["sAMAccountName"] == "bob")["objectGUID"]
        tree.delete_like_ad(bob)
        elsewhere.delete_like_ad(outsider)  # another OU's deletion is not this stream's
        pages, changed = _read(client, "users", first[-1].cursor)
    assert [(r["objectGUID"], r["isDeleted"]) for r in changed] == [(bob_guid, "TRUE")]
    assert changed[0]["lastKnownParent"] == tree.users_dn
    # The cursor passes the other OU's tombstone too (seen, just not this stream's).
    assert json.loads(pages[-1].cursor)["usn"] == int(changed[0]["uSNChanged"]) + 1
    assert not pages[-1].has_more and all(p.has_more for p in pages[:-1])


def test_without_a_readable_deleted_objects_container_a_delta_still_succeeds(ldap_server):
    tree = ldap_server.new_tree()
    bob = tree.add_user("bob", "Bob", "Baker")
    hidden = {"deleted_objects_dn": f"cn=Not Visible,{ldap_server.base_dn}"}  # AD hides it from non-admins
    with _client(ldap_server, tree, **hidden) as client:
        first, _ = _read(client, "users")
        tree.delete_like_ad(bob)
        pages, changed = _read(client, "users", first[-1].cursor)
    assert changed == [] and pages[-1].cursor is not None  # the nightly full pass will see it
