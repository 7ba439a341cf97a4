from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from core_api.models.base import APP_SCHEMA, Base, created_at, firm_fk, uuid_pk
from core_api.models.mixins import FirmOwned


class Client(FirmOwned, Base):
    __tablename__ = "clients"
    __table_args__ = (Index("ix_clients_firm_name", "firm_id", "name"), {"schema": APP_SCHEMA})
    __audit__ = "client"
    __outbox__ = "client"

    name: Mapped[str] = mapped_column(String(200), nullable=False)  # the company (or person) name
    industry: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    address_line1: Mapped[str | None] = mapped_column(String(200))
    address_line2: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    region: Mapped[str | None] = mapped_column(String(100))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    country: Mapped[str | None] = mapped_column(String(100))
    # active | inactive | terminated
    status: Mapped[str] = mapped_column(String(20), nullable=False, server_default=text("'active'"))
    notes: Mapped[str | None] = mapped_column(Text)
    primary_contact_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.contacts.id", ondelete="SET NULL", use_alter=True)
    )
    account_manager_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.users.id", ondelete="SET NULL")
    )


class Contact(FirmOwned, Base):
    __tablename__ = "contacts"
    __table_args__ = (Index("ix_contacts_client", "firm_id", "client_id"), {"schema": APP_SCHEMA})
    __audit__ = "contact"
    __outbox__ = "contact"  # pushed to CRMs (Salesforce); the accounting push reads clients and invoices only

    client_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.clients.id", ondelete="CASCADE"), nullable=False
    )
    first_name: Mapped[str] = mapped_column(String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False, server_default=text("''"))
    title: Mapped[str | None] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(50))
    email_opt_out: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    sms_opt_out: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    call_opt_out: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))


class ExternalRef(Base):
    """Links an app record to its copy in a vendor system (lineage vendor → warehouse → app)."""

    __tablename__ = "external_refs"
    __table_args__ = (
        UniqueConstraint("connection_id", "entity", "external_id", name="uq_external_refs_source"),
        Index("ix_external_refs_entity", "entity", "entity_id"),
        {"schema": APP_SCHEMA},
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    firm_id: Mapped[uuid.UUID] = firm_fk()
    entity: Mapped[str] = mapped_column(String(40), nullable=False)
    entity_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    provider: Mapped[str] = mapped_column(String(40), nullable=False)
    connection_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey(f"{APP_SCHEMA}.connections.id", ondelete="CASCADE"), nullable=False
    )
    external_id: Mapped[str] = mapped_column(String(255), nullable=False)
    created_at: Mapped[datetime] = created_at()
