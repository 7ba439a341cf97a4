"""The QuickBooks Online entities firmsync syncs, each with its stream name and the one trait that
changes how it is read: list entities (customers, items, accounts) are deactivated, never deleted,
and queries leave inactive ones out unless the WHERE clause names `Active`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class QboEntity:
    name: str  # the Accounting API's entity name, e.g. "CreditMemo"
    stream: str  # firmsync's stream (and warehouse table suffix), e.g. "credit_memos"
    name_list: bool  # deactivated rather than deleted; queries hide inactive rows unless asked

    @property
    def qbo_object_name(self) -> str:
        return self.name

    def from_json(self, payload: dict[str, Any]) -> dict[str, Any]:
        """`quickbooks.cdc.change_data_capture` builds each record with its class's `from_json`; an
        entity hands the payload back as sent, where the SDK's own classes would add defaults (an
        Invoice's `Deposit: 0`, `TxnDate: ""`) that the company never set."""
        return payload


CUSTOMER = QboEntity("Customer", "customers", name_list=True)
INVOICE = QboEntity("Invoice", "invoices", name_list=False)
PAYMENT = QboEntity("Payment", "payments", name_list=False)
CREDIT_MEMO = QboEntity("CreditMemo", "credit_memos", name_list=False)
ITEM = QboEntity("Item", "items", name_list=True)
ACCOUNT = QboEntity("Account", "accounts", name_list=True)

ENTITIES: tuple[QboEntity, ...] = (CUSTOMER, INVOICE, PAYMENT, CREDIT_MEMO, ITEM, ACCOUNT)
STREAMS: tuple[str, ...] = tuple(e.stream for e in ENTITIES)
_BY_NAME = {key: e for e in ENTITIES for key in (e.name, e.stream)}


def entity(name: str | QboEntity) -> QboEntity:
    """The entity for a stream name ("credit_memos") or an entity name ("CreditMemo")."""
    if isinstance(name, QboEntity):
        return name
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(STREAMS)
        raise ValueError(f"unknown QuickBooks stream or entity {name!r}; streams: {known}") from None
