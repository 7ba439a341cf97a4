"""Clients and contacts data access (tenant-filtered; RLS is the second lock)."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from core_api.crud import TenantRepository
from core_api.models import Client, Contact, Membership


class ClientRepository(TenantRepository[Client]):
    model = Client
    entity = "client"
    sorts = {
        "name": func.lower(Client.name).asc(),
        "-name": func.lower(Client.name).desc(),
        "created_at": Client.created_at.asc(),
        "-created_at": Client.created_at.desc(),
        "updated_at": Client.updated_at.asc(),
        "-updated_at": Client.updated_at.desc(),
    }

    def is_member(self, user_id: uuid.UUID) -> bool:
        return (
            self.session.scalar(
                select(Membership.id).where(
                    Membership.firm_id == self.tenant.firm_id,
                    Membership.user_id == user_id,
                    Membership.deactivated_at.is_(None),
                )
            )
            is not None
        )


class ContactRepository(TenantRepository[Contact]):
    model = Contact
    entity = "contact"
    sorts = {
        "name": func.lower(Contact.last_name + " " + Contact.first_name).asc(),
        "-name": func.lower(Contact.last_name + " " + Contact.first_name).desc(),
        "created_at": Contact.created_at.asc(),
        "-created_at": Contact.created_at.desc(),
    }
