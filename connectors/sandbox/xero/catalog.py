"""Accounts, tax rates and items: the settings an invoice line refers to.

Every organisation starts with a chart of accounts and tax rates shaped like a new US Xero
organisation's (codes 090 … 970, ``OUTPUT``/``INPUT`` sales and purchase tax, ``NONE`` exempt).
Items are read-only here (seeded); lines that name an ``ItemCode`` take its sales details.
"""

import uuid
from decimal import Decimal
from typing import Any

from connectors.sandbox.xero.jsonbody import money
from connectors.sandbox.xero.store import Row
from connectors.sandbox.xero.tenant import ACCOUNTS, ITEMS, TaxRate, Tenant
from connectors.sandbox.xero.timefmt import json_timestamp

ACCOUNT_PROPERTIES = frozenset(
    [
        "Code",
        "Name",
        "AccountID",
        "Type",
        "BankAccountNumber",
        "Status",
        "Description",
        "BankAccountType",
        "CurrencyCode",
        "TaxType",
        "EnablePaymentsToAccount",
        "ShowInExpenseClaims",
        "Class",
        "SystemAccount",
        "ReportingCode",
        "ReportingCodeName",
        "HasAttachments",
        "UpdatedDateUTC",
        "AddToWatchlist",
    ]
)
ITEM_PROPERTIES = frozenset(
    [
        "Code",
        "InventoryAssetAccountCode",
        "Name",
        "IsSold",
        "IsPurchased",
        "Description",
        "PurchaseDescription",
        "PurchaseDetails",
        "SalesDetails",
        "IsTrackedAsInventory",
        "TotalCostPool",
        "QuantityOnHand",
        "UpdatedDateUTC",
        "ItemID",
    ]
)
TAX_RATES = (
    TaxRate("OUTPUT", "Tax on Sales", Decimal("8.2500")),
    TaxRate("INPUT", "Tax on Purchases", Decimal("8.2500")),
    TaxRate("NONE", "Tax Exempt", Decimal("0.0000")),
)
# (code, name, type, class, tax type, reporting code, extra)
CHART: tuple[tuple[str, str, str, str, str, str, dict[str, Any]], ...] = (
    (
        "090",
        "Business Bank Account",
        "BANK",
        "ASSET",
        "NONE",
        "ASS",
        {"BankAccountNumber": "121000358", "BankAccountType": "BANK", "CurrencyCode": "USD"},
    ),
    (
        "200",
        "Sales",
        "REVENUE",
        "REVENUE",
        "OUTPUT",
        "REV",
        {"Description": "Income from any normal business activity"},
    ),
    (
        "210",
        "Consulting Fees",
        "REVENUE",
        "REVENUE",
        "OUTPUT",
        "REV",
        {"Description": "Fees for professional services"},
    ),
    ("260", "Other Revenue", "REVENUE", "REVENUE", "OUTPUT", "REV", {}),
    ("270", "Interest Income", "REVENUE", "REVENUE", "NONE", "REV", {}),
    ("310", "Cost of Goods Sold", "DIRECTCOSTS", "EXPENSE", "INPUT", "EXP", {}),
    ("400", "Advertising", "EXPENSE", "EXPENSE", "INPUT", "EXP", {}),
    ("404", "Bank Fees", "EXPENSE", "EXPENSE", "NONE", "EXP", {}),
    ("412", "Consulting & Accounting", "EXPENSE", "EXPENSE", "INPUT", "EXP", {}),
    ("429", "General Expenses", "EXPENSE", "EXPENSE", "INPUT", "EXP", {}),
    ("610", "Accounts Receivable", "CURRENT", "ASSET", "NONE", "ASS", {"SystemAccount": "DEBTORS"}),
    ("800", "Accounts Payable", "CURRLIAB", "LIABILITY", "NONE", "LIA", {"SystemAccount": "CREDITORS"}),
    ("820", "Sales Tax", "CURRLIAB", "LIABILITY", "NONE", "LIA", {"SystemAccount": "GST"}),
    ("960", "Retained Earnings", "EQUITY", "EQUITY", "NONE", "EQU", {"SystemAccount": "RETAINEDEARNINGS"}),
    ("970", "Owner A Funds Introduced", "EQUITY", "EQUITY", "NONE", "EQU", {"EnablePaymentsToAccount": True}),
)
REPORTING_NAMES = {"ASS": "Assets", "REV": "Revenue", "EXP": "Expense", "LIA": "Liabilities", "EQU": "Equity"}
SALES_ACCOUNT = "200"
BANK_ACCOUNT = "090"


def seed_settings(tenant: Tenant, updated_ms: int) -> None:
    """The chart of accounts and tax rates of a new organisation."""
    for rate in TAX_RATES:
        tenant.tax_rates[rate.tax_type] = rate
    rows = []
    for code, name, kind, klass, tax_type, reporting, extra in CHART:
        account_id = str(uuid.uuid5(uuid.UUID(tenant.tenant_id), f"account:{code}"))
        entity: dict[str, Any] = {
            "AccountID": account_id,
            "Code": code,
            "Name": name,
            "Status": "ACTIVE",
            "Type": kind,
            "TaxType": tax_type,
            "Class": klass,
            "EnablePaymentsToAccount": False,
            "ShowInExpenseClaims": kind == "EXPENSE",
            "ReportingCode": reporting,
            "ReportingCodeName": REPORTING_NAMES[reporting],
            "HasAttachments": False,
            "UpdatedDateUTC": json_timestamp(updated_ms),
            "AddToWatchlist": False,
            **extra,
        }
        rows.append(Row(account_id, entity, updated_ms))
    tenant.save_new(ACCOUNTS, rows, announce=False)


def item_entity(item_id: str, code: str, name: str, price: Decimal, updated_ms: int) -> dict[str, Any]:
    return {
        "ItemID": item_id,
        "Code": code,
        "Name": name,
        "Description": name,
        "IsSold": True,
        "IsPurchased": False,
        "SalesDetails": {"UnitPrice": money(price), "AccountCode": "210", "TaxType": "NONE"},
        "PurchaseDetails": {},
        "IsTrackedAsInventory": False,
        "UpdatedDateUTC": json_timestamp(updated_ms),
    }


def add_items(tenant: Tenant, rows: list[Row]) -> None:
    tenant.save_new(ITEMS, rows, announce=False)
