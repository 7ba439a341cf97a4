"""Pure mapping of Active Directory entries (as ldap3 returns them) to records, warehouse rows and roles."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from connectors.active_directory.config import ROLES
from connectors.active_directory.mapping import (
    entry_record,
    format_guid,
    full_name,
    group_to_row,
    is_deleted,
    mapped_roles,
    parse_generalized_time,
    user_email,
    user_to_row,
)

GUID = uuid.UUID("3f2504e0-4f89-11d3-9a0c-0305e82c3301")
# How AD stores that GUID: Data1..Data3 little-endian, Data4 as is (what ldap3 hands back as raw bytes).
GUID_BYTES = bytes.fromhex("e004253f894fd3119a0c0305e82c3301")


def _entry(**raw: list[bytes]) -> dict:
    base = {
        "objectGUID": [GUID_BYTES],
        "sAMAccountName": [b"jdoe"],
        "userPrincipalName": [b"jdoe@corp.example"],
        "givenName": [b"Jane"],
        "sn": [b"Do\xc3\xa9"],
        "userAccountControl": [b"514"],
        "memberOf": [b"CN=Staff,OU=Groups,DC=corp,DC=example", b"CN=VPN,OU=Groups,DC=corp,DC=example"],
        "whenChanged": [b"20261202093015.0Z"],
        "whenCreated": [b"20240101000000.0Z"],
        "uSNChanged": [b"88213"],
    }
    return entry_record("CN=Jane Doe,OU=Staff,DC=corp,DC=example", base | raw)


def test_object_guid_bytes_are_formatted_as_ad_prints_them():
    assert format_guid(GUID_BYTES) == str(GUID)
    with pytest.raises(ValueError, match="16 bytes"):
        format_guid(b"\x00" * 15)


def test_a_user_entry_maps_to_a_warehouse_row():
    row = user_to_row(_entry())
    assert row["external_id"] == str(GUID) and row["dn"].startswith("CN=Jane Doe")
    assert row["surname"] == "Doé" and row["usn_changed"] == 88213
    assert row["user_account_control"] == 514 and row["disabled"] is True  # 0x200 | 0x2
    assert row["member_of"] == [
        "CN=Staff,OU=Groups,DC=corp,DC=example",
        "CN=VPN,OU=Groups,DC=corp,DC=example",
    ]
    assert row["updated_at"] == datetime(2026, 12, 2, 9, 30, 15, tzinfo=UTC)
    assert row["raw"]["objectGUID"] == str(GUID)  # the JSON record, bytes formatted
    assert user_email(row) == "jdoe@corp.example" and full_name(row) == "Jane Doé"
    enabled = user_to_row(_entry(userAccountControl=[b"512"], mail=[b"Jane.Doe@Corp.Example"]))
    assert enabled["disabled"] is False and user_email(enabled) == "jane.doe@corp.example"


def test_ranged_member_values_are_one_list_and_tombstones_are_recognised():
    record = entry_record(
        "CN=Big,DC=corp,DC=example",
        {
            "objectGUID": [GUID_BYTES],
            "cn": [b"Big"],
            "member;range=0-1": [b"CN=A,DC=corp,DC=example", b"CN=B,DC=corp,DC=example"],
            "member;range=2-*": [b"CN=C,DC=corp,DC=example"],
            "isDeleted": [b"TRUE"],
        },
    )
    assert group_to_row(record)["members"] == [f"CN={x},DC=corp,DC=example" for x in "ABC"]
    assert is_deleted(record) and not is_deleted(_entry())


def test_an_entry_without_a_guid_cannot_be_mapped():
    with pytest.raises(ValueError, match="objectGUID"):
        user_to_row(entry_record("CN=X,DC=corp,DC=example", {"sAMAccountName": [b"x"]}))


def test_generalized_time_must_be_utc():
    assert parse_generalized_time("20260101120000Z") == datetime(2026, 1, 1, 12, tzinfo=UTC)
    with pytest.raises(ValueError, match="UTC"):
        parse_generalized_time("20260101120000+0100")


def test_roles_follow_nested_groups_and_the_most_privileged_mapping_wins():
    groups = {
        "cn=admins,dc=x": ["CN=Ann,DC=x"],
        "cn=staff,dc=x": ["CN=Ann,DC=x", "CN=Team,DC=x"],
        "cn=team,dc=x": ["cn=Bob, dc=x", "CN=Loop,DC=x"],
        "cn=loop,dc=x": ["CN=Team,DC=x", "CN=Cat,DC=x"],  # a cycle, which AD allows
        "cn=billing,dc=x": ["CN=Cat,DC=x"],
    }
    roles = mapped_roles(
        {"cn=admins,dc=x": "firm_admin", "cn=staff,dc=x": "staff", "cn=billing,dc=x": "billing"},
        groups,
        ROLES,
    )
    assert roles == {"cn=ann,dc=x": "firm_admin", "cn=bob,dc=x": "staff", "cn=cat,dc=x": "staff"}
