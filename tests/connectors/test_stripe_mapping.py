"""Stripe objects → warehouse rows and canonical payments, from the API reference's own examples.

Payloads are copied from docs.stripe.com/api (the example beside each "The … object" page); where a test
needs another state (a refunded or JPY charge) the example is changed in the named fields only.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from connectors.stripe.mapping import (
    CHARGE_COLUMNS,
    CUSTOMER_COLUMNS,
    EVENT_COLUMNS,
    PAYMENT_INTENT_COLUMNS,
    REFUND_COLUMNS,
    charge_to_payment,
    charge_to_row,
    currency_exponent,
    customer_to_row,
    event_change,
    event_to_row,
    latest_changes,
    minor_to_decimal,
    payment_intent_to_row,
    refund_to_row,
)

# https://docs.stripe.com/api/customers/object
CUSTOMER = {
    "id": "cus_NffrFeUfNV2Hib",
    "object": "customer",
    "address": None,
    "balance": 0,
    "created": 1680893993,
    "currency": None,
    "default_source": None,
    "delinquent": False,
    "description": None,
    "discount": None,
    "email": "jennyrosen@example.com",
    "invoice_prefix": "0759376C",
    "invoice_settings": {
        "custom_fields": None,
        "default_payment_method": None,
        "footer": None,
        "rendering_options": None,
    },
    "livemode": False,
    "metadata": {},
    "name": "Jenny Rosen",
    "next_invoice_sequence": 1,
    "phone": None,
    "preferred_locales": [],
    "shipping": None,
    "tax_exempt": "none",
    "test_clock": None,
}

# https://docs.stripe.com/api/charges/object
CHARGE = {
    "id": "ch_3MmlLrLkdIwHu7ix0snN0B15",
    "object": "charge",
    "amount": 1099,
    "amount_captured": 1099,
    "amount_refunded": 0,
    "application": None,
    "application_fee": None,
    "application_fee_amount": None,
    "balance_transaction": "txn_3MmlLrLkdIwHu7ix0uke3Ezy",
    "billing_details": {
        "address": {
            "city": None,
            "country": None,
            "line1": None,
            "line2": None,
            "postal_code": None,
            "state": None,
        },
        "email": None,
        "name": None,
        "phone": None,
    },
    "calculated_statement_descriptor": "Stripe",
    "captured": True,
    "created": 1679090539,
    "currency": "usd",
    "customer": None,
    "description": None,
    "disputed": False,
    "failure_balance_transaction": None,
    "failure_code": None,
    "failure_message": None,
    "fraud_details": {},
    "livemode": False,
    "metadata": {},
    "on_behalf_of": None,
    "outcome": {
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": "normal",
        "risk_score": 32,
        "seller_message": "Payment complete.",
        "type": "authorized",
    },
    "paid": True,
    "payment_intent": None,
    "payment_method": "card_1MmlLrLkdIwHu7ixIJwEWSNR",
    "payment_method_details": {
        "card": {
            "brand": "visa",
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": None},
            "country": "US",
            "exp_month": 3,
            "exp_year": 2024,
            "fingerprint": "mToisGZ01V71BCos",
            "funding": "credit",
            "installments": None,
            "last4": "4242",
            "mandate": None,
            "network": "visa",
            "three_d_secure": None,
            "wallet": None,
        },
        "type": "card",
    },
    "receipt_email": None,
    "receipt_number": None,
    "receipt_url": "https://pay.stripe.com/receipts/payment/CAcaFwoVYWNjdF8xTTJKVGtMa2RJd0h1N2l4KOvG06AGMgZfBXyr1aw6LBa9vaaSRWU96d8qBwz9z2J_CObiV_H2-e8RezSK_sw0KISesp4czsOUlVKY",
    "refunded": False,
    "review": None,
    "shipping": None,
    "source_transfer": None,
    "statement_descriptor": None,
    "statement_descriptor_suffix": None,
    "status": "succeeded",
    "transfer_data": None,
    "transfer_group": None,
}

# https://docs.stripe.com/api/payment_intents/object
PAYMENT_INTENT = {
    "id": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
    "object": "payment_intent",
    "amount": 2000,
    "amount_capturable": 0,
    "amount_details": {"tip": {}},
    "amount_received": 0,
    "application": None,
    "application_fee_amount": None,
    "automatic_payment_methods": {"enabled": True},
    "canceled_at": None,
    "cancellation_reason": None,
    "capture_method": "automatic",
    "client_secret": "pi_3MtwBwLkdIwHu7ix28a3tqPa_secret_YrKJUKribcBjcG8HVhfZluoGH",
    "confirmation_method": "automatic",
    "created": 1680800504,
    "currency": "usd",
    "customer": None,
    "description": None,
    "last_payment_error": None,
    "latest_charge": None,
    "livemode": False,
    "metadata": {},
    "next_action": None,
    "on_behalf_of": None,
    "payment_method": None,
    "payment_method_options": {
        "card": {
            "installments": None,
            "mandate_options": None,
            "network": None,
            "request_three_d_secure": "automatic",
        },
        "link": {"persistent_token": None},
    },
    "payment_method_types": ["card", "link"],
    "processing": None,
    "receipt_email": None,
    "review": None,
    "setup_future_usage": None,
    "shipping": None,
    "source": None,
    "statement_descriptor": None,
    "statement_descriptor_suffix": None,
    "status": "requires_payment_method",
    "transfer_data": None,
    "transfer_group": None,
}

# https://docs.stripe.com/api/refunds/object
REFUND = {
    "id": "re_1Nispe2eZvKYlo2Cd31jOCgZ",
    "object": "refund",
    "amount": 1000,
    "balance_transaction": "txn_1Nispe2eZvKYlo2CYezqFhEx",
    "charge": "ch_1NirD82eZvKYlo2CIvbtLWuY",
    "created": 1692942318,
    "currency": "usd",
    "destination_details": {
        "card": {
            "reference": "123456789012",
            "reference_status": "available",
            "reference_type": "acquirer_reference_number",
            "type": "refund",
        },
        "type": "card",
    },
    "metadata": {},
    "payment_intent": "pi_1GszsK2eZvKYlo2CfhZyoZLp",
    "reason": None,
    "receipt_number": None,
    "source_transfer_reversal": None,
    "status": "succeeded",
    "transfer_reversal": None,
}

# https://docs.stripe.com/api/events/object (its example carries a setup intent; here the customer above)
EVENT = {
    "id": "evt_1NG8Du2eZvKYlo2CUI79vXWy",
    "object": "event",
    "api_version": "2019-02-19",
    "created": 1686089970,
    "data": {"object": CUSTOMER},
    "livemode": False,
    "pending_webhooks": 0,
    "request": {"id": None, "idempotency_key": None},
    "type": "customer.deleted",
}


def _at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        (1099, "usd", Decimal("10.99")),
        (1099, "USD", Decimal("10.99")),
        (1099, "jpy", Decimal("1099")),  # zero-decimal: ¥1,099, not ¥10.99
        (50_000, "krw", Decimal("50000")),
        (1250, "kwd", Decimal("1.250")),  # three-decimal
        (5, "eur", Decimal("0.05")),
        (0, "usd", Decimal("0.00")),
        (-500, "usd", Decimal("-5.00")),
    ],
)
def test_minor_units_follow_the_currencys_exponent(amount, currency, expected) -> None:
    value = minor_to_decimal(amount, currency)
    assert value == expected and str(value) == str(expected)


def test_currency_exponents_and_bad_amounts() -> None:
    assert [currency_exponent(c) for c in ("usd", "jpy", "xof", "bhd", "isk")] == [2, 0, 0, 3, 2]
    assert minor_to_decimal(None, "usd") is None and minor_to_decimal(100, None) is None
    with pytest.raises(ValueError):
        minor_to_decimal(10.5, "usd")
    with pytest.raises(ValueError):
        minor_to_decimal(True, "usd")


def test_customer_row() -> None:
    row = customer_to_row(CUSTOMER)
    assert tuple(row) == CUSTOMER_COLUMNS
    assert row["external_id"] == "cus_NffrFeUfNV2Hib"
    assert (row["name"], row["email"], row["phone"], row["currency"]) == (
        "Jenny Rosen",
        "jennyrosen@example.com",
        None,
        None,
    )
    assert (row["balance"], row["delinquent"], row["deleted"], row["created_at"]) == (
        Decimal("0.00"),
        False,
        False,
        _at(1680893993),
    )
    assert row["raw"] is CUSTOMER and row["metadata"] == {}
    stub = customer_to_row({"id": "cus_NffrFeUfNV2Hib", "object": "customer", "deleted": True})
    assert stub["deleted"] is True and stub["created_at"] is None and stub["email"] is None


def test_charge_row() -> None:
    row = charge_to_row(CHARGE)
    assert tuple(row) == CHARGE_COLUMNS
    assert (row["amount"], row["amount_captured"], row["amount_refunded"], row["currency"]) == (
        Decimal("10.99"),
        Decimal("10.99"),
        Decimal("0.00"),
        "USD",
    )
    assert (row["status"], row["paid"], row["captured"], row["refunded"], row["disputed"]) == (
        "succeeded",
        True,
        True,
        False,
        False,
    )
    assert (row["payment_method_type"], row["card_brand"], row["card_last4"]) == ("card", "visa", "4242")
    assert (row["customer_id"], row["payment_intent_id"], row["balance_transaction_id"]) == (
        None,
        None,
        "txn_3MmlLrLkdIwHu7ix0uke3Ezy",
    )
    assert row["created_at"] == _at(1679090539)


def test_a_zero_decimal_partly_refunded_charge() -> None:
    charge = copy.deepcopy(CHARGE) | {
        "amount": 120_000,
        "amount_captured": 120_000,
        "amount_refunded": 20_000,
        "currency": "jpy",
        "customer": {"id": "cus_NffrFeUfNV2Hib", "object": "customer"},  # expanded
        "payment_intent": "pi_3MtwBwLkdIwHu7ix28a3tqPa",
    }
    row = charge_to_row(charge)
    assert (row["amount"], row["amount_refunded"], row["currency"]) == (
        Decimal("120000"),
        Decimal("20000"),
        "JPY",
    )
    assert (row["customer_id"], row["payment_intent_id"]) == (
        "cus_NffrFeUfNV2Hib",
        "pi_3MtwBwLkdIwHu7ix28a3tqPa",
    )
    payment = charge_to_payment(charge)
    assert payment is not None
    assert (payment.amount, payment.amount_refunded, payment.currency, payment.refunded) == (
        Decimal("120000"),
        Decimal("20000"),
        "JPY",
        False,
    )
    assert (payment.client_external_id, payment.reference) == (
        "cus_NffrFeUfNV2Hib",
        "pi_3MtwBwLkdIwHu7ix28a3tqPa",
    )


def test_charges_become_payments_only_when_money_moved() -> None:
    payment = charge_to_payment(CHARGE)
    assert payment is not None
    assert payment.model_dump() == {
        "provider": "stripe",
        "external_id": "ch_3MmlLrLkdIwHu7ix0snN0B15",
        "client_external_id": None,
        "amount": Decimal("10.99"),
        "amount_refunded": Decimal("0.00"),
        "currency": "USD",
        "received_at": _at(1679090539),
        "method": "card",
        "reference": "ch_3MmlLrLkdIwHu7ix0snN0B15",
        "refunded": False,
    }
    failed = CHARGE | {"status": "failed", "paid": False, "failure_code": "card_declined"}
    assert charge_to_payment(failed) is None
    assert charge_to_payment(CHARGE | {"status": "pending"}) is None
    refunded = charge_to_payment(CHARGE | {"amount_refunded": 1099, "refunded": True})
    assert refunded is not None and refunded.refunded and refunded.amount_refunded == Decimal("10.99")
    debit = CHARGE | {"payment_method_details": {"type": "sepa_debit", "sepa_debit": {}}}
    assert charge_to_payment(debit).method == "direct_debit"  # type: ignore[union-attr]


def test_payment_intent_row() -> None:
    row = payment_intent_to_row(PAYMENT_INTENT)
    assert tuple(row) == PAYMENT_INTENT_COLUMNS
    assert (row["amount"], row["amount_received"], row["status"], row["payment_method_types"]) == (
        Decimal("20.00"),
        Decimal("0.00"),
        "requires_payment_method",
        ["card", "link"],
    )
    assert (row["latest_charge_id"], row["canceled_at"], row["created_at"]) == (None, None, _at(1680800504))


def test_refund_row() -> None:
    row = refund_to_row(REFUND)
    assert tuple(row) == REFUND_COLUMNS
    assert (row["amount"], row["charge_id"], row["payment_intent_id"], row["status"]) == (
        Decimal("10.00"),
        "ch_1NirD82eZvKYlo2CIvbtLWuY",
        "pi_1GszsK2eZvKYlo2CfhZyoZLp",
        "succeeded",
    )


def test_event_row_and_the_change_it_records() -> None:
    row = event_to_row(EVENT)
    assert tuple(row) == EVENT_COLUMNS
    assert (row["type"], row["object_type"], row["object_id"], row["created_at"]) == (
        "customer.deleted",
        "customer",
        "cus_NffrFeUfNV2Hib",
        _at(1686089970),
    )
    change = event_change(EVENT)
    assert change is not None
    assert (change.stream, change.object_id, change.deleted, change.event_id) == (
        "customers",
        "cus_NffrFeUfNV2Hib",
        True,
        "evt_1NG8Du2eZvKYlo2CUI79vXWy",
    )
    refunded = event_change(EVENT | {"type": "charge.refunded", "data": {"object": CHARGE}})
    assert refunded is not None and (refunded.stream, refunded.deleted) == ("charges", False)
    invoice = EVENT | {
        "type": "invoice.payment_succeeded",
        "data": {"object": {"id": "in_1", "object": "invoice"}},
    }
    assert event_change(invoice) is None
    with pytest.raises(ValueError):
        charge_to_row({"object": "charge"})


def test_only_the_newest_change_per_object_counts() -> None:
    renamed = EVENT | {
        "id": "evt_2",
        "type": "customer.updated",
        "created": 1686089990,
        "data": {
            "object": CUSTOMER | {"name": "Jenny Rosen-Park"},
            "previous_attributes": {"name": "Jenny Rosen"},
        },
    }
    created = EVENT | {"id": "evt_1", "type": "customer.created", "created": 1686089900}
    charge = EVENT | {"id": "evt_3", "type": "charge.succeeded", "data": {"object": CHARGE}}
    newest_first = [renamed, charge, created]
    changes = latest_changes(newest_first)
    assert set(changes) == {("customers", "cus_NffrFeUfNV2Hib"), ("charges", "ch_3MmlLrLkdIwHu7ix0snN0B15")}
    customer = changes[("customers", "cus_NffrFeUfNV2Hib")]
    assert (customer.event_id, customer.payload["name"], customer.deleted) == (
        "evt_2",
        "Jenny Rosen-Park",
        False,
    )
