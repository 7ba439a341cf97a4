"""One Stripe account: its secret keys, rate limits, objects and event log.

Objects live in one table per resource, in creation order; lists read them newest first. Every change
an account's owner makes (through the admin API) appends an event, as Stripe records one per change,
and tells the listeners (the webhook hub).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from connectors.sandbox.stripe import objects

RESOURCES = ("customers", "charges", "payment_intents", "refunds")
OBJECT_KIND = {
    "customers": "customer",
    "charges": "charge",
    "payment_intents": "payment_intent",
    "refunds": "refund",
    "events": "event",
}

EventListener = Callable[["Account", dict[str, Any]], None]


@dataclass
class AccountLimits:
    read_per_second: int
    write_per_second: int


@dataclass
class Table:
    """Objects of one resource by id, plus the order they were created in (a tiebreak within a second).
    The newest-first order is kept between writes, so paging a large table does not sort it per request."""

    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: dict[str, int] = field(default_factory=dict)
    _sorted: list[dict[str, Any]] | None = None

    def add(self, row: dict[str, Any]) -> dict[str, Any]:
        self.order.setdefault(row["id"], len(self.order))
        self.rows[row["id"]] = row
        self._sorted = None
        return row

    def remove(self, object_id: str) -> dict[str, Any]:
        self._sorted = None
        return self.rows.pop(object_id)

    def newest_first(self) -> list[dict[str, Any]]:
        if self._sorted is None:
            self._sorted = sorted(
                self.rows.values(), key=lambda r: (r["created"], self.order[r["id"]]), reverse=True
            )
        return self._sorted


@dataclass
class Account:
    account_id: str
    name: str
    secret_key: str
    limits: AccountLimits
    api_version: str
    tables: dict[str, Table] = field(
        default_factory=lambda: {name: Table() for name in (*RESOURCES, "events")}
    )
    deleted_customers: set[str] = field(default_factory=set)
    expired_keys: set[str] = field(default_factory=set)
    listeners: list[EventListener] = field(default_factory=list)

    def table(self, resource: str) -> Table:
        return self.tables[resource]

    def get(self, resource: str, object_id: str) -> dict[str, Any] | None:
        return self.tables[resource].rows.get(object_id)

    def record(
        self,
        event_type: str,
        data_object: dict[str, Any],
        created: int,
        previous_attributes: dict[str, Any] | None = None,
        *,
        notify: bool = True,
    ) -> dict[str, Any]:
        """Append an event carrying a snapshot of the object; deliver it unless it is seeded history."""
        event = objects.event(
            objects.new_id("evt_"),
            created,
            event_type=event_type,
            data_object=_snapshot(data_object),
            api_version=self.api_version,
            previous_attributes=previous_attributes,
        )
        self.tables["events"].add(event)
        if notify:
            for listener in self.listeners:
                listener(self, event)
        return event


def _snapshot(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _snapshot(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snapshot(v) for v in value]
    return value
