"""Pure functions from Stripe API objects to warehouse rows and canonical records.

Payloads are the JSON objects of the Stripe API v1 exactly as Stripe sends them ("The Customer object",
"The Charge object", "The PaymentIntent object", "The Refund object", "The Event object",
docs.stripe.com/api). Only each object's `id` is relied on; every other field may be missing.

Amounts come in the currency's smallest unit ("Minor units in API amounts", docs.stripe.com/currencies):
cents for USD (1099 is $10.99), but the unit itself for zero-decimal currencies (1099 JPY is ¥1,099) and
thousandths for three-decimal ones (BHD, JOD, KWD, OMR, TND). Times are Unix seconds (UTC).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from connectors.records import CanonicalPayment

PROVIDER = "stripe"

# docs.stripe.com/currencies#zero-decimal and #three-decimal.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    }
)
THREE_DECIMAL_CURRENCIES = frozenset({"bhd", "jod", "kwd", "omr", "tnd"})

# Which warehouse stream an object (or the object an event carries) belongs to.
STREAM_OF_OBJECT = {
    "customer": "customers",
    "charge": "charges",
    "payment_intent": "payment_intents",
    "refund": "refunds",
}


def currency_exponent(currency: str) -> int:
    code = currency.lower()
    if code in ZERO_DECIMAL_CURRENCIES:
        return 0
    if code in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def minor_to_decimal(amount: Any, currency: Any) -> Decimal | None:
    """`amount` minor units of `currency` as an exact Decimal in major units (1099 usd → 10.99)."""
    if amount is None or currency is None:
        return None
    if isinstance(amount, bool) or not isinstance(amount, int | str):
        raise ValueError(f"not a Stripe amount: {amount!r}")
    exponent = currency_exponent(str(currency))
    return Decimal(int(amount)).scaleb(-exponent).quantize(Decimal(1).scaleb(-exponent))


def from_unix(value: Any) -> datetime | None:
    if value is None or isinstance(value, bool):
        return None
    return datetime.fromtimestamp(int(value), UTC)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _ref(value: Any) -> str | None:
    """An id that may come expanded (`{"id": ...}`) or as a plain string."""
    if isinstance(value, dict):
        return _text(value.get("id"))
    return _text(value)


def _required_id(payload: dict[str, Any], kind: str) -> str:
    object_id = _text(payload.get("id"))
    if object_id is None:
        raise ValueError(f"{kind} without an id")
    return object_id


def _currency(payload: dict[str, Any]) -> str | None:
    currency = _text(payload.get("currency"))
    return currency.upper() if currency else None


def _money(payload: dict[str, Any], field: str) -> Decimal | None:
    return minor_to_decimal(payload.get(field), payload.get("currency"))


# --------------------------------------------------------------------------- customers

CUSTOMER_COLUMNS: tuple[str, ...] = (
    "external_id",
    "name",
    "email",
    "phone",
    "description",
    "currency",
    "balance",
    "delinquent",
    "address_line1",
    "address_line2",
    "city",
    "region",
    "postal_code",
    "country",
    "metadata",
    "livemode",
    "created_at",
    "deleted",
    "raw",
)


def customer_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    """The `warehouse.stripe_customers` columns for one Customer (or the `{id, deleted}` stub Stripe answers
    for a deleted one: `deleted` is then true and every other column empty)."""
    address = _dict(payload.get("address"))
    return {
        "external_id": _required_id(payload, "customer"),
        "name": _text(payload.get("name")),
        "email": _text(payload.get("email")),
        "phone": _text(payload.get("phone")),
        "description": _text(payload.get("description")),
        "currency": _currency(payload),
        # The balance is in the customer's currency; without one Stripe keeps it at 0 minor units.
        "balance": minor_to_decimal(payload.get("balance"), payload.get("currency") or "usd"),
        "delinquent": payload.get("delinquent") if isinstance(payload.get("delinquent"), bool) else None,
        "address_line1": _text(address.get("line1")),
        "address_line2": _text(address.get("line2")),
        "city": _text(address.get("city")),
        "region": _text(address.get("state")),
        "postal_code": _text(address.get("postal_code")),
        "country": _text(address.get("country")),
        "metadata": _dict(payload.get("metadata")),
        "livemode": payload.get("livemode") if isinstance(payload.get("livemode"), bool) else None,
        "created_at": from_unix(payload.get("created")),
        "deleted": payload.get("deleted") is True,
        "raw": payload,
    }


# --------------------------------------------------------------------------- charges

CHARGE_COLUMNS: tuple[str, ...] = (
    "external_id",
    "customer_id",
    "payment_intent_id",
    "invoice_id",
    "amount",
    "amount_captured",
    "amount_refunded",
    "currency",
    "status",
    "paid",
    "captured",
    "refunded",
    "disputed",
    "description",
    "receipt_email",
    "failure_code",
    "failure_message",
    "payment_method_type",
    "card_brand",
    "card_last4",
    "balance_transaction_id",
    "metadata",
    "livemode",
    "created_at",
    "raw",
)


def charge_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    details = _dict(payload.get("payment_method_details"))
    method_type = _text(details.get("type"))
    card = _dict(details.get(method_type)) if method_type == "card" else {}
    return {
        "external_id": _required_id(payload, "charge"),
        "customer_id": _ref(payload.get("customer")),
        "payment_intent_id": _ref(payload.get("payment_intent")),
        "invoice_id": _ref(payload.get("invoice")),
        "amount": _money(payload, "amount"),
        "amount_captured": _money(payload, "amount_captured"),
        "amount_refunded": _money(payload, "amount_refunded"),
        "currency": _currency(payload),
        "status": _text(payload.get("status")),
        "paid": payload.get("paid") if isinstance(payload.get("paid"), bool) else None,
        "captured": payload.get("captured") if isinstance(payload.get("captured"), bool) else None,
        "refunded": payload.get("refunded") if isinstance(payload.get("refunded"), bool) else None,
        "disputed": payload.get("disputed") if isinstance(payload.get("disputed"), bool) else None,
        "description": _text(payload.get("description")),
        "receipt_email": _text(payload.get("receipt_email")),
        "failure_code": _text(payload.get("failure_code")),
        "failure_message": _text(payload.get("failure_message")),
        "payment_method_type": method_type,
        "card_brand": _text(card.get("brand")),
        "card_last4": _text(card.get("last4")),
        "balance_transaction_id": _ref(payload.get("balance_transaction")),
        "metadata": _dict(payload.get("metadata")),
        "livemode": payload.get("livemode") if isinstance(payload.get("livemode"), bool) else None,
        "created_at": from_unix(payload.get("created")),
        "raw": payload,
    }


# --------------------------------------------------------------------------- payment intents

PAYMENT_INTENT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "customer_id",
    "latest_charge_id",
    "invoice_id",
    "amount",
    "amount_received",
    "amount_capturable",
    "currency",
    "status",
    "description",
    "receipt_email",
    "payment_method_types",
    "capture_method",
    "canceled_at",
    "cancellation_reason",
    "metadata",
    "livemode",
    "created_at",
    "raw",
)


def payment_intent_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    types = payload.get("payment_method_types")
    return {
        "external_id": _required_id(payload, "payment intent"),
        "customer_id": _ref(payload.get("customer")),
        "latest_charge_id": _ref(payload.get("latest_charge")),
        "invoice_id": _ref(payload.get("invoice")),
        "amount": _money(payload, "amount"),
        "amount_received": _money(payload, "amount_received"),
        "amount_capturable": _money(payload, "amount_capturable"),
        "currency": _currency(payload),
        "status": _text(payload.get("status")),
        "description": _text(payload.get("description")),
        "receipt_email": _text(payload.get("receipt_email")),
        "payment_method_types": [t for t in types if isinstance(t, str)] if isinstance(types, list) else [],
        "capture_method": _text(payload.get("capture_method")),
        "canceled_at": from_unix(payload.get("canceled_at")),
        "cancellation_reason": _text(payload.get("cancellation_reason")),
        "metadata": _dict(payload.get("metadata")),
        "livemode": payload.get("livemode") if isinstance(payload.get("livemode"), bool) else None,
        "created_at": from_unix(payload.get("created")),
        "raw": payload,
    }


# --------------------------------------------------------------------------- refunds

REFUND_COLUMNS: tuple[str, ...] = (
    "external_id",
    "charge_id",
    "payment_intent_id",
    "amount",
    "currency",
    "status",
    "reason",
    "failure_reason",
    "balance_transaction_id",
    "metadata",
    "created_at",
    "raw",
)


def refund_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "external_id": _required_id(payload, "refund"),
        "charge_id": _ref(payload.get("charge")),
        "payment_intent_id": _ref(payload.get("payment_intent")),
        "amount": _money(payload, "amount"),
        "currency": _currency(payload),
        "status": _text(payload.get("status")),
        "reason": _text(payload.get("reason")),
        "failure_reason": _text(payload.get("failure_reason")),
        "balance_transaction_id": _ref(payload.get("balance_transaction")),
        "metadata": _dict(payload.get("metadata")),
        "created_at": from_unix(payload.get("created")),
        "raw": payload,
    }


# --------------------------------------------------------------------------- events

EVENT_COLUMNS: tuple[str, ...] = (
    "external_id",
    "type",
    "object_type",
    "object_id",
    "api_version",
    "request_id",
    "pending_webhooks",
    "livemode",
    "created_at",
    "raw",
)


def event_to_row(payload: dict[str, Any]) -> dict[str, Any]:
    data_object = _dict(_dict(payload.get("data")).get("object"))
    return {
        "external_id": _required_id(payload, "event"),
        "type": _text(payload.get("type")),
        "object_type": _text(data_object.get("object")),
        "object_id": _text(data_object.get("id")),
        "api_version": _text(payload.get("api_version")),
        "request_id": _text(_dict(payload.get("request")).get("id")),
        "pending_webhooks": payload.get("pending_webhooks")
        if isinstance(payload.get("pending_webhooks"), int)
        else None,
        "livemode": payload.get("livemode") if isinstance(payload.get("livemode"), bool) else None,
        "created_at": from_unix(payload.get("created")),
        "raw": payload,
    }


ROW_MAPPERS = {
    "customers": customer_to_row,
    "charges": charge_to_row,
    "payment_intents": payment_intent_to_row,
    "refunds": refund_to_row,
    "events": event_to_row,
}


@dataclass(frozen=True)
class ObjectChange:
    """What one event says happened to an object of a synced stream: its state as of `changed_at`
    (`payload`, the event's `data.object`), or its deletion."""

    stream: str
    object_id: str
    payload: dict[str, Any]
    deleted: bool
    event_id: str
    changed_at: datetime | None


def event_change(event: dict[str, Any]) -> ObjectChange | None:
    """The change an event records to a customer, charge, payment intent or refund; None for events about
    anything else (invoices, payouts, ...). Events carry a snapshot of the object as of the event, so
    applying the changes of a page in `created` order leaves each row as of its latest event."""
    data_object = _dict(_dict(event.get("data")).get("object"))
    stream = STREAM_OF_OBJECT.get(str(data_object.get("object")))
    object_id = _text(data_object.get("id"))
    if stream is None or object_id is None:
        return None
    deleted = str(event.get("type", "")).endswith(".deleted") or data_object.get("deleted") is True
    return ObjectChange(
        stream=stream,
        object_id=object_id,
        payload=data_object,
        deleted=deleted,
        event_id=_required_id(event, "event"),
        changed_at=from_unix(event.get("created")),
    )


def latest_changes(events_newest_first: Iterable[dict[str, Any]]) -> dict[tuple[str, str], ObjectChange]:
    """The newest change per (stream, object id) among events listed as Stripe lists them (newest first,
    across every page of one read). Applying only these leaves each object as its latest event made it,
    whatever order the pages are loaded in: an older snapshot never overwrites a newer one."""
    latest: dict[tuple[str, str], ObjectChange] = {}
    for event in events_newest_first:
        change = event_change(event)
        if change is not None:
            latest.setdefault((change.stream, change.object_id), change)
    return latest


# --------------------------------------------------------------------------- canonical payments

_METHODS = {
    "card": "card",
    "card_present": "card",
    "us_bank_account": "bank_transfer",
    "sepa_debit": "direct_debit",
    "bacs_debit": "direct_debit",
    "au_becs_debit": "direct_debit",
    "acss_debit": "direct_debit",
    "customer_balance": "bank_transfer",
    "ach_credit_transfer": "bank_transfer",
}


def charge_to_payment(payload: dict[str, Any]) -> CanonicalPayment | None:
    """A succeeded, paid charge as a client payment; None for failed, pending or uncaptured charges (no
    money moved). A charge, not its PaymentIntent, is the payment: an intent may need several attempts,
    and refunds and disputes hang off the charge."""
    if payload.get("status") != "succeeded" or payload.get("paid") is not True:
        return None
    currency = _currency(payload)
    captured = _money(payload, "amount_captured")
    amount = captured if captured else _money(payload, "amount")
    created = from_unix(payload.get("created"))
    if currency is None or amount is None or amount <= 0 or created is None:
        return None
    method_type = _text(_dict(payload.get("payment_method_details")).get("type")) or ""
    return CanonicalPayment(
        provider=PROVIDER,
        external_id=_required_id(payload, "charge"),
        client_external_id=_ref(payload.get("customer")),
        amount=amount,
        amount_refunded=_money(payload, "amount_refunded") or Decimal(0).scaleb(-currency_exponent(currency)),
        currency=currency,
        received_at=created,
        method=_METHODS.get(method_type, "other"),
        reference=_ref(payload.get("payment_intent")) or _required_id(payload, "charge"),
        refunded=payload.get("refunded") is True,
    )
