"""Active Directory connector: a domain's users and groups over LDAP through ldap3 (paged searches,
incremental by uSNChanged), mapped to warehouse rows; the pipelines provision the firm's members from them."""

from connectors.active_directory.client import STREAMS, ActiveDirectoryClient, ActiveDirectoryStream
from connectors.active_directory.config import (
    ROLES,
    ActiveDirectoryConfig,
    ActiveDirectoryCredentials,
    GroupRoleMapping,
)
from connectors.active_directory.mapping import (
    GROUP_COLUMNS,
    USER_COLUMNS,
    format_guid,
    group_to_row,
    is_disabled,
    user_to_row,
)

__all__ = [
    "GROUP_COLUMNS",
    "ROLES",
    "STREAMS",
    "USER_COLUMNS",
    "ActiveDirectoryClient",
    "ActiveDirectoryConfig",
    "ActiveDirectoryCredentials",
    "ActiveDirectoryStream",
    "GroupRoleMapping",
    "format_guid",
    "group_to_row",
    "is_disabled",
    "user_to_row",
]
