"""How each accounting vendor takes a pushed client or invoice (the generic part is `pipelines/push.py`).

A `PushVendor` says, per entity, which warehouse stream keeps the vendor's copy (so a pushed record is
stored exactly as a pull would store it and the next push finds its concurrency token there), how to
read that token from a vendor record, and how to create / update / void through the vendor client.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from connectors.base import ConflictError
from connectors.quickbooks import push_mapping as qbo_push
from connectors.quickbooks.config import QuickBooksAccountingMapping, QuickBooksCredentials
from connectors.quickbooks.mapping import is_voided
from connectors.records import CanonicalInvoice, ClientDetails
from connectors.xero import push_mapping as xero_push
from connectors.xero.config import XeroAccountingMapping, XeroCredentials
from connectors.xero.mapping import parse_xero_datetime
from pipelines.assets.quickbooks import QUICKBOOKS
from pipelines.assets.xero import XERO
from pipelines.streams import StreamSpec

QUICKBOOKS_STREAMS = {stream.name: stream for stream in QUICKBOOKS.streams}
XERO_STREAMS = {stream.name: stream for stream in XERO.streams}


@dataclass(frozen=True)
class PushVendor:
    provider: str
    client_resource: str  # resource key of the ConfigurableResource building the vendor client
    credentials_model: type[BaseModel]
    mapping_model: type[BaseModel]
    stores: dict[str, StreamSpec]  # entity ("client" | "invoice") → warehouse stream of the vendor's copy
    token_of: Callable[[dict[str, Any]], Any]  # vendor record → concurrency token to send with an update
    # (api, details, external_id, token, request_id) → the vendor's record
    push_client: Callable[[Any, ClientDetails, str | None, Any, str], dict[str, Any]]
    # (api, invoice, mapping, external_id, token, request_id) → the vendor's record
    push_invoice: Callable[[Any, CanonicalInvoice, Any, str | None, Any, str], dict[str, Any]]
    # (api, external_id, token) → the voided record
    void_invoice: Callable[[Any, str, Any], dict[str, Any]]
    is_voided: Callable[[dict[str, Any]], bool]
    # (api, entity, external_id) → the vendor's record now (the warehouse has no copy to take a token from)
    fetch: Callable[[Any, str, str], dict[str, Any]]

    def updated_at(self, entity: str, record: dict[str, Any]):
        """The vendor's last-modified time of a record (the conflict rule compares it)."""
        return self.stores[entity].map_record(record).get("updated_at")


# ---- QuickBooks Online


def _qbo_client(api, details: ClientDetails, external_id, token, request_id) -> dict[str, Any]:
    payload = qbo_push.client_to_customer(details)
    return api.upsert_customer(payload, external_id=external_id, sync_token=token, request_id=request_id)


def _qbo_invoice(api, invoice, mapping, external_id, token, request_id) -> dict[str, Any]:
    payload = qbo_push.invoice_to_payload(invoice, mapping)
    return api.upsert_invoice(payload, external_id=external_id, sync_token=token, request_id=request_id)


QUICKBOOKS_PUSH = PushVendor(
    provider="quickbooks",
    client_resource="quickbooks",
    credentials_model=QuickBooksCredentials,
    mapping_model=QuickBooksAccountingMapping,
    stores={
        # The pull's own stream declarations: the push stores the vendor's answer exactly as a pull would.
        "client": QUICKBOOKS_STREAMS["customers"],
        "invoice": QUICKBOOKS_STREAMS["invoices"],
    },
    token_of=lambda record: str(record["SyncToken"]) if record.get("SyncToken") is not None else None,
    push_client=_qbo_client,
    push_invoice=_qbo_invoice,
    void_invoice=lambda api, external_id, token: api.void_invoice(external_id, token),
    is_voided=is_voided,
    fetch=lambda api, entity, external_id: api.get(
        "customers" if entity == "client" else "invoices", external_id
    ),
)


# ---- Xero


def _xero_client(api, details: ClientDetails, external_id, token, request_id) -> dict[str, Any]:
    payload = xero_push.client_to_contact(details)
    if external_id is not None:
        # Xero has no concurrency token: compare the contact's UpdatedDateUTC with the one we last saw,
        # as the client does for invoices.
        if token is not None:
            current = api.get_contact(external_id)
            if parse_xero_datetime(current.get("UpdatedDateUTC")) != parse_xero_datetime(token):
                raise ConflictError("xero", f"contact {external_id} changed in Xero", current=current)
        payload["ContactID"] = external_id
    return api.upsert_contact(payload, idempotency_key=request_id)


def _xero_invoice(api, invoice, mapping, external_id, token, request_id) -> dict[str, Any]:
    payload = xero_push.invoice_to_payload(invoice, mapping)
    if external_id is None:
        return api.create_invoice(payload, idempotency_key=request_id)
    return api.update_invoice(external_id, payload, token, idempotency_key=request_id)


XERO_PUSH = PushVendor(
    provider="xero",
    client_resource="xero",
    credentials_model=XeroCredentials,
    mapping_model=XeroAccountingMapping,
    stores={
        "client": XERO_STREAMS["contacts"],
        "invoice": XERO_STREAMS["invoices"],
    },
    token_of=lambda record: record.get("UpdatedDateUTC"),
    push_client=_xero_client,
    push_invoice=_xero_invoice,
    void_invoice=lambda api, external_id, token: api.void_invoice(external_id, token),
    is_voided=lambda record: record.get("Status") == "VOIDED",
    fetch=lambda api, entity, external_id: (
        api.get_contact(external_id) if entity == "client" else api.get_invoice(external_id)
    ),
)

PUSH_VENDORS: dict[str, PushVendor] = {v.provider: v for v in (QUICKBOOKS_PUSH, XERO_PUSH)}
