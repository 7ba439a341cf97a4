"""The Customer entity: its create/update rules.

Rules follow the QBO Customer reference: DisplayName unique per company (else 6240), derived from the
name parts when omitted; every write bumps SyncToken and MetaData.LastUpdatedTime; an update must carry
the current SyncToken (else 5010); ``sparse: true`` merges, a full update replaces every writable field;
customers are never deleted, only made inactive (Active false).
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from connectors.sandbox.quickbooks import errors
from connectors.sandbox.quickbooks.name_lists import check_name_free, rename_for_activity
from connectors.sandbox.quickbooks.table import EntityRow

if TYPE_CHECKING:
    from connectors.sandbox.quickbooks.realm import Realm

STRING_PROPERTIES = frozenset(
    [
        "Title",
        "GivenName",
        "MiddleName",
        "FamilyName",
        "Suffix",
        "DisplayName",
        "CompanyName",
        "PrintOnCheckName",
        "Notes",
        "ResaleNum",
        "PreferredDeliveryMethod",
        "PrimaryTaxIdentifier",
        "SecondaryTaxIdentifier",
        "OpenBalanceDate",
        "BusinessNumber",
        "GSTIN",
        "GSTRegistrationType",
        "TaxExemptionReasonId",
        "ClientEntityId",
    ]
)
BOOL_PROPERTIES = frozenset(("Active", "Job", "BillWithParent", "Taxable", "IsProject"))
OBJECT_PROPERTIES = frozenset(
    [
        "BillAddr",
        "ShipAddr",
        "PrimaryPhone",
        "AlternatePhone",
        "Mobile",
        "Fax",
        "PrimaryEmailAddr",
        "WebAddr",
        "DefaultTaxCodeRef",
        "SalesTermRef",
        "PaymentMethodRef",
        "ParentRef",
        "ARAccountRef",
        "CurrencyRef",
        "CustomerTypeRef",
    ]
)
ADDRESS_PROPERTIES = ("BillAddr", "ShipAddr")
# Sent back by SDKs that echo what they read; the server owns these and ignores what clients say.
SERVER_OWNED = frozenset(
    (
        "Id",
        "SyncToken",
        "MetaData",
        "FullyQualifiedName",
        "domain",
        "sparse",
        "Balance",
        "BalanceWithJobs",
        "Level",
    )
)
SERVER_OWNED |= {"V4IDPseudonym"}
KEPT_ON_FULL_UPDATE = (
    "Id",
    "SyncToken",
    "domain",
    "sparse",
    "Balance",
    "BalanceWithJobs",
    "CurrencyRef",
    "MetaData",
)
NAME_PARTS = ("Title", "GivenName", "MiddleName", "FamilyName", "Suffix")
CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
    "AUD": "Australian Dollar",
}
DISPLAY_NAME_MAX = 500


def _strip_empty(value: Any) -> Any:
    """QBO keeps only properties with values; SDKs send "" and null for everything unset."""
    if isinstance(value, dict):
        cleaned = {k: v for k, v in ((k, _strip_empty(v)) for k, v in value.items()) if v not in ("", None)}
        return cleaned or None
    return value


def writable_fields(body: dict[str, Any]) -> dict[str, Any]:
    """Validate a Customer request body and return the writable properties it sets."""
    fields: dict[str, Any] = {}
    for name, value in body.items():
        if name in SERVER_OWNED:
            continue
        if name in STRING_PROPERTIES:
            ok = value is None or isinstance(value, str)
        elif name in BOOL_PROPERTIES:
            ok = value is None or isinstance(value, bool)
        elif name in OBJECT_PROPERTIES:
            ok = value is None or isinstance(value, dict)
        else:
            raise errors.invalid_property(name)
        if not ok:
            raise errors.invalid_property(name)
        value = _strip_empty(value)
        if value not in ("", None):
            fields[name] = value
    return fields


def _finish(entity: dict[str, Any], next_address_id: Callable[[], str]) -> dict[str, Any]:
    """Fill the properties QBO derives: DisplayName from name parts, FullyQualifiedName, address Ids."""
    display = entity.get("DisplayName") or " ".join(entity[p] for p in NAME_PARTS if entity.get(p))
    if not display.strip():
        raise errors.required_param_missing("DisplayName")
    if len(display) > DISPLAY_NAME_MAX:
        raise errors.invalid_value(f"DisplayName is longer than {DISPLAY_NAME_MAX} characters")
    entity["DisplayName"] = display
    entity["FullyQualifiedName"] = display
    entity.setdefault("PrintOnCheckName", display)
    currency = entity.get("CurrencyRef")
    if currency and "name" not in currency and currency.get("value") in CURRENCY_NAMES:
        entity["CurrencyRef"] = {**currency, "name": CURRENCY_NAMES[currency["value"]]}
    for prop in ADDRESS_PROPERTIES:
        if prop in entity and "Id" not in entity[prop]:
            entity[prop] = {"Id": next_address_id(), **entity[prop]}
    return entity


def new_entity(
    customer_id: int, fields: dict[str, Any], balance: float, next_address_id: Callable[[], str]
) -> dict[str, Any]:
    entity: dict[str, Any] = {
        "Id": str(customer_id),
        "SyncToken": "0",
        "domain": "QBO",
        "sparse": False,
        "Active": True,
        "Job": False,
        "BillWithParent": False,
        "Taxable": False,
        "IsProject": False,
        "PreferredDeliveryMethod": "Print",
        "Balance": balance,
        "BalanceWithJobs": balance,
        "CurrencyRef": {"value": "USD", "name": CURRENCY_NAMES["USD"]},
    }
    entity.update(fields)
    return _finish(entity, next_address_id)


def updated_entity(
    current: dict[str, Any], fields: dict[str, Any], sparse: bool, next_address_id: Callable[[], str]
) -> dict[str, Any]:
    if sparse:
        entity = {**current, **fields}
    else:
        # A full update replaces every writable property: what the body omits is cleared.
        entity = {k: current[k] for k in KEPT_ON_FULL_UPDATE if k in current}
        entity.update(
            {"Active": True, "Job": False, "BillWithParent": False, "Taxable": False, "IsProject": False}
        )
        entity["PreferredDeliveryMethod"] = current.get("PreferredDeliveryMethod", "Print")
        entity.update(fields)
    if "PrintOnCheckName" not in fields and current.get("PrintOnCheckName") == current.get("DisplayName"):
        entity.pop("PrintOnCheckName", None)  # it followed the old name; let it follow the new one
    entity["sparse"] = False
    return _finish(entity, next_address_id)


class CustomerRules:
    entity = "Customer"

    def create(self, realm: "Realm", entity_id: int, body: dict[str, Any], now: float) -> dict[str, Any]:
        fields = writable_fields(body)
        balance = body.get("Balance") if isinstance(body.get("Balance"), int | float) else 0
        entity = new_entity(entity_id, fields, balance, realm.next_address_id)
        rename_for_activity(realm.customers, entity, "DisplayName", True, None)
        check_name_free(realm.customers, entity["DisplayName"], None)
        return entity

    def update(
        self, realm: "Realm", current: EntityRow, body: dict[str, Any], sparse: bool
    ) -> dict[str, Any]:
        entity = updated_entity(current.entity, writable_fields(body), sparse, realm.next_address_id)
        rename_for_activity(realm.customers, entity, "DisplayName", current.active, current.id)
        check_name_free(realm.customers, entity["DisplayName"], current.id)
        return entity
