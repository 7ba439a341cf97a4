"""The standard objects the sandbox serves, with the fields firmsync reads and writes, their types and
required fields (Object Reference for the Salesforce Platform: Account, Contact, Lead, Opportunity), and
Salesforce's ids and datetimes."""

from datetime import UTC, datetime
from typing import Literal

FieldType = Literal["id", "string", "datetime", "date", "double", "int", "boolean", "reference"]

SYSTEM: dict[str, FieldType] = {
    "Id": "id",
    "IsDeleted": "boolean",
    "OwnerId": "reference",
    "CreatedDate": "datetime",
    "LastModifiedDate": "datetime",
    "SystemModstamp": "datetime",
}

OBJECTS: dict[str, dict[str, FieldType]] = {
    "Account": {
        **SYSTEM,
        "Name": "string",
        "Type": "string",
        "Industry": "string",
        "Phone": "string",
        "Website": "string",
        "BillingStreet": "string",
        "BillingCity": "string",
        "BillingState": "string",
        "BillingPostalCode": "string",
        "BillingCountry": "string",
        "AnnualRevenue": "double",
        "NumberOfEmployees": "int",
        "Description": "string",
    },
    "Contact": {
        **SYSTEM,
        "AccountId": "reference",
        "FirstName": "string",
        "LastName": "string",
        "Name": "string",
        "Email": "string",
        "Phone": "string",
        "Title": "string",
        "Firmsync_Id__c": "string",
    },
    "Lead": {
        **SYSTEM,
        "FirstName": "string",
        "LastName": "string",
        "Name": "string",
        "Company": "string",
        "Email": "string",
        "Phone": "string",
        "Status": "string",
        "LeadSource": "string",
        "IsConverted": "boolean",
        "Description": "string",
        "Firmsync_Id__c": "string",
    },
    "Opportunity": {
        **SYSTEM,
        "AccountId": "reference",
        "Name": "string",
        "StageName": "string",
        "Amount": "double",
        "CloseDate": "date",
        "Probability": "double",
        "IsClosed": "boolean",
        "IsWon": "boolean",
    },
}
KEY_PREFIXES = {"Account": "001", "Contact": "003", "Lead": "00Q", "Opportunity": "006", "User": "005"}
REQUIRED = {
    "Account": ("Name",),
    "Contact": ("LastName",),
    "Lead": ("LastName", "Company"),
    "Opportunity": ("Name", "StageName", "CloseDate"),
}
# Custom fields marked "External ID" (an org admin's choice): what upserts may match on.
EXTERNAL_ID_FIELDS = {"Contact": ("Firmsync_Id__c",), "Lead": ("Firmsync_Id__c",)}
# Compound and system fields no client may write.
READ_ONLY = {"Id", "IsDeleted", "CreatedDate", "LastModifiedDate", "SystemModstamp", "Name_compound"}
COMPOUND_NAME = {"Contact", "Lead"}
STAGES = {  # StageName → (Probability, IsClosed, IsWon), the default sales process
    "Prospecting": (10, False, False),
    "Qualification": (10, False, False),
    "Needs Analysis": (20, False, False),
    "Proposal/Price Quote": (75, False, False),
    "Negotiation/Review": (90, False, False),
    "Closed Won": (100, True, True),
    "Closed Lost": (0, True, False),
}

_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def with_checksum(id15: str) -> str:
    """The 18-character, case-insensitive-safe form: one letter per 5 characters encoding their capitals."""
    suffix = ""
    for chunk in (id15[0:5], id15[5:10], id15[10:15]):
        bits = sum(1 << i for i, c in enumerate(chunk) if "A" <= c <= "Z")
        suffix += _CHECKSUM[bits]
    return id15 + suffix


def record_id(prefix: str, pod: str, serial: int) -> str:
    """`prefix` (the object's key prefix) + 2-character pod + 10-character base-62 serial, checksummed."""
    digits = ""
    for _ in range(10):
        serial, rest = divmod(serial, 62)
        digits = _BASE62[rest] + digits
    return with_checksum(f"{prefix}{pod[:2]}{digits}")


def sf_datetime(epoch: float) -> str:
    """Salesforce's JSON dateTime: `2026-11-01T16:00:00.000+0000` (always UTC, milliseconds)."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def parse_datetime(text: str) -> datetime:
    """ISO-8601 with `Z`, `+hh:mm` or Salesforce's `+hhmm` offset."""
    value = text.strip().replace("Z", "+00:00")
    if len(value) > 5 and value[-5] in "+-" and value[-3] != ":":
        value = value[:-2] + ":" + value[-2:]
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError("a dateTime needs a time zone")
    return moment.astimezone(UTC)
