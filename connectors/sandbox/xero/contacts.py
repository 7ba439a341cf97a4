"""Contacts (developer.xero.com/documentation/api/accounting/contacts).

Rules reproduced: ``Name`` is required and unique among ACTIVE contacts (Xero's message names the
clash); an update merges (omitted properties keep their values; an address or phone replaces the one
of the same type); ``ContactStatus: ARCHIVED`` archives, which frees the name; every write moves
``UpdatedDateUTC``. A new contact answers with both address types and all four phone types, empty.
"""

import re
from typing import Any

from connectors.sandbox.xero.errors import Invalid
from connectors.sandbox.xero.store import Row
from connectors.sandbox.xero.tenant import CONTACTS, Batch, Change
from connectors.sandbox.xero.timefmt import json_timestamp

PROPERTIES = frozenset(
    [
        "ContactID",
        "MergedToContactID",
        "ContactNumber",
        "AccountNumber",
        "ContactStatus",
        "Name",
        "FirstName",
        "LastName",
        "CompanyNumber",
        "EmailAddress",
        "ContactPersons",
        "BankAccountDetails",
        "TaxNumber",
        "AccountsReceivableTaxType",
        "AccountsPayableTaxType",
        "Addresses",
        "Phones",
        "IsSupplier",
        "IsCustomer",
        "SalesDefaultLineAmountType",
        "PurchasesDefaultLineAmountType",
        "DefaultCurrency",
        "XeroNetworkKey",
        "SalesDefaultAccountCode",
        "PurchasesDefaultAccountCode",
        "SalesTrackingCategories",
        "PurchasesTrackingCategories",
        "PaymentTerms",
        "UpdatedDateUTC",
        "ContactGroups",
        "Website",
        "BrandingTheme",
        "BatchPayments",
        "Discount",
        "Balances",
        "HasAttachments",
        "HasValidationErrors",
    ]
)
WRITABLE = frozenset(
    [
        "ContactNumber",
        "AccountNumber",
        "ContactStatus",
        "Name",
        "FirstName",
        "LastName",
        "CompanyNumber",
        "EmailAddress",
        "ContactPersons",
        "BankAccountDetails",
        "TaxNumber",
        "AccountsReceivableTaxType",
        "AccountsPayableTaxType",
        "Addresses",
        "Phones",
        "IsSupplier",
        "IsCustomer",
        "SalesDefaultLineAmountType",
        "PurchasesDefaultLineAmountType",
        "DefaultCurrency",
        "SalesDefaultAccountCode",
        "PurchasesDefaultAccountCode",
        "PaymentTerms",
        "Website",
        "Discount",
    ]
)
STATUSES = ("ACTIVE", "ARCHIVED", "GDPRREQUEST")
ADDRESS_TYPES = ("STREET", "POBOX")
PHONE_TYPES = ("DEFAULT", "DDI", "FAX", "MOBILE")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_MAX = 255


def summary(entity: dict[str, Any]) -> dict[str, Any]:
    """How invoices, credit notes and payments embed their contact."""
    return {
        "ContactID": entity["ContactID"],
        "Name": entity["Name"],
        "Addresses": [],
        "Phones": [],
        "ContactGroups": [],
        "ContactPersons": [],
        "HasValidationErrors": False,
    }


def _merge_typed(current: list[dict], given: Any, type_key: str, order: tuple[str, ...]) -> list[dict]:
    if not isinstance(given, list):
        raise Invalid(f"{type_key}s must be a list")
    by_type = {item[type_key]: item for item in current}
    for item in given:
        if not isinstance(item, dict) or item.get(type_key) not in order:
            raise Invalid(f"{type_key} must be one of {', '.join(order)}")
        by_type[item[type_key]] = {
            type_key: item[type_key],
            **{k: v for k, v in item.items() if v is not None},
        }
    return [by_type[kind] for kind in order if kind in by_type]


def blank_addresses() -> list[dict[str, str]]:
    return [
        {"AddressType": t, "City": "", "Region": "", "PostalCode": "", "Country": ""} for t in ADDRESS_TYPES
    ]


def blank_phones() -> list[dict[str, str]]:
    return [
        {"PhoneType": t, "PhoneNumber": "", "PhoneAreaCode": "", "PhoneCountryCode": ""} for t in PHONE_TYPES
    ]


def new_entity(contact_id: str, updated_ms: int) -> dict[str, Any]:
    return {
        "ContactID": contact_id,
        "ContactStatus": "ACTIVE",
        "Name": "",
        "EmailAddress": "",
        "BankAccountDetails": "",
        "Addresses": blank_addresses(),
        "Phones": blank_phones(),
        "UpdatedDateUTC": json_timestamp(updated_ms),
        "ContactGroups": [],
        "IsSupplier": False,
        "IsCustomer": False,
        "DefaultCurrency": "USD",
        "SalesTrackingCategories": [],
        "PurchasesTrackingCategories": [],
        "ContactPersons": [],
        "HasAttachments": False,
        "HasValidationErrors": False,
    }


def _apply(entity: dict[str, Any], element: dict[str, Any]) -> dict[str, Any]:
    for name, value in element.items():
        if name not in WRITABLE or value is None:
            continue
        if name == "Addresses":
            entity[name] = _merge_typed(entity["Addresses"], value, "AddressType", ADDRESS_TYPES)
        elif name == "Phones":
            entity[name] = _merge_typed(entity["Phones"], value, "PhoneType", PHONE_TYPES)
        else:
            entity[name] = value
    return entity


def _validate(batch: Batch, entity: dict[str, Any]) -> None:
    name = entity.get("Name")
    if not isinstance(name, str) or not name.strip():
        raise Invalid("The contact name must be specified.")
    if len(name) > NAME_MAX:
        raise Invalid(f"The contact name must not be longer than {NAME_MAX} characters.")
    if entity["ContactStatus"] not in STATUSES:
        raise Invalid(f"ContactStatus must be one of {', '.join(STATUSES)}")
    email = entity.get("EmailAddress") or ""
    if not isinstance(email, str) or (email and not EMAIL.match(email)):
        raise Invalid("Email address must be valid.")
    if entity["ContactStatus"] == "ACTIVE":
        holder = batch.contact_named(name)
        if holder is not None and holder != entity["ContactID"]:
            raise Invalid(
                f"The contact name {name} is already assigned to another contact. "
                "The contact name must be unique across all active contacts."
            )


def prepare(batch: Batch, element: dict[str, Any], now: float, contact_id: str | None = None) -> Row:
    """Create or update one contact (update when it names a ContactID) into the batch."""
    contact_id = (contact_id or element.get("ContactID") or "").lower() or None
    stamp = batch.tenant.stamp(now)
    old = None
    if contact_id:
        old = batch.get(CONTACTS, contact_id)
        if old is None:
            raise Invalid(f"Contact with ContactID {contact_id} could not be found.")
        entity = {**old.entity, "UpdatedDateUTC": json_timestamp(stamp)}
    else:
        contact_id = batch.tenant.new_id()
        entity = new_entity(contact_id, stamp)
    _apply(entity, element)
    _validate(batch, entity)
    if entity["ContactStatus"] == "ACTIVE":
        batch.claimed_names[" ".join(entity["Name"].split()).casefold()] = contact_id
    return batch.add(Change(CONTACTS, Row(contact_id, entity, stamp), old, "UPDATE" if old else "CREATE"))


def resolve_for_document(batch: Batch, given: Any, now: float) -> Row:
    """The contact an invoice names: by ContactID, ContactNumber or Name; an unknown Name creates one."""
    if not isinstance(given, dict):
        raise Invalid("A Contact must be specified for this type of transaction")
    if given.get("ContactID"):
        row = batch.get(CONTACTS, str(given["ContactID"]))
        if row is None:
            raise Invalid(f"Contact with ContactID {given['ContactID']} could not be found.")
        return row
    if given.get("ContactNumber"):
        for row in batch.tenant.table(CONTACTS).in_creation_order():
            if row.entity.get("ContactNumber") == given["ContactNumber"]:
                return row
    name = given.get("Name")
    if isinstance(name, str) and name.strip():
        holder = batch.contact_named(name)
        if holder is not None:
            found = batch.get(CONTACTS, holder)
            if found is not None:
                return found
        return prepare(batch, given, now)
    raise Invalid("A Contact must be specified for this type of transaction")


def mark_customer(batch: Batch, row: Row) -> None:
    """Xero sets IsCustomer once a sales invoice exists, without moving UpdatedDateUTC."""
    if not row.entity.get("IsCustomer"):
        entity = {**row.entity, "IsCustomer": True}
        batch.add(Change(CONTACTS, Row(row.id, entity, row.updated_ms), row, None))
