"""Stripe API objects as the API reference shows them (docs.stripe.com/api: "The Customer object",
"The Charge object", "The PaymentIntent object", "The Refund object", "The Event object"), built from a
few facts. Every field of the reference examples is present, so clients see what Stripe sends."""

import secrets
import string
from typing import Any

_ID_ALPHABET = string.ascii_letters + string.digits


def new_id(prefix: str, length: int = 24) -> str:
    """Stripe-looking ids: `cus_`, `ch_`, `pi_`, `re_`, `evt_`, `txn_`... plus 24 alphanumerics."""
    return prefix + "".join(secrets.choice(_ID_ALPHABET) for _ in range(length))


def customer(
    object_id: str,
    created: int,
    *,
    name: str | None,
    email: str | None,
    phone: str | None = None,
    description: str | None = None,
    address: dict[str, Any] | None = None,
    metadata: dict[str, str] | None = None,
    currency: str | None = None,
) -> dict[str, Any]:
    return {
        "id": object_id,
        "object": "customer",
        "address": address,
        "balance": 0,
        "created": created,
        "currency": currency,
        "default_source": None,
        "delinquent": False,
        "description": description,
        "discount": None,
        "email": email,
        "invoice_prefix": object_id[-8:].upper(),
        "invoice_settings": {
            "custom_fields": None,
            "default_payment_method": None,
            "footer": None,
            "rendering_options": None,
        },
        "livemode": False,
        "metadata": dict(metadata or {}),
        "name": name,
        "next_invoice_sequence": 1,
        "phone": phone,
        "preferred_locales": [],
        "shipping": None,
        "tax_exempt": "none",
        "test_clock": None,
    }


def deleted_customer(object_id: str) -> dict[str, Any]:
    """What DELETE /v1/customers/{id} answers, and what retrieving a deleted customer answers after."""
    return {"id": object_id, "object": "customer", "deleted": True}


def payment_intent(
    object_id: str,
    created: int,
    *,
    amount: int,
    currency: str,
    customer_id: str | None,
    description: str | None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A PaymentIntent waiting for a payment method; `succeed` settles it with a charge."""
    return {
        "id": object_id,
        "object": "payment_intent",
        "amount": amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": 0,
        "application": None,
        "application_fee_amount": None,
        "automatic_payment_methods": {"allow_redirects": "always", "enabled": True},
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic_async",
        "client_secret": f"{object_id}_secret_{new_id('', 25)}",
        "confirmation_method": "automatic",
        "created": created,
        "currency": currency,
        "customer": customer_id,
        "description": description,
        "last_payment_error": None,
        "latest_charge": None,
        "livemode": False,
        "metadata": dict(metadata or {}),
        "next_action": None,
        "on_behalf_of": None,
        "payment_method": None,
        "payment_method_configuration_details": None,
        "payment_method_options": {
            "card": {
                "installments": None,
                "mandate_options": None,
                "network": None,
                "request_three_d_secure": "automatic",
            }
        },
        "payment_method_types": ["card"],
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


def charge(
    object_id: str,
    created: int,
    *,
    amount: int,
    currency: str,
    customer_id: str | None,
    payment_intent_id: str | None,
    payment_method_id: str,
    description: str | None,
    receipt_email: str | None,
    last4: str,
    brand: str,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A succeeded, captured card charge."""
    return {
        "id": object_id,
        "object": "charge",
        "amount": amount,
        "amount_captured": amount,
        "amount_refunded": 0,
        "application": None,
        "application_fee": None,
        "application_fee_amount": None,
        "balance_transaction": new_id("txn_"),
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": receipt_email,
            "name": None,
            "phone": None,
        },
        "calculated_statement_descriptor": "FIRMSYNC SANDBOX",
        "captured": True,
        "created": created,
        "currency": currency,
        "customer": customer_id,
        "description": description,
        "disputed": False,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "fraud_details": {},
        "livemode": False,
        "metadata": dict(metadata or {}),
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
        "payment_intent": payment_intent_id,
        "payment_method": payment_method_id,
        "payment_method_details": {
            "card": {
                "brand": brand,
                "checks": {
                    "address_line1_check": None,
                    "address_postal_code_check": None,
                    "cvc_check": "pass",
                },
                "country": "US",
                "exp_month": 12,
                "exp_year": 2030,
                "fingerprint": new_id("", 16),
                "funding": "credit",
                "installments": None,
                "last4": last4,
                "mandate": None,
                "network": brand,
                "three_d_secure": None,
                "wallet": None,
            },
            "type": "card",
        },
        "receipt_email": receipt_email,
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/sandbox/{object_id}",
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


def refund(
    object_id: str,
    created: int,
    *,
    amount: int,
    currency: str,
    charge_id: str,
    payment_intent_id: str | None,
    reason: str | None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "id": object_id,
        "object": "refund",
        "amount": amount,
        "balance_transaction": new_id("txn_"),
        "charge": charge_id,
        "created": created,
        "currency": currency,
        "destination_details": {
            "card": {
                "reference": new_id("", 12),
                "reference_status": "available",
                "reference_type": "acquirer_reference_number",
                "type": "refund",
            },
            "type": "card",
        },
        "metadata": dict(metadata or {}),
        "payment_intent": payment_intent_id,
        "reason": reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


def invoice(
    object_id: str,
    created: int,
    *,
    amount: int,
    currency: str,
    customer_id: str,
    customer_email: str | None,
    customer_name: str | None,
) -> dict[str, Any]:
    """A paid invoice, as `invoice.payment_succeeded` carries it (the sandbox serves no /v1/invoices)."""
    return {
        "id": object_id,
        "object": "invoice",
        "account_country": "US",
        "account_name": "firmsync sandbox",
        "amount_due": amount,
        "amount_paid": amount,
        "amount_remaining": 0,
        "attempt_count": 1,
        "attempted": True,
        "billing_reason": "manual",
        "collection_method": "charge_automatically",
        "created": created,
        "currency": currency,
        "customer": customer_id,
        "customer_email": customer_email,
        "customer_name": customer_name,
        "livemode": False,
        "metadata": {},
        "number": f"{object_id[-8:].upper()}-0001",
        "paid": True,
        "status": "paid",
        "status_transitions": {"finalized_at": created, "paid_at": created, "voided_at": None},
        "subtotal": amount,
        "total": amount,
    }


def event(
    object_id: str,
    created: int,
    *,
    event_type: str,
    data_object: dict[str, Any],
    api_version: str,
    previous_attributes: dict[str, Any] | None = None,
    pending_webhooks: int = 0,
) -> dict[str, Any]:
    data: dict[str, Any] = {"object": data_object}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    return {
        "id": object_id,
        "object": "event",
        "api_version": api_version,
        "created": created,
        "data": data,
        "livemode": False,
        "pending_webhooks": pending_webhooks,
        "request": {"id": None, "idempotency_key": None},
        "type": event_type,
    }
