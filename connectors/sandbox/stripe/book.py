"""What happens in a Stripe account, each change with the events Stripe records for it
(docs.stripe.com/api/events/types):

- a customer is created / updated / deleted: `customer.created`, `customer.updated` (with
  `data.previous_attributes`), `customer.deleted`;
- a card payment succeeds: `payment_intent.created`, `charge.succeeded`, `payment_intent.succeeded`;
- a charge is refunded (fully or partly): `charge.refunded` (the charge, its `amount_refunded` before in
  `previous_attributes`) and `refund.created`;
- an invoice is paid: `invoice.paid` and `invoice.payment_succeeded`.

`notify=False` records seeded history without delivering webhooks for it.
"""

from typing import Any

from connectors.sandbox.stripe import errors, objects
from connectors.sandbox.stripe.account import Account

CARDS = (("visa", "4242"), ("mastercard", "4444"), ("amex", "8431"), ("discover", "1117"))


def add_customer(account: Account, created: int, *, notify: bool = True, **fields: Any) -> dict[str, Any]:
    row = account.table("customers").add(objects.customer(objects.new_id("cus_", 14), created, **fields))
    account.record("customer.created", row, created, notify=notify)
    return row


def customer_or_404(account: Account, customer_id: str) -> dict[str, Any]:
    row = account.get("customers", customer_id)
    if row is None:
        raise errors.no_such("customer", customer_id)
    return row


UPDATABLE_CUSTOMER_FIELDS = ("name", "email", "phone", "description", "address", "metadata", "currency")


def update_customer(account: Account, customer_id: str, changes: dict[str, Any], now: int) -> dict[str, Any]:
    row = customer_or_404(account, customer_id)
    previous = {}
    for name, value in changes.items():
        if name not in UPDATABLE_CUSTOMER_FIELDS:
            raise errors.invalid(f"Received unknown parameter: {name}", name)
        if name == "metadata":
            value = {**row["metadata"], **value}
        if row.get(name) != value:
            previous[name] = row.get(name)
            row[name] = value
    if previous:
        account.record("customer.updated", row, now, previous)
    return row


def delete_customer(account: Account, customer_id: str, now: int) -> dict[str, Any]:
    """Stripe deletes a customer for good: lists no longer show it, retrieving it answers the stub."""
    row = customer_or_404(account, customer_id)
    account.table("customers").remove(customer_id)
    account.deleted_customers.add(customer_id)
    account.record("customer.deleted", row, now)
    return objects.deleted_customer(customer_id)


def pay(
    account: Account,
    created: int,
    *,
    amount: int,
    currency: str,
    customer_id: str | None,
    description: str | None,
    card: tuple[str, str] = CARDS[0],
    notify: bool = True,
    metadata: dict[str, str] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A PaymentIntent confirmed with a card and captured at once: the intent and its charge."""
    if amount < 1:
        raise errors.invalid("This value must be greater than or equal to 1.", "amount")
    receipt_email = None
    if customer_id is not None:
        receipt_email = customer_or_404(account, customer_id).get("email")
    intent = account.table("payment_intents").add(
        objects.payment_intent(
            objects.new_id("pi_"),
            created,
            amount=amount,
            currency=currency,
            customer_id=customer_id,
            description=description,
            metadata=metadata,
        )
    )
    account.record("payment_intent.created", intent, created, notify=notify)
    payment_method = objects.new_id("pm_")
    charge = account.table("charges").add(
        objects.charge(
            objects.new_id("ch_"),
            created,
            amount=amount,
            currency=currency,
            customer_id=customer_id,
            payment_intent_id=intent["id"],
            payment_method_id=payment_method,
            description=description,
            receipt_email=receipt_email,
            brand=card[0],
            last4=card[1],
            metadata=metadata,
        )
    )
    account.record("charge.succeeded", charge, created, notify=notify)
    intent.update(
        status="succeeded",
        amount_received=amount,
        latest_charge=charge["id"],
        payment_method=payment_method,
        receipt_email=receipt_email,
    )
    account.record(
        "payment_intent.succeeded",
        intent,
        created,
        {"status": "requires_confirmation", "amount_received": 0, "latest_charge": None},
        notify=notify,
    )
    return intent, charge


def refund(
    account: Account,
    charge_id: str,
    created: int,
    *,
    amount: int | None = None,
    reason: str | None = None,
    notify: bool = True,
) -> dict[str, Any]:
    charge = account.get("charges", charge_id)
    if charge is None:
        raise errors.no_such("charge", charge_id, "charge")
    left = charge["amount"] - charge["amount_refunded"]
    amount = left if amount is None else amount
    if left <= 0:
        raise errors.StripeError(
            400, f"Charge {charge_id} has already been refunded.", code="charge_already_refunded"
        )
    if not 1 <= amount <= left:
        raise errors.invalid(
            f"Refund amount ({amount}) is greater than unrefunded amount on charge ({left})", "amount"
        )
    row = account.table("refunds").add(
        objects.refund(
            objects.new_id("re_"),
            created,
            amount=amount,
            currency=charge["currency"],
            charge_id=charge_id,
            payment_intent_id=charge["payment_intent"],
            reason=reason,
        )
    )
    previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] == charge["amount"]
    account.record("charge.refunded", charge, created, previous, notify=notify)
    account.record("refund.created", row, created, notify=notify)
    return row


def invoice_paid(
    account: Account, customer_id: str, created: int, *, amount: int, currency: str
) -> dict[str, Any]:
    customer = customer_or_404(account, customer_id)
    invoice = objects.invoice(
        objects.new_id("in_"),
        created,
        amount=amount,
        currency=currency,
        customer_id=customer_id,
        customer_email=customer.get("email"),
        customer_name=customer.get("name"),
    )
    account.record("invoice.paid", invoice, created)
    return account.record("invoice.payment_succeeded", invoice, created)
