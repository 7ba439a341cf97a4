"""What the Accounting API knows about each collection it serves: id property, paging, filters, scopes."""

from dataclasses import dataclass

from connectors.sandbox.xero import catalog, contacts, credit_notes, invoices, payments
from connectors.sandbox.xero.tenant import ACCOUNTS, CONTACTS, CREDIT_NOTES, INVOICES, ITEMS, PAYMENTS

TRANSACTIONS_READ = frozenset(("accounting.transactions", "accounting.transactions.read"))


@dataclass(frozen=True)
class Resource:
    name: str  # the collection, as in the URL and the response array
    id_field: str
    type_name: str  # how Xero's query errors name the element type
    properties: frozenset[str]
    paged: bool  # Xero pages these (100 per page, pageSize up to 1000)
    lines_only_when_paged: bool  # unpaged lists leave out LineItems
    read_scopes: frozenset[str]
    write_scopes: frozenset[str]
    number_field: str | None = None  # a second key GET /{Resource}/{key} accepts


RESOURCES = {
    r.name.lower(): r
    for r in (
        Resource(
            CONTACTS,
            "ContactID",
            "Contact",
            contacts.PROPERTIES,
            True,
            False,
            frozenset(("accounting.contacts", "accounting.contacts.read")),
            frozenset(("accounting.contacts",)),
            "ContactNumber",
        ),
        Resource(
            INVOICES,
            "InvoiceID",
            "Invoice",
            invoices.PROPERTIES,
            True,
            True,
            TRANSACTIONS_READ | {"accounting.invoices", "accounting.invoices.read"},
            frozenset(("accounting.transactions", "accounting.invoices")),
            "InvoiceNumber",
        ),
        Resource(
            CREDIT_NOTES,
            "CreditNoteID",
            "CreditNote",
            credit_notes.PROPERTIES,
            True,
            True,
            TRANSACTIONS_READ | {"accounting.invoices", "accounting.invoices.read"},
            frozenset(("accounting.transactions", "accounting.invoices")),
            "CreditNoteNumber",
        ),
        Resource(
            PAYMENTS,
            "PaymentID",
            "Payment",
            payments.PROPERTIES,
            True,
            False,
            TRANSACTIONS_READ | {"accounting.payments", "accounting.payments.read"},
            frozenset(("accounting.transactions", "accounting.payments")),
        ),
        Resource(
            ITEMS,
            "ItemID",
            "Item",
            catalog.ITEM_PROPERTIES,
            False,
            False,
            frozenset(
                (
                    "accounting.settings",
                    "accounting.settings.read",
                    "accounting.invoices",
                    "accounting.invoices.read",
                )
            ),
            frozenset(("accounting.settings", "accounting.invoices")),
            "Code",
        ),
        Resource(
            ACCOUNTS,
            "AccountID",
            "Account",
            catalog.ACCOUNT_PROPERTIES,
            False,
            False,
            frozenset(("accounting.settings", "accounting.settings.read")),
            frozenset(("accounting.settings",)),
            "Code",
        ),
    )
}
SETTINGS_READ = frozenset(("accounting.settings", "accounting.settings.read"))
