"""What an Active Directory connection needs: where the domain controller is, how to trust it, where users
and groups live, the service account, and which directory groups grant which firm role.

The password is the only secret (`ActiveDirectoryCredentials`); core_api stores it encrypted. Binding is a
simple bind, so the connection must be encrypted: LDAPS (636) or StartTLS on 389, verified against
`ca_bundle` (the firm's CA that issued the DC's certificate) or the system's trust store.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

# The platform's roles (core_api.tenancy.Role values; connectors cannot import core_api), most privileged
# first: a user in several mapped groups gets the first of these that any of their groups grants.
ROLES: tuple[str, ...] = ("firm_admin", "partner", "manager", "staff", "billing", "readonly")
FirmRole = Literal["firm_admin", "partner", "manager", "staff", "billing", "readonly"]

LDAPS_PORT = 636
LDAP_PORT = 389
# AD's MaxPageSize policy is 1000 by default: a larger page is silently cut to it.
MAX_PAGE_SIZE = 1000
DEFAULT_USER_FILTER = "(&(objectClass=user)(!(objectClass=computer)))"
DEFAULT_GROUP_FILTER = "(objectClass=group)"

_DN = r"^[^=,\s][^=]*=[^,]+(,\s*[^=,\s][^=]*=[^,]+)*$"


def normalise_dn(dn: str) -> str:
    """DNs compare case-insensitively and without spaces around separators (`CN=A, OU=B` = `cn=a,ou=b`)."""
    return ",".join(part.strip() for part in dn.split(",")).lower()


class GroupRoleMapping(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, title="Group → role")

    group_dn: str = Field(
        title="Group DN",
        description="Distinguished name of a directory group, "
        "e.g. `CN=Firmsync Partners,OU=Groups,DC=corp,DC=example`.",
        pattern=_DN,
        max_length=1000,
    )
    role: FirmRole = Field(title="Firm role", description="The role its members get in the firm.")


class ActiveDirectoryConfig(BaseModel):
    """Non-secret settings of one Active Directory domain."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        title="Active Directory connection",
        json_schema_extra={
            "description": "Provision the firm's users and roles from Active Directory groups."
        },
    )

    host: str = Field(
        title="Domain controller",
        description="Host name or address of a domain controller (or the domain's DNS name).",
        min_length=1,
        max_length=253,
        pattern=r"^[A-Za-z0-9.\-:\[\]]+$",
    )
    port: int | None = Field(
        default=None, title="Port", description="Empty: 636 with LDAPS, 389 otherwise.", ge=1, le=65535
    )
    use_ssl: bool = Field(default=True, title="LDAPS", description="TLS from the first byte (port 636).")
    start_tls: bool = Field(
        default=False, title="StartTLS", description="Plain LDAP upgraded to TLS before binding (port 389)."
    )
    ca_bundle: str | None = Field(
        default=None,
        title="CA bundle",
        description="Path of a PEM file with the CA certificate(s) that issued the domain controller's "
        "certificate. Empty: the system's trust store.",
        pattern=r"^/\S+$",
        max_length=4096,
    )
    base_dn: str = Field(
        title="Base DN", description="The domain's naming context, e.g. `DC=corp,DC=example`.", pattern=_DN
    )
    user_search_base: str | None = Field(
        default=None, title="User search base", description="Empty: the base DN.", pattern=_DN
    )
    group_search_base: str | None = Field(
        default=None, title="Group search base", description="Empty: the base DN.", pattern=_DN
    )
    user_filter: str = Field(
        default=DEFAULT_USER_FILTER, title="User filter", pattern=r"^\(.*\)$", max_length=2000
    )
    group_filter: str = Field(
        default=DEFAULT_GROUP_FILTER, title="Group filter", pattern=r"^\(.*\)$", max_length=2000
    )
    bind_dn: str = Field(
        title="Service account",
        description="DN (or user principal name) of the read-only service account the sync binds as.",
        min_length=3,
        max_length=1000,
    )
    page_size: int = Field(
        default=500,
        title="Page size",
        description="Entries per page of the simple paged results control (AD allows up to 1000).",
        ge=1,
        le=MAX_PAGE_SIZE,
    )
    timeout_seconds: float = Field(default=30.0, title="Timeout (seconds)", gt=0, le=600)
    track_deletions: bool = Field(
        default=True,
        title="Read deletions",
        description="Incremental syncs also read tombstones (show-deleted control); otherwise deletions are "
        "seen by the nightly full pass only.",
    )
    deleted_objects_dn: str | None = Field(
        default=None,
        title="Deleted Objects container",
        description="Empty: `CN=Deleted Objects,<base DN>`.",
        pattern=_DN,
    )
    role_mappings: tuple[GroupRoleMapping, ...] = Field(
        title="Group → role mappings",
        description="Members of these groups (nested groups included) become members of the firm with the "
        "most privileged role among their groups; members of none are not provisioned.",
        max_length=100,
    )

    @model_validator(mode="after")
    def _encrypted(self) -> ActiveDirectoryConfig:
        if self.use_ssl and self.start_tls:
            raise ValueError("choose LDAPS (use_ssl) or StartTLS, not both")
        if not (self.use_ssl or self.start_tls):
            # A simple bind over plain LDAP would send the service account's password in clear text.
            raise ValueError("the connection must be encrypted: set use_ssl (LDAPS) or start_tls")
        return self

    @field_validator("role_mappings")
    @classmethod
    def _distinct_groups(cls, value: tuple[GroupRoleMapping, ...]) -> tuple[GroupRoleMapping, ...]:
        # Checked here, not with min_length: pydantic would report an empty tuple beside a bad item's error.
        if not value:
            raise ValueError("map at least one group to a role")
        seen: set[str] = set()
        for mapping in value:
            key = normalise_dn(mapping.group_dn)
            if key in seen:
                raise ValueError(f"group {mapping.group_dn!r} is mapped twice")
            seen.add(key)
        return value

    @property
    def effective_port(self) -> int:
        return self.port or (LDAPS_PORT if self.use_ssl else LDAP_PORT)

    @property
    def users_base(self) -> str:
        return self.user_search_base or self.base_dn

    @property
    def groups_base(self) -> str:
        return self.group_search_base or self.base_dn

    def role_for_groups(self) -> dict[str, str]:
        """Normalised group DN → role."""
        return {normalise_dn(m.group_dn): m.role for m in self.role_mappings}


class ActiveDirectoryCredentials(BaseModel):
    """The service account's password. Stored encrypted; never returned by the API or logged."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, title="Active Directory credentials", hide_input_in_errors=True
    )

    password: SecretStr = Field(title="Service account password", min_length=1, max_length=512)
