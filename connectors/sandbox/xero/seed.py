"""Seeded organisations: a realistic book for a professional-services firm, the same for the same seed.

A tenant gets the default chart of accounts, service items, contacts (from the shared fake-party
generator), and two years of sales invoices before an anchor instant, written through the same rules
as the API (so totals, payments, statuses and ``UpdatedDateUTC`` agree): most are AUTHORISED, some
DRAFT, a few VOIDED; over half are paid (some partly), a few have credit notes allocated.

The demo organisation's first contacts are the QuickBooks demo company's first active customers
(same generator and ``qbo_demo_seed``; names, e-mails, phones and addresses identical), so the demo firm
finds the same clients in both vendors.
"""

import itertools
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from connectors.sandbox.common.fake_parties import make_party
from connectors.sandbox.settings import SandboxSettings
from connectors.sandbox.xero import catalog, contacts, credit_notes, invoices, payments
from connectors.sandbox.xero.documents import build_lines
from connectors.sandbox.xero.store import Row
from connectors.sandbox.xero.tenant import (
    CONTACTS,
    CREDIT_NOTES,
    INVOICES,
    ITEMS,
    Batch,
    Change,
    Tenant,
    name_key,
)
from connectors.sandbox.xero.timefmt import ms

HISTORY_SECONDS = 730 * 86_400
SERVICES = (
    ("BK-MONTHLY", "Monthly bookkeeping", "450.00"),
    ("BK-CATCHUP", "Catch-up bookkeeping (per month)", "300.00"),
    ("PAYROLL", "Payroll processing (per run)", "85.00"),
    ("TAX-1040", "Individual tax return (Form 1040)", "650.00"),
    ("TAX-1120S", "S corporation tax return (Form 1120-S)", "1800.00"),
    ("TAX-1065", "Partnership tax return (Form 1065)", "1650.00"),
    ("1099-PREP", "1099 preparation (per form)", "45.00"),
    ("SALES-TAX", "Sales tax filing", "175.00"),
    ("ADVISORY", "Advisory (per hour)", "225.00"),
    ("CFO", "Fractional CFO (per month)", "2500.00"),
    ("REVIEW", "Quarterly financial review", "900.00"),
    ("FORMATION", "Entity formation", "750.00"),
)
MEMOS = ("Monthly services", "Q1 services", "Q2 services", "Q3 services", "Q4 services", "Year-end", "")


@dataclass(frozen=True)
class SharedParty:
    """A client as the QuickBooks demo company holds it, to be a Xero contact too."""

    name: str
    first_name: str
    last_name: str
    email: str
    phone: str
    address: dict[str, str]


@dataclass(frozen=True)
class BookSpec:
    contacts: int = 0
    items: int = 0
    invoices: int = 0
    credit_notes: int = 0
    seed: int = 0
    anchor: float = 0.0


def qbo_demo_parties(settings: SandboxSettings, count: int) -> list[SharedParty]:
    """The first ``count`` active customers of the QuickBooks demo company, exactly as it seeds them."""
    if count <= 0 or settings.qbo_demo_customers <= 0:
        return []
    # Imported here: only the demo needs it, and it keeps the Xero emulator's own modules independent.
    from connectors.sandbox.quickbooks.realm import Realm, RealmLimits

    realm = Realm("xero-overlap", ZoneInfo(settings.qbo_timezone), RealmLimits(1, 1))
    rows = realm.seed_customers(
        settings.qbo_demo_customers, settings.qbo_demo_seed, settings.qbo_demo_anchor.timestamp()
    )
    parties = []
    for row in rows:
        customer = row.entity
        if not customer.get("Active", True):
            continue
        bill = customer.get("BillAddr", {})
        parties.append(
            SharedParty(
                name=customer["DisplayName"],
                first_name=customer.get("GivenName", ""),
                last_name=customer.get("FamilyName", ""),
                email=customer.get("PrimaryEmailAddr", {}).get("Address", ""),
                phone=customer.get("PrimaryPhone", {}).get("FreeFormNumber", ""),
                address={
                    "AddressLine1": bill.get("Line1", ""),
                    "City": bill.get("City", ""),
                    "Region": bill.get("CountrySubDivisionCode", ""),
                    "PostalCode": bill.get("PostalCode", ""),
                    "Country": bill.get("Country", ""),
                },
            )
        )
        if len(parties) == count:
            break
    return parties


def _generated_parties(rng: random.Random) -> Iterator[SharedParty]:
    while True:
        party = make_party(rng)
        a = party.address
        yield SharedParty(
            party.display_name,
            party.given_name,
            party.family_name,
            party.email,
            party.phone,
            {
                "AddressLine1": a.line1,
                "City": a.city,
                "Region": a.state,
                "PostalCode": a.postal_code,
                "Country": a.country,
            },
        )


def _phone(free_form: str) -> dict[str, str]:
    # "(415) 555-0123" -> area code and number, as Xero keeps them apart.
    area, _, number = free_form.partition(") ")
    if not number:
        return {"PhoneType": "DEFAULT", "PhoneNumber": free_form, "PhoneAreaCode": "", "PhoneCountryCode": ""}
    return {
        "PhoneType": "DEFAULT",
        "PhoneNumber": number,
        "PhoneAreaCode": area.lstrip("("),
        "PhoneCountryCode": "1",
    }


def add_contacts(
    tenant: Tenant,
    parties: list[SharedParty] | Iterator[SharedParty],
    count: int,
    rng: random.Random,
    low: float,
    high: float,
    announce: bool,
    stamps: Iterator[int] | None = None,
) -> list[Row]:
    """``count`` contacts from ``parties``, names made unique, created (and maybe edited) in [low, high];
    ``stamps`` overrides their UpdatedDateUTC (contacts written now, one after the other)."""
    rows, taken = [], set(tenant.contact_names)
    for party in itertools.islice(parties, count):
        name = party.name
        for attempt in itertools.count(2):
            if name_key(name) not in taken:
                break
            name = (
                f"{party.name} ({party.address['City']})" if attempt == 2 else f"{party.name} ({attempt - 1})"
            )
        taken.add(name_key(name))
        created = rng.uniform(low, high)
        updated = created + (high - created) * rng.random() ** 2 if rng.random() < 0.5 else created
        stamp = next(stamps) if stamps is not None else ms(updated)
        contact_id = tenant.new_id()
        entity = contacts.new_entity(contact_id, stamp)
        entity.update(
            Name=name, FirstName=party.first_name, LastName=party.last_name, EmailAddress=party.email
        )
        entity["Addresses"] = [{"AddressType": "STREET", **party.address}, contacts.blank_addresses()[1]]
        entity["Phones"] = [_phone(party.phone), *contacts.blank_phones()[1:]]
        if rng.random() < 0.5:
            entity["AccountNumber"] = f"C{rng.randint(10000, 99999)}"
        if rng.random() < 0.04:
            entity["ContactStatus"] = "ARCHIVED"
        rows.append(Row(contact_id, entity, stamp))
    tenant.save_new(CONTACTS, rows, announce=announce)
    return rows


def add_items(tenant: Tenant, count: int, updated: float) -> None:
    rows = []
    for n, (code, name, price) in enumerate(SERVICES[:count]):
        item_id = tenant.new_id()
        stamp = ms(updated) + n
        rows.append(Row(item_id, catalog.item_entity(item_id, code, name, Decimal(price), stamp), stamp))
    catalog.add_items(tenant, rows)


def _day(epoch: float) -> date:
    return datetime.fromtimestamp(epoch, UTC).date()


def _invoice_element(
    tenant: Tenant, rng: random.Random, contact: Row, on: date, status: str
) -> dict[str, Any]:
    items = list(tenant.table(ITEMS).in_creation_order())
    lines = []
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        if items:
            item = rng.choice(items)
            hourly = "hour" in item.entity["Name"]
            lines.append({"ItemCode": item.entity["Code"], "Quantity": rng.randint(1, 12) if hourly else 1})
        else:
            lines.append(
                {
                    "Description": "Professional services",
                    "Quantity": 1,
                    "UnitAmount": rng.randint(100, 2000),
                    "AccountCode": "210",
                }
            )
    return {
        "Type": "ACCREC",
        "Contact": {"ContactID": contact.id},
        "Date": on.isoformat(),
        "DueDate": (on + timedelta(days=30)).isoformat(),
        "Reference": rng.choice(MEMOS),
        "LineItems": lines,
        "Status": status,
    }


def _write(tenant: Tenant, now: float, action: Callable[[Batch, float], Any]) -> Any:
    """One write, through the same rules as the API, at ``now`` (the past, while seeding)."""
    batch = Batch(tenant)
    result = action(batch, now)
    batch.save()
    return result


def _pay(tenant: Tenant, invoice_id: str, amount: Decimal, on: date, now: float) -> None:
    element = {
        "Invoice": {"InvoiceID": invoice_id},
        "Account": {"Code": catalog.BANK_ACCOUNT},
        "Date": on.isoformat(),
        "Amount": amount,
    }
    _write(tenant, now, lambda batch, t: payments.prepare(batch, element, t))


def _credit(tenant: Tenant, rng: random.Random, invoice_id: str, now: float) -> None:
    def action(batch: Batch, t: float) -> None:
        invoice = batch.get(INVOICES, invoice_id)
        assert invoice is not None
        due = invoice.entity["AmountDue"]
        amount = (due * Decimal(rng.choice(("0.1", "0.25", "0.5", "1")))).quantize(Decimal("0.01"))
        if amount <= 0:
            return
        totals = build_lines(
            tenant,
            [
                {
                    "Description": "Fee adjustment",
                    "UnitAmount": amount,
                    "AccountCode": "210",
                    "TaxType": "NONE",
                }
            ],
            "Exclusive",
            [],
        )
        note_id = tenant.new_id()
        contact = batch.get(CONTACTS, invoice.entity["Contact"]["ContactID"])
        assert contact is not None
        stamp = tenant.stamp(t)
        entity = credit_notes.new_entity(
            note_id, tenant.next_number("CN"), contact.entity, _day(t), totals, stamp
        )
        note = batch.add(Change(CREDIT_NOTES, Row(note_id, entity, stamp), None, "CREATE"))
        credit_notes.allocate_to_invoice(batch, note, invoice, amount, _day(t), t)

    _write(tenant, now, action)


def seed_book(tenant: Tenant, spec: BookSpec, shared: Sequence[SharedParty] = ()) -> None:
    """Fill a new organisation. Deterministic for the same spec (ids included)."""
    rng = random.Random(f"xero:{spec.seed}")  # noqa: S311 - fake data, not secrets
    tenant.id_source = random.Random(f"xero-ids:{spec.seed}:{tenant.tenant_id}")  # noqa: S311
    tenant.quiet = True
    try:
        start = spec.anchor - HISTORY_SECONDS
        catalog.seed_settings(tenant, ms(start - 86_400))
        add_items(tenant, spec.items, start - 3_600)
        parties = itertools.chain(shared, _generated_parties(rng))
        rows = add_contacts(
            tenant, parties, spec.contacts, rng, start, spec.anchor - 30 * 86_400, announce=False
        )
        active = [r for r in rows if r.entity["ContactStatus"] == "ACTIVE"] or rows
        _seed_invoices(tenant, rng, spec, active, start)
        tenant.last_ms = max(tenant.last_ms, max((r.updated_ms for r in rows), default=0))
    finally:
        tenant.id_source = None
        tenant.quiet = False


def _seed_invoices(
    tenant: Tenant, rng: random.Random, spec: BookSpec, active: list[Row], start: float
) -> None:
    if not active or spec.invoices <= 0:
        return
    # (when, order, what, argument): replayed in time order so every UpdatedDateUTC is when it happened.
    plan: list[tuple[float, int, str, Any]] = []
    # Credit notes go to invoices that stay AUTHORISED long enough: issued within two days, never voided.
    credited = set(rng.sample(range(spec.invoices), min(spec.credit_notes, spec.invoices)))
    for n in range(spec.invoices):
        created = rng.uniform(start, spec.anchor - 3 * 86_400)
        roll = rng.random()
        status = "DRAFT" if roll < 0.08 and n not in credited else "AUTHORISED"
        plan.append((created, n, "invoice", (rng.choice(active), status)))
        if status == "DRAFT":
            continue
        if n in credited:
            plan.append((created + rng.uniform(0.5, 2) * 86_400, n, "credit", None))
        later = created + rng.uniform(3, 75) * 86_400
        if roll < 0.13 and n not in credited:
            plan.append((created + rng.uniform(1, 20) * 86_400, n, "void", None))
        elif 0.13 <= roll < 0.70:
            plan.append((later, n, "pay", Decimal("1")))
        elif 0.70 <= roll < 0.80:
            plan.append((later, n, "pay", Decimal("0.5")))
    ids: dict[int, str] = {}
    for when, n, what, argument in sorted(
        (p for p in plan if p[0] < spec.anchor), key=lambda p: (p[0], p[1])
    ):
        if what == "invoice":
            contact, status = argument
            element = _invoice_element(tenant, rng, contact, _day(when), status)
            ids[n] = _write(tenant, when, lambda b, t, e=element: invoices.prepare(b, e, t)).id
            continue
        row = tenant.table(INVOICES).get(ids[n]) if n in ids else None
        if row is None or row.entity["Status"] != "AUTHORISED":
            continue
        if what == "void" and row.entity["AmountPaid"] == 0 and row.entity["AmountCredited"] == 0:
            _write(tenant, when, lambda b, t, i=ids[n]: invoices.prepare(b, {"Status": "VOIDED"}, t, i))
        elif what == "pay":
            amount = (row.entity["AmountDue"] * argument).quantize(Decimal("0.01"))
            if amount > 0:
                _pay(tenant, ids[n], amount, _day(when), when)
        elif what == "credit":
            _credit(tenant, rng, ids[n], when)


def seed_demo(tenant: Tenant, settings: SandboxSettings) -> None:
    shared = qbo_demo_parties(settings, min(settings.xero_demo_shared_contacts, settings.xero_demo_contacts))
    spec = BookSpec(
        contacts=settings.xero_demo_contacts,
        items=settings.xero_demo_items,
        invoices=settings.xero_demo_invoices,
        credit_notes=settings.xero_demo_credit_notes,
        seed=settings.xero_demo_seed,
        anchor=settings.xero_demo_anchor.timestamp(),
    )
    seed_book(tenant, spec, shared)


# -- admin: bulk data and scripted edits ------------------------------------------------------------


def bulk_contacts(tenant: Tenant, count: int, seed: int, now: float) -> list[Row]:
    """Add ``count`` contacts written now (each its own UpdatedDateUTC, in order), announced as CREATEs."""
    rng = random.Random(f"xero-bulk:{seed}:{len(tenant.table(CONTACTS))}")  # noqa: S311
    stamps = iter(lambda: tenant.stamp(now), None)
    return add_contacts(tenant, _generated_parties(rng), count, rng, now, now, announce=True, stamps=stamps)


def bulk_invoices(tenant: Tenant, count: int, seed: int, now: float, paid_share: float) -> list[str]:
    rng = random.Random(f"xero-bulk-invoices:{seed}:{len(tenant.table(INVOICES))}")  # noqa: S311
    active = [r for r in tenant.table(CONTACTS).in_creation_order() if r.entity["ContactStatus"] == "ACTIVE"]
    if not active:
        raise ValueError("the organisation has no active contacts to invoice")
    ids = []
    for _ in range(count):
        element = _invoice_element(tenant, rng, rng.choice(active), _day(now), "AUTHORISED")
        invoice_id = _write(tenant, now, lambda b, t, e=element: invoices.prepare(b, e, t)).id
        ids.append(invoice_id)
        if rng.random() < paid_share:
            row = tenant.table(INVOICES).get(invoice_id)
            assert row is not None
            _pay(tenant, invoice_id, row.entity["AmountDue"], _day(now), now)
    return ids


def touch(
    tenant: Tenant, n_contacts: int, n_invoices: int, seed: int, now: float, spread: float
) -> dict[str, list[str]]:
    """Edit ``n_contacts`` active contacts (phone) and ``n_invoices`` live invoices (reference), as a
    bookkeeper would; the edits are stamped evenly over the ``spread`` seconds before now (never before
    the organisation's last write) and announced like API writes."""
    rng = random.Random(f"xero-touch:{tenant.tenant_id}:{seed}")  # noqa: S311
    people = [
        r.id for r in tenant.table(CONTACTS).in_creation_order() if r.entity["ContactStatus"] == "ACTIVE"
    ]
    docs = [
        r.id
        for r in tenant.table(INVOICES).in_creation_order()
        if r.entity["Status"] not in ("VOIDED", "DELETED")
    ]
    chosen = [("contact", i) for i in rng.sample(people, min(n_contacts, len(people)))]
    chosen += [("invoice", i) for i in rng.sample(docs, min(n_invoices, len(docs)))]
    rng.shuffle(chosen)
    touched: dict[str, list[str]] = {"contacts": [], "invoices": []}
    for n, (kind, row_id) in enumerate(chosen):
        when = now - spread + spread * (n + 1) / len(chosen)
        if kind == "contact":
            phone = {
                "PhoneType": "MOBILE",
                "PhoneNumber": f"555-01{rng.randint(0, 99):02d}",
                "PhoneAreaCode": "415",
            }
            _write(tenant, when, lambda b, t, i=row_id, p=phone: contacts.prepare(b, {"Phones": [p]}, t, i))
            touched["contacts"].append(row_id)
        else:
            reference = f"Reviewed {_day(when).isoformat()} #{rng.randint(100, 999)}"
            _write(
                tenant, when, lambda b, t, i=row_id, r=reference: invoices.prepare(b, {"Reference": r}, t, i)
            )
            touched["invoices"].append(row_id)
    return touched
