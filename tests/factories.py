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
