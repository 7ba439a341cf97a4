"""Pure functions from the app's records to QuickBooks Online payloads, for push.

Payloads name only what the app owns: a field the app has no value for is left out, so a sparse
update keeps what the firm entered in QuickBooks. Item, tax code and income account ids come from
the connection's `QuickBooksAccountingMapping`, never from constants.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connectors.quickbooks.config import QuickBooksAccountingMapping, QuickBooksRef
from connectors.records import CanonicalInvoice, ClientDetails

DOC_NUMBER_MAX = 21  # Invoice.DocNumber: "Maximum of 21 chars" (Intuit API reference)
DISPLAY_NAME_MAX = 500


def client_to_customer(client: ClientDetails) -> dict[str, Any]:
    """A Customer payload (create, or sparse update) for one of the firm's clients."""
    if len(client.name) > DISPLAY_NAME_MAX:
        raise ValueError(f"client name is longer than QuickBooks' {DISPLAY_NAME_MAX} characters")
    payload: dict[str, Any] = {"DisplayName": client.name, "Active": client.active}
    if client.company_name:
        payload["CompanyName"] = client.company_name
    if client.email:
        payload["PrimaryEmailAddr"] = {"Address": client.email}
    if client.phone:
        payload["PrimaryPhone"] = {"FreeFormNumber": client.phone}
    address = {
        key: value
        for key, value in (
            ("Line1", client.address_line1),
            ("Line2", client.address_line2),
            ("City", client.city),
            ("CountrySubDivisionCode", client.region),
            ("PostalCode", client.postal_code),
            ("Country", client.country),
        )
        if value
    }
    if address:
        payload["BillAddr"] = address
    return payload


def invoice_to_payload(invoice: CanonicalInvoice, mapping: QuickBooksAccountingMapping) -> dict[str, Any]:
    """An Invoice payload (create, or sparse update, which replaces the lines) for an app invoice."""
    if len(invoice.number) > DOC_NUMBER_MAX:
        raise ValueError(f"invoice number {invoice.number!r} is longer than QuickBooks' {DOC_NUMBER_MAX}")
    lines = []
    for number, line in enumerate(invoice.lines, start=1):
        detail: dict[str, Any] = {
            "ItemRef": _ref(mapping.item_for(line.service)),
            "Qty": _number(line.quantity),
            "UnitPrice": _number(line.unit_price),
        }
        tax_code = mapping.tax_code_for(line.tax_rate)
        if tax_code is not None:
            detail["TaxCodeRef"] = _ref(tax_code)
        elif line.tax_rate:
            raise ValueError(
                f"line {number} is taxed at {line.tax_rate}% and the mapping has no tax code for that"
            )
        lines.append(
            {
                "LineNum": number,
                "Description": line.description,
                "Amount": _number(line.amount),
                "DetailType": "SalesItemLineDetail",
                "SalesItemLineDetail": detail,
            }
        )
    payload: dict[str, Any] = {
        "DocNumber": invoice.number,
        "TxnDate": invoice.issue_date.isoformat(),
        "DueDate": invoice.due_date.isoformat(),
        "CustomerRef": {"value": invoice.customer_external_id},
        "CurrencyRef": {"value": invoice.currency},
        "Line": lines,
    }
    if invoice.notes:
        payload["CustomerMemo"] = {"value": invoice.notes}
    return payload


def check_accounting_mapping(
    mapping: QuickBooksAccountingMapping, items: list[dict[str, Any]], accounts: list[dict[str, Any]]
) -> list[str]:
    """Problems with a firm's mapping against the company's synced Item and Account payloads (empty
    when it is usable): missing or inactive items, items that are not services or post elsewhere than
    the chosen income account, an income account that is missing or not an Income account."""
    problems: list[str] = []
    items_by_id = {str(item.get("Id")): item for item in items}
    accounts_by_id = {str(account.get("Id")): account for account in accounts}
    income = mapping.income_account
    if income is not None:
        account = accounts_by_id.get(income.value)
        if account is None:
            problems.append(f"income account {income.value} does not exist")
        elif account.get("Active") is False:
            problems.append(f"income account {income.value} is inactive")
        elif account.get("AccountType") != "Income":
            problems.append(f"account {income.value} is a {account.get('AccountType')} account, not Income")
    mapped = {"default item": mapping.default_item} | {
        f"item for {service!r}": ref for service, ref in sorted(mapping.service_items.items())
    }
    for label, ref in mapped.items():
        item = items_by_id.get(ref.value)
        if item is None:
            problems.append(f"{label}: item {ref.value} does not exist")
            continue
        if item.get("Active") is False:
            problems.append(f"{label}: item {ref.value} is inactive")
        if item.get("Type") != "Service":
            problems.append(f"{label}: item {ref.value} is a {item.get('Type')} item, not a Service")
        posts_to = (item.get("IncomeAccountRef") or {}).get("value")
        if income is not None and posts_to != income.value:
            problems.append(f"{label}: item {ref.value} posts to account {posts_to}, not {income.value}")
    return problems


def _ref(ref: QuickBooksRef) -> dict[str, str]:
    return {"value": ref.value, **({"name": ref.name} if ref.name else {})}


def _number(value: Decimal) -> float | int:
    """A JSON number with exactly the Decimal's digits. python-quickbooks would send a Decimal as a
    string; a float whose shortest repr is the same digits serialises exactly."""
    if value == value.to_integral_value():
        return int(value)
    number = float(value)
    if Decimal(repr(number)) != value:
        raise ValueError(f"amount {value} has more digits than a JSON number carries exactly")
    return number
