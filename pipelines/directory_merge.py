"""Directory sync's merge: a connection's warehouse.active_directory_* rows → the firm's app.users and
app.memberships (ADR 0012).

- Identity: an AD user is linked to the app user it provisioned through app.external_refs (entity 'user',
  external id: the objectGUID), so renames, moves and address changes follow the same person. Only users this
  connection provisioned are ever touched: a firm member AD did not create, and any existing account with the
  same address (the person may belong to other firms), is left alone and counted as skipped.
- Role: the most privileged role among the mapped groups the user is in, nested groups included, read from
  the groups' `member` lists (AD changes the group, not the member, when a membership changes).
- Provisioning: a user in at least one mapped group, enabled, with an address (`mail`, else the UPN), who
  is not linked yet gets an app user with an unusable password (they sign in another way or reset it) and a
  membership with that role. Members of no mapped group are not provisioned.
- Deactivation: a linked user who is disabled (userAccountControl 0x2), in no mapped group any more, or
  deleted (gone from a full pass) has their membership deactivated (`deactivated_at`); it is re-activated,
  with the current role, when they come back. Nothing is ever deleted.
- The firm's last active firm_admin is never demoted or deactivated here: a directory mistake (a mapped
  group renamed, emptied or deleted) must not lock the firm out of the settings that would fix it.
Membership changes go through the ORM in the tenant session, so each is written to app.audit_log.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select

from connectors.active_directory.config import ROLES, ActiveDirectoryConfig, normalise_dn
from connectors.active_directory.mapping import full_name, mapped_roles, user_email
from core_api.models import Connection, ExternalRef, Membership, User
from core_api.models.warehouse_directory import ACTIVE_DIRECTORY_GROUPS, ACTIVE_DIRECTORY_USERS
from core_api.tenancy import Role, TenantContext

PROVIDER = "active_directory"
ENTITY = "user"
COUNTS = (
    "users_created",
    "users_updated",
    "users_role_changed",
    "users_deactivated",
    "users_reactivated",
    "users_unmapped",
    "users_skipped_existing",
    "users_skipped_no_email",
    "admins_kept",
)


def unusable_password_hash() -> str:
    """Not an argon2 hash, so no password ever verifies against it (verify_password returns False)."""
    return "!directory:" + secrets.token_urlsafe(24)


def _live_groups(session, connection_id: uuid.UUID, firm_id: uuid.UUID) -> dict[str, list[str]]:
    table = ACTIVE_DIRECTORY_GROUPS
    rows = session.execute(
        select(table.c.dn, table.c.members).where(
            table.c.connection_id == connection_id, table.c.firm_id == firm_id, table.c.deleted_at.is_(None)
        )
    ).all()
    return {normalise_dn(row.dn): list(row.members or []) for row in rows}


def _last_admin(session, tenant: TenantContext, membership: Membership) -> bool:
    """Whether `membership` is the firm's only active firm_admin (every admin row locked, as the team
    service does, so a concurrent demotion cannot race this one)."""
    if membership.role != Role.firm_admin or membership.deactivated_at is not None:
        return False
    admins = session.scalars(
        select(Membership.user_id)
        .where(
            Membership.firm_id == tenant.firm_id,
            Membership.role == Role.firm_admin,
            Membership.deactivated_at.is_(None),
        )
        .with_for_update()
    ).all()
    return set(admins) <= {membership.user_id}


def merge_directory_users(session, tenant: TenantContext, connection_id: uuid.UUID) -> dict[str, int]:
    counts = dict.fromkeys(COUNTS, 0)
    connection = session.scalar(
        select(Connection).where(Connection.id == connection_id, Connection.firm_id == tenant.firm_id)
    )
    config = ActiveDirectoryConfig.model_validate(connection.config)
    best = mapped_roles(config.role_for_groups(), _live_groups(session, connection_id, tenant.firm_id), ROLES)

    table = ACTIVE_DIRECTORY_USERS
    rows = session.execute(
        select(table).where(table.c.connection_id == connection_id, table.c.firm_id == tenant.firm_id)
    ).all()
    links = dict(
        session.execute(
            select(ExternalRef.external_id, ExternalRef.entity_id).where(
                ExternalRef.firm_id == tenant.firm_id,
                ExternalRef.connection_id == connection_id,
                ExternalRef.entity == ENTITY,
            )
        ).all()
    )
    linked_ids = set(links.values())
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(linked_ids)))} if links else {}
    memberships = (
        {
            m.user_id: m
            for m in session.scalars(
                select(Membership).where(
                    Membership.firm_id == tenant.firm_id, Membership.user_id.in_(linked_ids)
                )
            )
        }
        if links
        else {}
    )
    now = datetime.now(UTC)
    for row in rows:
        values = row._mapping
        live = values["deleted_at"] is None and not values["disabled"]
        role = best.get(normalise_dn(values["dn"])) if live else None
        user_id = links.get(values["external_id"])
        if user_id is not None and user_id not in users:
            # The app user was removed since (its link outlived it): forget the link, provision afresh.
            session.execute(
                delete(ExternalRef).where(
                    ExternalRef.firm_id == tenant.firm_id,
                    ExternalRef.connection_id == connection_id,
                    ExternalRef.entity == ENTITY,
                    ExternalRef.external_id == values["external_id"],
                )
            )
            user_id = None
        if user_id is None:
            if role is None:
                if live:
                    counts["users_unmapped"] += 1
                continue
            _provision(session, tenant, connection_id, values, Role(role), counts)
            continue
        _update(
            session, tenant, users.get(user_id), memberships.get(user_id), user_id, values, role, now, counts
        )
    session.flush()
    return counts


def _provision(session, tenant, connection_id, values: Any, role: Role, counts: dict[str, int]) -> None:
    email = user_email(values)
    if email is None:
        counts["users_skipped_no_email"] += 1
        return
    if session.scalar(select(User.id).where(func.lower(User.email) == email)) is not None:
        # An account AD did not create (here or in another firm): never adopted, an admin invites it.
        counts["users_skipped_existing"] += 1
        return
    user = User(email=email, password_hash=unusable_password_hash(), full_name=full_name(values)[:200])
    session.add(user)
    session.flush()
    session.add(Membership(firm_id=tenant.firm_id, user_id=user.id, role=role))
    session.add(
        ExternalRef(
            firm_id=tenant.firm_id,
            entity=ENTITY,
            entity_id=user.id,
            provider=PROVIDER,
            connection_id=connection_id,
            external_id=values["external_id"],
        )
    )
    counts["users_created"] += 1


def _update(session, tenant, user, membership, user_id, values, role, now, counts) -> None:
    if user is not None:
        name = full_name(values)[:200]
        email = user_email(values)
        changed = False
        if name and user.full_name != name:
            user.full_name, changed = name, True
        if email and email != user.email:
            taken = session.scalar(select(User.id).where(func.lower(User.email) == email, User.id != user.id))
            if taken is None:
                user.email, changed = email, True
        counts["users_updated"] += int(changed)
    if role is None:
        if membership is None or membership.deactivated_at is not None:
            return
        if _last_admin(session, tenant, membership):
            counts["admins_kept"] += 1
            return
        membership.deactivated_at = now
        counts["users_deactivated"] += 1
        return
    if membership is None:  # removed from the firm by hand since: the directory says they belong
        session.add(Membership(firm_id=tenant.firm_id, user_id=user_id, role=Role(role)))
        counts["users_reactivated"] += 1
        return
    if membership.deactivated_at is not None:
        membership.deactivated_at = None
        counts["users_reactivated"] += 1
    if membership.role != Role(role):
        if membership.role == Role.firm_admin and _last_admin(session, tenant, membership):
            counts["admins_kept"] += 1
            return
        membership.role = Role(role)
        counts["users_role_changed"] += 1
