"""Account and Item (products and services), the name lists invoices refer to, and the chart of accounts,
items and tax codes every sandbox company starts with.

Rules follow the Account and Item references: names unique (6240), Account.Classification derived from
AccountType, Item.Type one of Service / NonInventory / Inventory with the account references each type
requires (2020), references to accounts that exist (2500) and are active (610), never deleted (Active
false renames "Name (deleted)").
"""

from typing import TYPE_CHECKING, Any

from connectors.sandbox.quickbooks import errors
from connectors.sandbox.quickbooks.fields import Schema, ref_id, writable_fields
from connectors.sandbox.quickbooks.name_lists import check_name_free, rename_for_activity
from connectors.sandbox.quickbooks.table import EntityRow

if TYPE_CHECKING:
    from connectors.sandbox.quickbooks.realm import Realm

USD = {"value": "USD", "name": "United States Dollar"}
# AccountType → (Classification, the AccountSubType QBO assigns when none is given)
ACCOUNT_TYPES: dict[str, tuple[str, str]] = {
    "Bank": ("Asset", "Checking"),
    "Other Current Asset": ("Asset", "OtherCurrentAssets"),
    "Fixed Asset": ("Asset", "OtherFixedAssets"),
    "Other Asset": ("Asset", "OtherLongTermAssets"),
    "Accounts Receivable": ("Asset", "AccountsReceivable"),
    "Equity": ("Equity", "OwnersEquity"),
    "Expense": ("Expense", "OtherMiscellaneousServiceCost"),
    "Other Expense": ("Expense", "OtherMiscellaneousExpense"),
    "Cost of Goods Sold": ("Expense", "SuppliesMaterialsCogs"),
    "Accounts Payable": ("Liability", "AccountsPayable"),
    "Credit Card": ("Liability", "CreditCard"),
    "Long Term Liability": ("Liability", "OtherLongTermLiabilities"),
    "Other Current Liability": ("Liability", "OtherCurrentLiabilities"),
    "Income": ("Revenue", "ServiceFeeIncome"),
    "Other Income": ("Revenue", "OtherMiscellaneousIncome"),
}
ACCOUNT_SCHEMA = Schema(
    strings=frozenset(
        ("Name", "AcctNum", "AccountType", "AccountSubType", "Description", "TxnLocationType", "AccountAlias")
    ),
    bools=frozenset(("Active", "SubAccount")),
    objects=frozenset(("ParentRef", "CurrencyRef", "TaxCodeRef")),
    server_owned=frozenset(
        ("FullyQualifiedName", "Classification", "CurrentBalance", "CurrentBalanceWithSubAccounts")
    ),
)
ITEM_TYPES = ("Service", "NonInventory", "Inventory")
ITEM_SCHEMA = Schema(
    strings=frozenset(
        (
            "Name",
            "Sku",
            "Description",
            "PurchaseDesc",
            "Type",
            "ServiceType",
            "ItemCategoryType",
            "UQCDisplayText",
            "UQCId",
        )
    ),
    dates=frozenset(("InvStartDate",)),
    bools=frozenset(
        ("Active", "SubItem", "Taxable", "SalesTaxIncluded", "PurchaseTaxIncluded", "TrackQtyOnHand")
    ),
    numbers=frozenset(
        ("UnitPrice", "PurchaseCost", "QtyOnHand", "ReorderPoint", "AbatementRate", "ReverseChargeRate")
    ),
    objects=frozenset(
        (
            "IncomeAccountRef",
            "ExpenseAccountRef",
            "AssetAccountRef",
            "ParentRef",
            "SalesTaxCodeRef",
            "PurchaseTaxCodeRef",
            "ClassRef",
            "PrefVendorRef",
        )
    ),
    server_owned=frozenset(("FullyQualifiedName", "Level")),
)
ITEM_ACCOUNT_REFS = ("IncomeAccountRef", "ExpenseAccountRef", "AssetAccountRef")


def account_ref(realm: "Realm", ref: Any, element: str) -> dict[str, str]:
    """Resolve a reference to an account: unknown is 2500, inactive is 610; answer it with its name."""
    row = realm.accounts.lookup(ref_id(ref)) if ref_id(ref) else None
    if row is None:
        raise errors.invalid_reference(element)
    if not row.active:
        raise errors.inactive_reference(element)
    return {"value": str(row.id), "name": row.entity["FullyQualifiedName"]}


def _parent(realm: "Realm", table_name: str, fields: dict[str, Any], self_id: Any) -> tuple[str, dict | None]:
    """The "Parent:" prefix of FullyQualifiedName and the resolved ParentRef, for sub-items/accounts."""
    ref = fields.get("ParentRef")
    if not ref:
        return "", None
    parent = realm.table(table_name).lookup(ref_id(ref)) if ref_id(ref) else None
    if parent is None or parent.id == self_id:
        raise errors.invalid_reference("ParentRef")
    qualified = parent.entity["FullyQualifiedName"]
    return qualified + ":", {"value": str(parent.id), "name": qualified}


class AccountRules:
    entity = "Account"

    def _finish(self, realm: "Realm", entity: dict[str, Any], entity_id: Any, was_active: bool) -> dict:
        if not entity.get("Name", "").strip():
            raise errors.required_param_missing("Name")
        if ":" in entity["Name"] or '"' in entity["Name"]:
            raise errors.invalid_value(f"Account Name cannot contain ':' or '\"': {entity['Name']}")
        account_type = entity.get("AccountType")
        if account_type is None:
            raise errors.required_param_missing("AccountType")
        if account_type not in ACCOUNT_TYPES:
            raise errors.invalid_value(f"Invalid Enumeration : AccountType {account_type}")
        classification, default_sub_type = ACCOUNT_TYPES[account_type]
        entity["Classification"] = classification
        entity.setdefault("AccountSubType", default_sub_type)
        qualified, parent = _parent(realm, "Account", entity, entity_id)
        if parent:
            entity["ParentRef"], entity["SubAccount"] = parent, True
        else:
            entity.pop("ParentRef", None)
            entity["SubAccount"] = False
        rename_for_activity(realm.accounts, entity, "Name", was_active, entity_id, qualified)
        check_name_free(realm.accounts, entity["FullyQualifiedName"], entity_id)
        return entity

    def create(self, realm: "Realm", entity_id: int, body: dict[str, Any], now: float) -> dict[str, Any]:
        entity = {
            "Id": str(entity_id),
            "domain": "QBO",
            "sparse": False,
            "Active": True,
            "CurrencyRef": USD,
            "CurrentBalance": 0,
            "CurrentBalanceWithSubAccounts": 0,
            **writable_fields(body, ACCOUNT_SCHEMA),
        }
        return self._finish(realm, entity, entity_id, True)

    def update(
        self, realm: "Realm", current: EntityRow, body: dict[str, Any], sparse: bool
    ) -> dict[str, Any]:
        fields = writable_fields(body, ACCOUNT_SCHEMA)
        kept = ("Id", "domain", "CurrencyRef", "CurrentBalance", "CurrentBalanceWithSubAccounts")
        base = current.entity if sparse else {k: current.entity[k] for k in kept if k in current.entity}
        entity = {**base, "sparse": False, **({} if sparse else {"Active": True}), **fields}
        if not sparse and "AccountType" not in fields:
            raise errors.required_param_missing("AccountType")
        return self._finish(realm, entity, current.id, current.active)


class ItemRules:
    entity = "Item"

    def _finish(self, realm: "Realm", entity: dict[str, Any], entity_id: Any, was_active: bool) -> dict:
        if not entity.get("Name", "").strip():
            raise errors.required_param_missing("Name")
        item_type = entity.get("Type")
        if item_type is None:
            raise errors.required_param_missing("Type")
        if item_type in ("Category", "Group", "Bundle"):
            raise errors.unsupported_operation(f"Items of Type {item_type} are not emulated by this sandbox")
        if item_type not in ITEM_TYPES:
            raise errors.invalid_value(f"Invalid Enumeration : Type {item_type}")
        if item_type == "Inventory":
            if "AssetAccountRef" not in entity:
                raise errors.QboFault(
                    400,
                    "2020",
                    "Required param missing, need to supply the required value for the API",
                    "Required parameter is missing in the request. An inventory asset account is required if "
                    "you are tracking inventory quantities for this product.",
                )
            for required in ("ExpenseAccountRef", "InvStartDate"):
                if required not in entity:
                    raise errors.required_param_missing(required)
            entity["TrackQtyOnHand"] = True
            entity.setdefault("QtyOnHand", 0)
        if "IncomeAccountRef" not in entity:
            raise errors.required_param_missing("IncomeAccountRef")
        for name in ITEM_ACCOUNT_REFS:
            if name in entity:
                entity[name] = account_ref(realm, entity[name], name)
        for name in ("SalesTaxCodeRef", "PurchaseTaxCodeRef"):
            if name in entity and realm.tax_codes.lookup(ref_id(entity[name]) or "") is None:
                raise errors.invalid_reference(name)
        qualified, parent = _parent(realm, "Item", entity, entity_id)
        if parent:
            entity["ParentRef"], entity["SubItem"], entity["Level"] = parent, True, qualified.count(":")
        else:
            entity.pop("ParentRef", None)
            entity["SubItem"], entity["Level"] = False, 0
        rename_for_activity(realm.items, entity, "Name", was_active, entity_id, qualified)
        check_name_free(realm.items, entity["FullyQualifiedName"], entity_id)
        return entity

    def create(self, realm: "Realm", entity_id: int, body: dict[str, Any], now: float) -> dict[str, Any]:
        entity = {
            "Id": str(entity_id),
            "domain": "QBO",
            "sparse": False,
            "Active": True,
            "Taxable": False,
            "UnitPrice": 0,
            "PurchaseCost": 0,
            "TrackQtyOnHand": False,
            **writable_fields(body, ITEM_SCHEMA),
        }
        return self._finish(realm, entity, entity_id, True)

    def update(
        self, realm: "Realm", current: EntityRow, body: dict[str, Any], sparse: bool
    ) -> dict[str, Any]:
        fields = writable_fields(body, ITEM_SCHEMA)
        if current.entity["Type"] == "Inventory" and fields.get("Type", "Inventory") != "Inventory":
            raise errors.business_validation("You can't change the type of an inventory item.", "Type")
        if sparse:
            entity = {**current.entity, "sparse": False, **fields}
        else:
            defaults = {
                "Active": True,
                "Taxable": False,
                "UnitPrice": 0,
                "PurchaseCost": 0,
                "TrackQtyOnHand": False,
            }
            entity = {"Id": current.entity["Id"], "domain": "QBO", "sparse": False, **defaults, **fields}
        return self._finish(realm, entity, current.id, current.active)


# The company every realm starts as: a professional-services firm's chart of accounts (QBO-style
# subtypes, 4-digit numbers), the items it bills and the US sales-tax pseudo codes.
STANDARD_ACCOUNTS: tuple[tuple[str, str, str, str], ...] = (
    # (Name, AccountType, AccountSubType, AcctNum)
    ("Services", "Income", "ServiceFeeIncome", "4000"),
    ("Tax Preparation Income", "Income", "ServiceFeeIncome", "4100"),
    ("Advisory Income", "Income", "ServiceFeeIncome", "4200"),
    ("Bookkeeping Income", "Income", "ServiceFeeIncome", "4300"),
    ("Billable Expense Income", "Income", "OtherPrimaryIncome", "4400"),
    ("Discounts given", "Income", "DiscountsRefundsGiven", "4900"),
    ("Business Checking", "Bank", "Checking", "1000"),
    ("Accounts Receivable (A/R)", "Accounts Receivable", "AccountsReceivable", "1100"),
    ("Undeposited Funds", "Other Current Asset", "UndepositedFunds", "1200"),
    ("Office Supplies & Software", "Expense", "OfficeGeneralAdministrativeExpenses", "6100"),
    ("Filing Fees", "Expense", "OtherMiscellaneousServiceCost", "6200"),
)
STANDARD_ITEMS: tuple[dict[str, Any], ...] = (
    # IncomeAccountRef / ExpenseAccountRef name accounts above by Name.
    {"Name": "Services", "Type": "Service", "IncomeAccountRef": "Services", "UnitPrice": 0},
    {"Name": "Hours", "Type": "Service", "IncomeAccountRef": "Services", "UnitPrice": 0},
    {
        "Name": "Tax preparation",
        "Type": "Service",
        "IncomeAccountRef": "Tax Preparation Income",
        "UnitPrice": 450,
        "Description": "Preparation and e-filing of federal and state income tax returns",
    },
    {
        "Name": "Advisory hours",
        "Type": "Service",
        "IncomeAccountRef": "Advisory Income",
        "UnitPrice": 175,
        "Description": "Advisory and consulting, billed hourly",
    },
    {
        "Name": "Bookkeeping",
        "Type": "Service",
        "IncomeAccountRef": "Bookkeeping Income",
        "UnitPrice": 350,
        "Description": "Monthly bookkeeping and bank reconciliation",
    },
    {
        "Name": "Payroll processing",
        "Type": "Service",
        "IncomeAccountRef": "Services",
        "UnitPrice": 95,
        "Description": "Payroll run, filings and pay stubs",
    },
    {
        "Name": "Filing fees",
        "Type": "NonInventory",
        "IncomeAccountRef": "Billable Expense Income",
        "ExpenseAccountRef": "Filing Fees",
        "UnitPrice": 25,
        "Taxable": True,
        "Description": "State filing fees, passed through at cost",
    },
)
TAX_CODES = (("TAX", True), ("NON", False))
