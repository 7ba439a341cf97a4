"""Pure functions between Active Directory entries and the platform's shapes.

A record is one directory entry as JSON: `dn` plus the attributes the client asked for, each as AD sends it
(MS-ADTS): strings decoded from UTF-8, single-valued attributes as one value and multi-valued ones (`member`,
`memberOf`, `objectClass`) as lists, `objectGUID` (16 bytes, the first three fields little-endian) as the
GUID's usual string form. The objectGUID is the identity: it survives renames and moves between OUs, which
change the DN, the sAMAccountName and the UPN.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from connectors.active_directory.config import normalise_dn

PROVIDER = "active_directory"

USER_ATTRIBUTES: tuple[str, ...] = (
    "objectGUID",
    "sAMAccountName",
    "userPrincipalName",
    "mail",
    "givenName",
    "sn",
    "displayName",
    "userAccountControl",
    "memberOf",
    "whenCreated",
    "whenChanged",
    "uSNChanged",
    "isDeleted",
)
GROUP_ATTRIBUTES: tuple[str, ...] = (
    "objectGUID",
    "cn",
    "sAMAccountName",
    "description",
    "groupType",
    "member",
    "whenCreated",
    "whenChanged",
    "uSNChanged",
    "isDeleted",
)
MULTI_VALUED = frozenset({"member", "memberof", "objectclass"})
BINARY = frozenset({"objectguid"})
_CANONICAL = {
    name.lower(): name for name in (*USER_ATTRIBUTES, *GROUP_ATTRIBUTES, "objectClass", "lastKnownParent")
}

# userAccountControl flags (MS-ADTS 2.2.16).
UF_ACCOUNTDISABLE = 0x2

USER_COLUMNS: tuple[str, ...] = (
    "external_id",
    "dn",
    "sam_account_name",
    "user_principal_name",
    "email",
    "given_name",
    "surname",
    "display_name",
    "user_account_control",
    "disabled",
    "member_of",
    "usn_changed",
    "created_at",
    "updated_at",
    "raw",
)
GROUP_COLUMNS: tuple[str, ...] = (
    "external_id",
    "dn",
    "name",
    "sam_account_name",
    "description",
    "group_type",
    "members",
    "usn_changed",
    "created_at",
    "updated_at",
    "raw",
)


def format_guid(value: bytes) -> str:
    """AD's objectGUID bytes → `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` (as PowerShell and ADSI print it)."""
    if len(value) != 16:
        raise ValueError(f"objectGUID must be 16 bytes, got {len(value)}")
    return str(uuid.UUID(bytes_le=bytes(value)))


def entry_record(dn: str, raw_attributes: dict[str, list[bytes]]) -> dict[str, Any]:
    """One search result entry (ldap3's `raw_attributes`) → a JSON record."""
    record: dict[str, Any] = {"dn": dn}
    for name, values in raw_attributes.items():
        base = name.split(";", 1)[0].lower()  # `member;range=0-*` after ldap3's range retrieval
        canonical = _CANONICAL.get(base, name.split(";", 1)[0])
        if base in BINARY:
            decoded: list[Any] = [format_guid(v) for v in values]
        else:
            decoded = [v.decode("utf-8") if isinstance(v, bytes | bytearray) else str(v) for v in values]
        if base in MULTI_VALUED:
            record[canonical] = record.get(canonical, []) + decoded
        elif decoded:
            record[canonical] = decoded[0]
    return record


def parse_generalized_time(value: Any) -> datetime | None:
    """GeneralizedTime as AD writes it (`20261202130501.0Z`) → an aware datetime."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not text.endswith("Z"):
        raise ValueError(f"not a UTC GeneralizedTime: {value!r}")
    main = text[:-1].split(".", 1)[0].split(",", 1)[0]
    return datetime.strptime(main, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


def _int(value: Any) -> int | None:
    return None if value is None or value == "" else int(value)


def usn_of(record: dict[str, Any]) -> int | None:
    return _int(record.get("uSNChanged"))


def is_disabled(record: dict[str, Any]) -> bool:
    """userAccountControl bit 0x2 (ACCOUNTDISABLE)."""
    return bool((_int(record.get("userAccountControl")) or 0) & UF_ACCOUNTDISABLE)


def is_deleted(record: dict[str, Any]) -> bool:
    """A tombstone: AD returns deleted objects (isDeleted TRUE) only to searches with the show-deleted
    control."""
    return str(record.get("isDeleted", "")).upper() == "TRUE"


def record_id(record: dict[str, Any]) -> str:
    guid = record.get("objectGUID")
    if not guid:
        raise ValueError(f"entry {record.get('dn')!r} has no objectGUID")
    return str(guid)


def _dns(values: Any) -> list[str]:
    return [str(v) for v in values or []]


def user_to_row(record: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.active_directory_users` columns for one user entry."""
    control = _int(record.get("userAccountControl"))
    return {
        "external_id": record_id(record),
        "dn": str(record["dn"]),
        "sam_account_name": record.get("sAMAccountName"),
        "user_principal_name": record.get("userPrincipalName"),
        "email": record.get("mail"),
        "given_name": record.get("givenName"),
        "surname": record.get("sn"),
        "display_name": record.get("displayName"),
        "user_account_control": control,
        "disabled": is_disabled(record),
        "member_of": _dns(record.get("memberOf")),
        "usn_changed": usn_of(record),
        "created_at": parse_generalized_time(record.get("whenCreated")),
        "updated_at": parse_generalized_time(record.get("whenChanged")),
        "raw": record,
    }


def group_to_row(record: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.active_directory_groups` columns for one group entry."""
    return {
        "external_id": record_id(record),
        "dn": str(record["dn"]),
        "name": record.get("cn"),
        "sam_account_name": record.get("sAMAccountName"),
        "description": record.get("description"),
        "group_type": _int(record.get("groupType")),
        "members": _dns(record.get("member")),
        "usn_changed": usn_of(record),
        "created_at": parse_generalized_time(record.get("whenCreated")),
        "updated_at": parse_generalized_time(record.get("whenChanged")),
        "raw": record,
    }


def user_email(row: dict[str, Any]) -> str | None:
    """The address a provisioned user signs in with: `mail`, else the user principal name."""
    for value in (row.get("email"), row.get("user_principal_name")):
        if value and "@" in str(value):
            return str(value).strip().lower()
    return None


def full_name(row: dict[str, Any]) -> str:
    if row.get("display_name"):
        return str(row["display_name"]).strip()
    parts = [row.get("given_name"), row.get("surname")]
    name = " ".join(str(p).strip() for p in parts if p)
    return name or str(row.get("sam_account_name") or "")


def mapped_roles(
    role_for_group: dict[str, str], groups: dict[str, list[str]], roles_order: tuple[str, ...]
) -> dict[str, str]:
    """Member DN (normalised) → the most privileged role any mapped group grants it, nested groups included.

    `role_for_group`: normalised mapped group DN → role; `groups`: normalised DN of every live group →
    its members' DNs. A group inside a mapped group passes the role on to its own members (cycles, which
    AD allows, are walked once).
    """
    rank = {role: position for position, role in enumerate(roles_order)}
    best: dict[str, str] = {}
    for group_dn, role in role_for_group.items():
        seen: set[str] = set()
        stack = [group_dn]
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            for member in groups.get(current, []):
                key = normalise_dn(member)
                if key in groups:
                    stack.append(key)
                    continue
                if key not in best or rank[role] < rank[best[key]]:
                    best[key] = role
    return best
