"""Stripe connector: customers, charges, payment intents, refunds and events pulled incrementally through
the official `stripe` SDK; pure mappings to warehouse rows and canonical payments; webhook verification."""

from connectors.stripe.client import STREAMS, CreatedPager, StripeAccountClient, StripeStream
from connectors.stripe.config import StripeConfig, StripeCredentials
from connectors.stripe.mapping import (
    ObjectChange,
    charge_to_payment,
    charge_to_row,
    customer_to_row,
    event_change,
    event_to_row,
    latest_changes,
    minor_to_decimal,
    payment_intent_to_row,
    refund_to_row,
)
from connectors.stripe.webhooks import construct_event

__all__ = [
    "STREAMS",
    "CreatedPager",
    "ObjectChange",
    "StripeAccountClient",
    "StripeConfig",
    "StripeCredentials",
    "StripeStream",
    "charge_to_payment",
    "charge_to_row",
    "construct_event",
    "customer_to_row",
    "event_change",
    "event_to_row",
    "latest_changes",
    "minor_to_decimal",
    "payment_intent_to_row",
    "refund_to_row",
]
