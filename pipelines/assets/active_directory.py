"""Active Directory, declared: a domain's users and groups → warehouse.active_directory_users / _groups →
the firm's app.users and app.memberships; assets built by the asset factory.

Both streams are incremental by uSNChanged through `ActiveDirectoryClient.pages` (the cursor is the
connector's JSON of the USN and the DC it came from: opaque to the cursor check). A delta pass cannot see
deletions, so the daily full refresh (`schedules.py`) soft-deletes what AD no longer returns; an entry
returned as a tombstone (`isDeleted`) is marked deleted at once. A cursor from another DC, or one ahead of
the DC's highestCommittedUSN, makes the engine fall back to a full refresh by itself.

The merge (`pipelines/directory_merge.py`, ADR 0012) provisions and deactivates the firm's members.
"""

from __future__ import annotations

import dagster as dg

from connectors.active_directory.client import GROUPS, USERS
from connectors.active_directory.config import ActiveDirectoryCredentials
from connectors.active_directory.mapping import group_to_row, is_deleted, record_id, user_to_row
from core_api.models.warehouse_directory import ACTIVE_DIRECTORY_GROUPS, ACTIVE_DIRECTORY_USERS, KEY
from pipelines.directory_merge import merge_directory_users
from pipelines.factory import build_vendor_definitions
from pipelines.partitions import active_directory_connections
from pipelines.streams import CanonicalSpec, StreamSpec, VendorSync

__all__ = ["ACTIVE_DIRECTORY", "APP_USERS", "GROUPS_ASSET", "USERS_ASSET", "active_directory"]

PROVIDER = "active_directory"
USERS_ASSET = dg.AssetKey(["active_directory", "users"])
GROUPS_ASSET = dg.AssetKey(["active_directory", "groups"])
APP_USERS = dg.AssetKey(["app", "users_from_active_directory"])

ACTIVE_DIRECTORY = VendorSync(
    provider=PROVIDER,
    group="active_directory",
    partitions=active_directory_connections,
    credentials_model=ActiveDirectoryCredentials,
    client_resource="active_directory",
    kinds=frozenset({"ldap", "postgres"}),
    streams=(
        StreamSpec(
            name=USERS,
            asset_key=USERS_ASSET,
            table=ACTIVE_DIRECTORY_USERS,
            description="Active Directory users under the connection's user search base (incremental by "
            "uSNChanged; disabled accounts flagged from userAccountControl; gone from a full pass: deleted).",
            map_record=user_to_row,
            record_id=record_id,
            pages=lambda client, cursor, page_size: client.pages(USERS, cursor, page_size),
            window_pages=lambda client, start, page_size: client.window_pages(USERS, start, page_size),
            key=KEY,
            count=lambda client: client.count(USERS),
            is_tombstone=is_deleted,
            opaque_cursor=True,
        ),
        StreamSpec(
            name=GROUPS,
            asset_key=GROUPS_ASSET,
            table=ACTIVE_DIRECTORY_GROUPS,
            description="Active Directory groups under the connection's group search base, with their "
            "member DNs (incremental by uSNChanged; a membership change is a change of the group).",
            map_record=group_to_row,
            record_id=record_id,
            pages=lambda client, cursor, page_size: client.pages(GROUPS, cursor, page_size),
            window_pages=lambda client, start, page_size: client.window_pages(GROUPS, start, page_size),
            key=KEY,
            count=lambda client: client.count(GROUPS),
            is_tombstone=is_deleted,
            opaque_cursor=True,
        ),
    ),
    canonical=(
        CanonicalSpec(
            asset_key=APP_USERS,
            deps=(USERS_ASSET, GROUPS_ASSET),
            description="Members of the firm provisioned from Active Directory: users of mapped groups get "
            "an app user and a membership with the most privileged mapped role (linked through "
            "app.external_refs entity 'user'); disabled, deleted or unmapped ones are deactivated, and "
            "re-activated when they return. Users AD did not provision are never touched.",
            merge=merge_directory_users,
        ),
    ),
)

active_directory = build_vendor_definitions(ACTIVE_DIRECTORY)
