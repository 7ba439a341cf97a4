"""The tenant context: which firm a unit of work belongs to.

Repositories require a `TenantContext` and filter by its firm; the session factory sets the same firm
as `app.firm_id` for Postgres row-level security. `issue_tenant_context` is called only where the firm
has been established by something trusted (ADR 0002 lists them): a verified access token (auth), a
stored connection row (pipelines), a verified webhook signature (webhook intake), sign-up and invitation
acceptance (the firm is being created or joined), and the demo seed.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass, field


class Role(enum.StrEnum):
    firm_admin = "firm_admin"
    partner = "partner"
    manager = "manager"
    staff = "staff"
    billing = "billing"
    readonly = "readonly"


_ISSUER = object()


@dataclass(frozen=True, slots=True)
class TenantContext:
    firm_id: uuid.UUID
    role: Role
    user_id: uuid.UUID | None = None
    _issuer: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._issuer is not _ISSUER:
            raise PermissionError("TenantContext is issued by the auth layer, not built by hand")


def issue_tenant_context(firm_id: uuid.UUID, role: Role, user_id: uuid.UUID | None = None) -> TenantContext:
    """For core_api.auth and the system connection lookup only (see module docstring)."""
    return TenantContext(firm_id=firm_id, role=role, user_id=user_id, _issuer=_ISSUER)
