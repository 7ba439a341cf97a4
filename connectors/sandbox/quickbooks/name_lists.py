"""Rules every QBO name list shares (customers, items, accounts): unique names, and deactivation instead
of deletion, which renames the object "Name (deleted)" so the name is free again.

(The Customer reference's deactivation example answers with "Amy's Bird Sanctuary (deleted)".)
"""

import itertools
import re
from typing import Any

from connectors.sandbox.quickbooks import errors
from connectors.sandbox.quickbooks.table import EntityId, EntityTable

DELETED_SUFFIX = " (deleted)"
DELETED_NAME = re.compile(r" \(deleted(-\d+)?\)$")


def rename_for_activity(
    table: EntityTable,
    entity: dict[str, Any],
    name_key: str,
    was_active: bool,
    entity_id: EntityId | None,
    qualified: str = "",
) -> None:
    """Rename on deactivation ("Name (deleted)", "(deleted-2)" if taken) and back on reactivation.

    ``qualified`` is the parent's FullyQualifiedName prefix ("Parent:") for sub-items and sub-accounts.
    """
    name = entity[name_key]
    if was_active and not entity["Active"] and not name.endswith(DELETED_SUFFIX):
        candidate = name + DELETED_SUFFIX
        for n in itertools.count(2):
            if table.id_for_name(qualified + candidate) in (None, entity_id):
                break
            candidate = f"{name} (deleted-{n})"
        name = candidate
    elif not was_active and entity["Active"]:
        name = DELETED_NAME.sub("", name)
    entity[name_key] = name
    entity["FullyQualifiedName"] = qualified + name


def check_name_free(table: EntityTable, name: str, entity_id: EntityId | None) -> None:
    holder = table.id_for_name(name)
    if holder is not None and holder != entity_id:
        raise errors.duplicate_name(name, table.name)
