"""One Xero organisation (a tenant): its tables, the indexes writes check, and how writes are saved.

Writes go through a ``Batch``: each element of a PUT/POST is validated against the organisation plus
the elements before it (their rows sit in an overlay), and the batch is saved only if every element
passed, as Xero rejects a whole request by default. Saving stamps nothing itself: the rows carry
their ``UpdatedDateUTC``, taken from ``Tenant.stamp`` (strictly increasing per organisation, so an
``If-Modified-Since`` resume never skips a row written in the same millisecond).
"""

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from connectors.sandbox.xero.store import RecordTable, Row
from connectors.sandbox.xero.timefmt import ms

CONTACTS, INVOICES, CREDIT_NOTES, PAYMENTS, ITEMS, ACCOUNTS = (
    "Contacts",
    "Invoices",
    "CreditNotes",
    "Payments",
    "Items",
    "Accounts",
)
# Xero sends webhooks for these categories only (none for payments, items or accounts).
EVENT_CATEGORIES = {CONTACTS: "CONTACT", INVOICES: "INVOICE", CREDIT_NOTES: "CREDITNOTE"}


def name_key(name: str) -> str:
    return " ".join(name.split()).casefold()


@dataclass
class TenantLimits:
    minute_limit: int
    day_limit: int
    concurrent_limit: int
    time_scale: float
    access_token_ttl_seconds: int
    latency_seconds: float = 0.0


@dataclass
class Change:
    table: str
    row: Row
    old: Row | None
    # CREATE / UPDATE for the webhook event; None for a change Xero does not announce
    event_type: str | None = None


@dataclass
class Event:
    category: str
    event_type: str
    resource: str  # the API collection, e.g. "Contacts"
    resource_id: str
    event_ms: int


@dataclass
class TaxRate:
    tax_type: str
    name: str
    rate: Decimal  # percent


class Tenant:
    def __init__(self, tenant_id: str, name: str, limits: TenantLimits, created_ms: int) -> None:
        self.tenant_id = tenant_id
        self.name = name
        self.limits = limits
        self.created_ms = created_ms
        self.tables = {
            name: RecordTable() for name in (CONTACTS, INVOICES, CREDIT_NOTES, PAYMENTS, ITEMS, ACCOUNTS)
        }
        self.contact_names: dict[str, str] = {}  # active contacts only, as Xero's uniqueness rule
        self.invoice_numbers: dict[str, str] = {}  # ACCREC numbers are unique
        self.credit_note_numbers: dict[str, str] = {}
        self.account_codes: dict[str, str] = {}
        self.item_codes: dict[str, str] = {}
        self.tax_rates: dict[str, TaxRate] = {}
        self.sequences = {"INV": 0, "CN": 0}
        self.last_ms = 0
        self.listeners: list[Callable[[Tenant, list[Event]], None]] = []
        # Seeding sets this so a seeded organisation gets the same ids on every start.
        self.id_source: random.Random | None = None
        self.quiet = False  # while seeding: writes announce no webhook events

    def new_id(self) -> str:
        if self.id_source is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self.id_source.getrandbits(128), version=4))

    def table(self, name: str) -> RecordTable:
        return self.tables[name]

    def stamp(self, now: float) -> int:
        self.last_ms = max(ms(now), self.last_ms + 1)
        return self.last_ms

    def next_number(self, prefix: str) -> str:
        taken = self.invoice_numbers if prefix == "INV" else self.credit_note_numbers
        while True:
            self.sequences[prefix] += 1
            number = f"{prefix}-{self.sequences[prefix]:04d}"
            if name_key(number) not in taken:
                return number

    def account_by_code(self, code: str) -> Row | None:
        account_id = self.account_codes.get(code)
        return self.tables[ACCOUNTS].get(account_id) if account_id else None

    def item_by_code(self, code: str) -> Row | None:
        item_id = self.item_codes.get(name_key(code))
        return self.tables[ITEMS].get(item_id) if item_id else None

    # -- saving ----------------------------------------------------------------------------------

    def _index(self, change: Change) -> None:
        row, old = change.row, change.old
        if change.table == CONTACTS:
            if old is not None and self.contact_names.get(name_key(old.entity["Name"])) == old.id:
                del self.contact_names[name_key(old.entity["Name"])]
            if row.entity["ContactStatus"] == "ACTIVE":
                self.contact_names[name_key(row.entity["Name"])] = row.id
        elif change.table == INVOICES and row.entity["Type"] == "ACCREC":
            if old is not None:
                self.invoice_numbers.pop(name_key(old.entity.get("InvoiceNumber", "")), None)
            self.invoice_numbers[name_key(row.entity["InvoiceNumber"])] = row.id
        elif change.table == CREDIT_NOTES:
            self.credit_note_numbers[name_key(row.entity["CreditNoteNumber"])] = row.id
        elif change.table == ACCOUNTS:
            self.account_codes[row.entity["Code"]] = row.id
        elif change.table == ITEMS:
            self.item_codes[name_key(row.entity["Code"])] = row.id

    def save(self, changes: list[Change]) -> None:
        for change in changes:
            self._index(change)
            self.tables[change.table].put(change.row)
        self._announce(changes)

    def save_new(self, table: str, rows: list[Row], announce: bool = True) -> None:
        """Bulk insert (seeding): one sort for the whole lot."""
        changes = [Change(table, row, None, "CREATE") for row in rows]
        for change in changes:
            self._index(change)
        self.tables[table].add_many(rows)
        if announce:
            self._announce(changes)

    def _announce(self, changes: list[Change]) -> None:
        if not self.listeners or self.quiet:
            return
        events = [
            Event(EVENT_CATEGORIES[c.table], c.event_type, c.table, c.row.id, c.row.updated_ms)
            for c in changes
            if c.event_type and c.table in EVENT_CATEGORIES
        ]
        if events:
            for listener in self.listeners:
                listener(self, events)


@dataclass
class Batch:
    """The elements of one write request, validated in order before any is saved."""

    tenant: Tenant
    changes: list[Change] = field(default_factory=list)
    overlay: dict[tuple[str, str], Row] = field(default_factory=dict)
    claimed_names: dict[str, str] = field(default_factory=dict)
    claimed_numbers: dict[str, str] = field(default_factory=dict)

    def get(self, table: str, row_id: str) -> Row | None:
        return self.overlay.get((table, row_id.lower())) or self.tenant.tables[table].get(row_id)

    def add(self, change: Change) -> Row:
        self.changes.append(change)
        self.overlay[(change.table, change.row.id)] = change.row
        return change.row

    def contact_named(self, name: str) -> str | None:
        key = name_key(name)
        return self.claimed_names.get(key) or self.tenant.contact_names.get(key)

    def invoice_numbered(self, number: str) -> str | None:
        key = name_key(number)
        return self.claimed_numbers.get(key) or self.tenant.invoice_numbers.get(key)

    def save(self) -> None:
        # One element may have been changed twice (an invoice paid twice): keep its last row, once.
        last: dict[tuple[str, str], Change] = {}
        for change in self.changes:
            key = (change.table, change.row.id)
            if key in last:
                first_old = last[key].old
                event = last[key].event_type if last[key].event_type == "CREATE" else change.event_type
                change = Change(change.table, change.row, first_old, event)
            last[key] = change
        self.tenant.save(list(last.values()))
