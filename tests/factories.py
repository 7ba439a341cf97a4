"""Test data through the real models and the real password hashing — no shortcuts around RLS."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Connection as SAConnection
from sqlalchemy.orm import Session

from core_api.models import Firm, Membership, User
from core_api.security.passwords import hash_password
from core_api.tenancy import Role
from tests.conftest import set_firm

PASSWORD = "correct horse battery staple"


@dataclass
class FirmUser:
    firm_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    role: Role


def create_firm_user(conn: SAConnection, *, role: Role = Role.firm_admin, name: str = "Firm") -> FirmUser:
    firm_id = uuid.uuid4()
    email = f"{role.value}-{uuid.uuid4().hex[:8]}@example.com"
    session = Session(bind=conn, join_transaction_mode="create_savepoint")
    set_firm(conn, firm_id)
    user = User(email=email, password_hash=hash_password(PASSWORD), full_name=f"{role.value} user")
    session.add(Firm(id=firm_id, name=name, slug=f"f-{firm_id.hex[:12]}"))
    session.add(user)
    session.flush()
    user_id = user.id
    session.add(Membership(firm_id=firm_id, user_id=user_id, role=role))
    session.commit()  # releases the savepoint; the test's outer transaction still rolls it all back
    session.close()
    set_firm(conn, None)
    return FirmUser(firm_id=firm_id, user_id=user_id, email=email, role=role)


def set_role(conn: SAConnection, user: FirmUser, role: str) -> None:
    """Change a member's role behind the API's back (as another admin's request would)."""
    from sqlalchemy import text

    set_firm(conn, user.firm_id)
    conn.execute(
        text("update app.memberships set role = :role where firm_id = :f and user_id = :u"),
        {"role": role, "f": user.firm_id, "u": user.user_id},
    )
    set_firm(conn, None)


def oauth_session_row(conn: SAConnection, firm_id: uuid.UUID, user_id: uuid.UUID) -> str:
    """A pending connect session of `firm_id`, written directly (for walkers that need an id)."""
    from sqlalchemy import text

    set_firm(conn, firm_id)
    return str(
        conn.execute(
            text(
                "insert into app.oauth_sessions (id, firm_id, user_id, provider, state_hash, expires_at) "
                "values (gen_random_uuid(), :f, :u, 'quickbooks', :h, now() + interval '10 minutes') "
                "returning id"
            ),
            {"f": firm_id, "u": user_id, "h": uuid.uuid4().hex * 2},
        ).scalar()
    )
