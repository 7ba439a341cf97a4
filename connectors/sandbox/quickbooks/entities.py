"""The QBO entities this sandbox emulates: their URL resource names, what a query may filter and sort on,
and which operations the API offers for each (from the entity pages of Intuit's API reference).

Name lists (Customer, Item, Account, TaxCode) are never deleted, only made inactive, and queries leave
inactive ones out unless the WHERE clause names Active. Transactions (Invoice, Payment, CreditMemo) are
deleted for good (CDC then reports them with status "Deleted") and share one Id sequence.
"""

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from connectors.sandbox.quickbooks.table import EntityRow

PropertyKind = Literal["id", "key", "string", "bool", "number", "datetime", "date", "ref"]


@dataclass(frozen=True)
class Property:
    name: str
    kind: PropertyKind
    value: Callable[[EntityRow], Any]  # what comparisons see: strings casefolded, None when unset


@dataclass(frozen=True)
class EntitySpec:
    name: str
    resource: str  # the URL path segment: /v3/company/{realm}/{resource}
    properties: dict[str, Property]  # by lower-case name
    name_list: bool
    cdc: bool = True
    writable: bool = True
    deletable: bool = False  # operation=delete
    void: Literal["operation", "include"] | None = None  # ?operation=void, or ?operation=update&include=void

    def property(self, name: str) -> Property | None:
        return self.properties.get(name.lower())


def _text(key: str, sub: str | None = None) -> Callable[[EntityRow], str | None]:
    def value(row: EntityRow) -> str | None:
        text = row.entity.get(key)
        if sub is not None:
            text = text.get(sub) if text else None
        return text.casefold() if isinstance(text, str) and text else None

    return value


def _plain(key: str) -> Callable[[EntityRow], Any]:
    return lambda row: row.entity.get(key)


def _ref(key: str) -> Callable[[EntityRow], str | None]:
    def value(row: EntityRow) -> str | None:
        ref = row.entity.get(key)
        return ref.get("value") if isinstance(ref, dict) else None

    return value


def _properties(*props: Property, strings: tuple[str, ...] = (), numbers: tuple[str, ...] = ()) -> dict:
    common = [
        Property("MetaData.CreateTime", "datetime", operator.attrgetter("created")),
        Property("MetaData.LastUpdatedTime", "datetime", operator.attrgetter("updated")),
    ]
    every = [
        *common,
        *props,
        *(Property(name, "string", _text(name)) for name in strings),
        *(Property(name, "number", _plain(name)) for name in numbers),
    ]
    return {prop.name.lower(): prop for prop in every}


_ID = Property("Id", "id", operator.attrgetter("id"))
_ACTIVE = Property("Active", "bool", operator.attrgetter("active"))

CUSTOMER = EntitySpec(
    "Customer",
    "customer",
    _properties(
        _ID,
        _ACTIVE,
        Property("Job", "bool", _plain("Job")),
        Property("PrimaryEmailAddr", "string", _text("PrimaryEmailAddr", "Address")),
        strings=(
            "DisplayName",
            "GivenName",
            "MiddleName",
            "FamilyName",
            "CompanyName",
            "FullyQualifiedName",
            "PrintOnCheckName",
            "Title",
            "Suffix",
        ),
        numbers=("Balance", "BalanceWithJobs"),
    ),
    name_list=True,
)
_SALES_FORM = (
    _ID,
    Property("CustomerRef", "ref", _ref("CustomerRef")),
    Property("TxnDate", "date", _plain("TxnDate")),
)
INVOICE = EntitySpec(
    "Invoice",
    "invoice",
    _properties(
        *_SALES_FORM,
        Property("DueDate", "date", _plain("DueDate")),
        strings=("DocNumber", "EmailStatus", "PrintStatus", "PrivateNote"),
        numbers=("TotalAmt", "Balance"),
    ),
    name_list=False,
    deletable=True,
    void="operation",
)
CREDIT_MEMO = EntitySpec(
    "CreditMemo",
    "creditmemo",
    _properties(
        *_SALES_FORM,
        strings=("DocNumber", "EmailStatus", "PrintStatus", "PrivateNote"),
        numbers=("TotalAmt", "Balance", "RemainingCredit"),
    ),
    name_list=False,
    deletable=True,
)
PAYMENT = EntitySpec(
    "Payment",
    "payment",
    _properties(
        *_SALES_FORM,
        Property("DepositToAccountRef", "ref", _ref("DepositToAccountRef")),
        strings=("PaymentRefNum", "PrivateNote"),
        numbers=("TotalAmt", "UnappliedAmt"),
    ),
    name_list=False,
    deletable=True,
    void="include",
)
ITEM = EntitySpec(
    "Item",
    "item",
    _properties(
        _ID,
        _ACTIVE,
        Property("Taxable", "bool", _plain("Taxable")),
        Property("IncomeAccountRef", "ref", _ref("IncomeAccountRef")),
        strings=("Name", "FullyQualifiedName", "Type", "Sku", "Description"),
        numbers=("UnitPrice", "PurchaseCost", "QtyOnHand"),
    ),
    name_list=True,
)
ACCOUNT = EntitySpec(
    "Account",
    "account",
    _properties(
        _ID,
        _ACTIVE,
        Property("SubAccount", "bool", _plain("SubAccount")),
        strings=("Name", "FullyQualifiedName", "AccountType", "AccountSubType", "Classification", "AcctNum"),
        numbers=("CurrentBalance", "CurrentBalanceWithSubAccounts"),
    ),
    name_list=True,
)
# US companies: the codes on sales lines are the pseudo codes TAX and NON. Read-only through the API, and
# one of the entities the CDC guide lists as not supported.
TAX_CODE = EntitySpec(
    "TaxCode",
    "taxcode",
    _properties(
        Property("Id", "key", operator.attrgetter("id")),
        _ACTIVE,
        Property("Taxable", "bool", _plain("Taxable")),
        strings=("Name", "Description"),
    ),
    name_list=True,
    cdc=False,
    writable=False,
)

SPECS: dict[str, EntitySpec] = {
    spec.name: spec for spec in (CUSTOMER, INVOICE, PAYMENT, CREDIT_MEMO, ITEM, ACCOUNT, TAX_CODE)
}
BY_RESOURCE: dict[str, EntitySpec] = {spec.resource: spec for spec in SPECS.values()}
TRANSACTIONS = ("Invoice", "Payment", "CreditMemo")

# Entities a real company has but this sandbox does not emulate; naming them is not a typo.
OTHER_QBO_ENTITIES = frozenset(
    [
        "Attachable",
        "Bill",
        "BillPayment",
        "Budget",
        "Class",
        "CompanyInfo",
        "Department",
        "Deposit",
        "Employee",
        "Estimate",
        "JournalEntry",
        "PaymentMethod",
        "Preferences",
        "Purchase",
        "PurchaseOrder",
        "RefundReceipt",
        "SalesReceipt",
        "TaxAgency",
        "TaxRate",
        "Term",
        "TimeActivity",
        "Transfer",
        "Vendor",
        "VendorCredit",
    ]
)
