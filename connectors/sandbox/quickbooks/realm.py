"""A QuickBooks company (realm): its objects, its limits, and the writes QBO allows on them.

Every write goes through ``create`` / ``update`` / ``delete`` / ``void`` here, whoever makes it (the API
or the admin API acting as a QuickBooks user), so SyncToken, MetaData, payment application and the
data-change events webhooks deliver are the same for all of them.
"""

import itertools
import random
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from connectors.sandbox.common.fake_parties import make_party
from connectors.sandbox.quickbooks import errors
from connectors.sandbox.quickbooks.catalog import (
    STANDARD_ACCOUNTS,
    STANDARD_ITEMS,
    TAX_CODES,
    AccountRules,
    ItemRules,
)
from connectors.sandbox.quickbooks.customers import CustomerRules, new_entity
from connectors.sandbox.quickbooks.entities import SPECS
from connectors.sandbox.quickbooks.name_lists import DELETED_SUFFIX, rename_for_activity
from connectors.sandbox.quickbooks.payments import PaymentRules, links
from connectors.sandbox.quickbooks.sales_forms import CreditMemoRules, InvoiceRules, SalesFormRules
from connectors.sandbox.quickbooks.table import (
    EntityId,
    EntityRow,
    EntityTable,
    IdSequence,
    Tombstone,
    name_key,
)
from connectors.sandbox.quickbooks.timefmt import format_timestamp

SEED_HISTORY_SECONDS = 730 * 86_400  # seeded customers were created over the two years before the anchor
REQUEST_ID_MEMORY = 10_000
FIRST_DOC_NUMBER = 1001
# Who saved an object last, as a Stale Object Error names them: the person who connected the app for API
# writes, and the bookkeeper working in QuickBooks for admin-API edits unless the call names someone.
API_USER = "Sandbox Admin"
QUICKBOOKS_USER = "Accountant"
NOTES = (
    "Prefers invoices by email.",
    "Fiscal year ends June 30.",
    "Quarterly bookkeeping engagement.",
    "Net 30. Send statements monthly.",
    "Payroll client since onboarding.",
    "Referred by an existing client.",
    "Annual tax return and 1099 prep.",
    "Contact the office manager for approvals.",
)
ChangeListener = Callable[[str, str, str, str, int], None]
"""(realm_id, entity, id, operation, epoch seconds): one data-change event, as webhooks report them."""


class Rules(Protocol):
    entity: str

    def create(self, realm: "Realm", entity_id: int, body: dict[str, Any], now: float) -> dict[str, Any]: ...

    def update(
        self, realm: "Realm", current: EntityRow, body: dict[str, Any], sparse: bool
    ) -> dict[str, Any]: ...


RULES: dict[str, Rules] = {
    rules.entity: rules
    for rules in (
        CustomerRules(),
        ItemRules(),
        AccountRules(),
        InvoiceRules(),
        CreditMemoRules(),
        PaymentRules(),
    )
}
SALES_FORMS: dict[str, SalesFormRules] = {"Invoice": InvoiceRules(), "CreditMemo": CreditMemoRules()}
PAYMENT_RULES = PaymentRules()


@dataclass
class RealmLimits:
    requests_per_minute: int
    access_token_ttl_seconds: int
    concurrent_requests: int = 10
    response_delay_ms: int = 0


class Realm:
    def __init__(self, realm_id: str, zone: ZoneInfo, limits: RealmLimits) -> None:
        self.realm_id = realm_id
        self.zone = zone
        self.limits = limits
        self.on_change: ChangeListener | None = None
        self.minor_versions: Counter[str] = Counter()
        txn_ids = IdSequence()  # Invoice, Payment and CreditMemo share one Id sequence
        self.customers = EntityTable("Customer", unique_name=lambda e: e["DisplayName"])
        self.items = EntityTable("Item", unique_name=lambda e: e["FullyQualifiedName"])
        self.accounts = EntityTable("Account", unique_name=lambda e: e["FullyQualifiedName"])
        self.tax_codes = EntityTable("TaxCode")
        self.invoices = EntityTable("Invoice", txn_ids)
        self.payments = EntityTable("Payment", txn_ids)
        self.credit_memos = EntityTable("CreditMemo", txn_ids)
        self.tables = {
            table.name: table
            for table in (
                self.customers,
                self.items,
                self.accounts,
                self.tax_codes,
                self.invoices,
                self.payments,
                self.credit_memos,
            )
        }
        # (TxnType, TxnId) -> {payment Id: amount}: what each payment applies to each invoice / credit memo.
        self._applied: dict[tuple[str, EntityId], dict[EntityId, float]] = {}
        self._editors: dict[tuple[str, EntityId], str] = {}
        self._doc_numbers = IdSequence()
        self._doc_numbers.last = FIRST_DOC_NUMBER - 1
        self._address_ids = itertools.count(1)
        # QBO's requestid makes writes idempotent: a repeated id gets the first answer back.
        self._responses: OrderedDict[str, tuple[int, bytes]] = OrderedDict()

    def table(self, entity: str) -> EntityTable:
        return self.tables[entity]

    # -- idempotent writes -------------------------------------------------------------------------

    def recall_response(self, request_id: str) -> tuple[int, bytes] | None:
        return self._responses.get(request_id)

    def remember_response(self, request_id: str, status: int, body: bytes) -> None:
        self._responses[request_id] = (status, body)
        if len(self._responses) > REQUEST_ID_MEMORY:
            self._responses.popitem(last=False)

    # -- numbering and lookups the rules use -----------------------------------------------------------

    def next_address_id(self) -> str:
        return str(next(self._address_ids))

    def next_doc_number(self) -> str:
        """Sales forms share one numbering sequence, as with QBO's automatic transaction numbers."""
        return str(self._doc_numbers.next())

    def applied_to(self, entity: str, entity_id: EntityId) -> float:
        return round(sum(self._applied.get((entity, entity_id), {}).values()), 2)

    def editor_of(self, entity: str, entity_id: EntityId) -> str:
        return self._editors.get((entity, entity_id), QUICKBOOKS_USER)

    def _metadata(self, created: int, updated: int) -> dict[str, str]:
        return {
            "CreateTime": format_timestamp(created, self.zone),
            "LastUpdatedTime": format_timestamp(updated, self.zone),
        }

    # -- writes ------------------------------------------------------------------------------------

    def current(self, entity: str, raw_id: Any) -> EntityRow:
        """The object an update, void or delete names, or the fault QBO answers when it is gone."""
        table = self.table(entity)
        text = "" if raw_id is None else str(raw_id).strip()
        row = table.lookup(text) if text else None
        if row is None:
            if text.isdigit() and int(text) in table.tombstones:
                raise errors.deleted_transaction()
            raise errors.object_not_found(entity, text)
        return row

    def _checked(self, entity: str, body: dict[str, Any]) -> EntityRow:
        current = self.current(entity, body.get("Id"))
        if body.get("SyncToken") in (None, ""):
            raise errors.required_param_missing("SyncToken")
        if str(body["SyncToken"]) != current.entity["SyncToken"]:
            raise errors.stale_object(entity, self.editor_of(entity, current.id))
        return current

    def create(self, entity: str, body: dict[str, Any], now: float, editor: str = API_USER) -> EntityRow:
        entity_id = self.table(entity).allocate_id()
        row = self.store(
            entity, None, RULES[entity].create(self, entity_id, body, now), now, editor, "Create"
        )
        if entity == "Payment":
            self._payment_changed(None, row, now, editor)
        return row

    def update(self, entity: str, body: dict[str, Any], now: float, editor: str = API_USER) -> EntityRow:
        current = self._checked(entity, body)
        revised = RULES[entity].update(self, current, body, body.get("sparse") is True)
        row = self.store(entity, current, revised, now, editor, "Update")
        if entity == "Payment":
            self._payment_changed(current, row, now, editor)
        return row

    def void(self, entity: str, body: dict[str, Any], now: float, editor: str = API_USER) -> EntityRow:
        current = self._checked(entity, body)
        if entity == "Payment":
            row = self.store(entity, current, PAYMENT_RULES.voided(current.entity), now, editor, "Void")
            self._payment_changed(current, row, now, editor)
            return row
        self._unapply(entity, current.id, now, editor)
        return self.store(entity, current, SALES_FORMS[entity].voided(current.entity), now, editor, "Void")

    def delete(self, entity: str, body: dict[str, Any], now: float, editor: str = API_USER) -> Tombstone:
        if not SPECS[entity].deletable:
            raise errors.unsupported_operation(
                f"Operation Delete is not supported for {entity}; set Active to false"
            )
        current = self._checked(entity, body)
        if entity == "Payment":
            self._payment_changed(current, None, now, editor)
        else:
            self._unapply(entity, current.id, now, editor)
        tombstone = self.table(entity).remove(current.id, int(now))
        self._editors.pop((entity, current.id), None)
        self._emit(entity, current.id, "Delete", tombstone.updated)
        return tombstone

    def store(
        self,
        entity: str,
        current: EntityRow | None,
        fields: dict[str, Any],
        now: float,
        editor: str,
        operation: str,
    ) -> EntityRow:
        """Save a new revision: SyncToken + 1, LastUpdatedTime now (whole seconds, never going back)."""
        stamp = max(int(now), current.updated) if current else int(now)
        created = current.created if current else stamp
        token = str(int(current.entity["SyncToken"]) + 1) if current else "0"
        body = {"Id": fields["Id"], "SyncToken": token}
        body.update((k, v) for k, v in fields.items() if k not in ("Id", "SyncToken", "MetaData"))
        body["MetaData"] = self._metadata(created, stamp)
        row = EntityRow(current.id if current else _entity_id(fields["Id"]), body, created, stamp)
        self.table(entity).put(row)
        self._editors[(entity, row.id)] = editor
        self._emit(entity, row.id, operation, stamp)
        return row

    def _emit(self, entity: str, entity_id: EntityId, operation: str, stamp: int) -> None:
        if self.on_change is not None:
            self.on_change(self.realm_id, entity, str(entity_id), operation, stamp)

    # -- payments applied to invoices and credit memos ------------------------------------------------

    def _payment_changed(
        self,
        before: EntityRow | None,
        after: EntityRow | None,
        now: float,
        editor: str,
        skip: tuple[str, EntityId] | None = None,
    ) -> None:
        """Move the payment's applications and revise every invoice or credit memo whose balance moved."""
        payment_id = (after or before).id  # type: ignore[union-attr]
        old = {(kind, txn_id): amount for kind, txn_id, amount in links(before.entity if before else None)}
        new = {(kind, txn_id): amount for kind, txn_id, amount in links(after.entity if after else None)}
        for key in old.keys() | new.keys():
            applied = self._applied.setdefault(key, {})
            if key in new:
                applied[payment_id] = new[key]
            else:
                applied.pop(payment_id, None)
            if not applied:
                del self._applied[key]
            if key == skip or old.get(key) == new.get(key):
                continue
            target = self.table(key[0]).get(key[1])
            if target is not None:
                self._revise_balance(key[0], target, now, editor)

    def _revise_balance(self, entity: str, target: EntityRow, now: float, editor: str) -> None:
        applications = self._applied.get((entity, target.id), {})
        linked = [{"TxnId": str(pid), "TxnType": "Payment"} for pid in sorted(applications, key=str)]
        revised = SALES_FORMS[entity].with_applications(
            target.entity, self.applied_to(entity, target.id), linked
        )
        self.store(entity, target, revised, now, editor, "Update")

    def _unapply(self, entity: str, entity_id: EntityId, now: float, editor: str) -> None:
        """Before an invoice or credit memo is voided or deleted, take it off every payment applied to it."""
        for payment_id in list(self._applied.get((entity, entity_id), {})):
            payment = self.payments.get(payment_id)
            if payment is None:
                continue
            kept = [
                line
                for line in payment.entity["Line"]
                if not any(
                    link["TxnType"] == entity and link["TxnId"] == str(entity_id)
                    for link in line["LinkedTxn"]
                )
            ]
            credited = sum(a for kind, _, a in links({"Line": kept}) if kind == "CreditMemo")
            invoiced = sum(a for kind, _, a in links({"Line": kept}) if kind == "Invoice")
            revised = {
                **payment.entity,
                "Line": kept,
                "UnappliedAmt": round(payment.entity["TotalAmt"] + credited - invoiced, 2),
            }
            row = self.store("Payment", payment, revised, now, editor, "Update")
            self._payment_changed(payment, row, now, editor, skip=(entity, entity_id))

    # -- admin edits, as a QuickBooks user would make them --------------------------------------------

    def edit(
        self, entity: str, entity_id: Any, changes: dict[str, Any], now: float, editor: str = QUICKBOOKS_USER
    ) -> EntityRow:
        """A sparse update made in QuickBooks itself: no SyncToken needed, the object's token moves on."""
        current = self.current(entity, entity_id)
        body = {
            **changes,
            "Id": current.entity["Id"],
            "SyncToken": current.entity["SyncToken"],
            "sparse": True,
        }
        return self.update(entity, body, now, editor)

    def token_body(self, entity: str, entity_id: Any) -> dict[str, str]:
        current = self.current(entity, entity_id)
        return {"Id": current.entity["Id"], "SyncToken": current.entity["SyncToken"]}

    # -- seeding and scripted changes (admin API) ----------------------------------------------------

    def seed_catalog(self, anchor: float) -> None:
        """The chart of accounts, items and tax codes a new company has, set up just before the history."""
        setup = anchor - SEED_HISTORY_SECONDS - 86_400
        for code, taxable in TAX_CODES:
            entity = {"Id": code, "Name": code, "Description": code, "Taxable": taxable, "TaxGroup": False}
            entity.update({"Hidden": False, "Active": True, "domain": "QBO", "sparse": False})
            self.store("TaxCode", None, entity, setup, QUICKBOOKS_USER, "Create")
        accounts: dict[str, dict[str, str]] = {}
        for minute, (name, account_type, sub_type, number) in enumerate(STANDARD_ACCOUNTS):
            body = {"Name": name, "AccountType": account_type, "AccountSubType": sub_type, "AcctNum": number}
            row = self.create("Account", body, setup + minute * 60, QUICKBOOKS_USER)
            accounts[name] = {"value": str(row.id)}
        for minute, spec in enumerate(STANDARD_ITEMS, start=len(STANDARD_ACCOUNTS)):
            body = {k: accounts[v] if k.endswith("AccountRef") else v for k, v in spec.items()}
            self.create("Item", body, setup + minute * 60, QUICKBOOKS_USER)

    def seed_customers(self, count: int, seed: int, anchor: float) -> list[EntityRow]:
        """Add ``count`` realistic customers: the same ones for the same seed, anchor and starting Id."""
        first_id = self.customers.last_id + 1
        rng = random.Random(f"qbo:{seed}:{first_id}")  # noqa: S311 - fake data, not secrets
        rows: list[EntityRow] = []
        taken: set[str] = set()
        for _ in range(count):
            party = make_party(rng)
            display = party.display_name
            for attempt in itertools.count(2):
                key = name_key(display)
                if key not in taken and self.customers.id_for_name(display) is None:
                    break
                display = (
                    f"{party.display_name} ({party.address.city})"
                    if attempt == 2
                    else (f"{party.display_name} ({attempt - 1})")
                )
            taken.add(name_key(display))
            created = int(anchor - rng.uniform(0, SEED_HISTORY_SECONDS))
            edited = rng.random() < 0.6
            updated = created + int((anchor - created) * rng.random() ** 2) if edited else created
            balance = 0 if rng.random() < 0.45 else round(rng.uniform(50, 25_000), 2)
            fields: dict[str, Any] = {
                "DisplayName": display,
                "GivenName": party.given_name,
                "FamilyName": party.family_name,
                "PrimaryEmailAddr": {"Address": party.email},
                "PrimaryPhone": {"FreeFormNumber": party.phone},
                "BillAddr": {
                    "Line1": party.address.line1,
                    "City": party.address.city,
                    "CountrySubDivisionCode": party.address.state,
                    "PostalCode": party.address.postal_code,
                    "Country": party.address.country,
                },
                "Active": rng.random() >= 0.08,
                "Taxable": rng.random() < 0.3,
                "PreferredDeliveryMethod": "Email" if rng.random() < 0.6 else "Print",
            }
            if party.company_name:
                fields["CompanyName"] = party.company_name
            if rng.random() < 0.25:
                fields["Notes"] = rng.choice(NOTES)
            customer_id = self.customers.allocate_id()
            entity = new_entity(customer_id, fields, balance, self.next_address_id)
            if not entity["Active"]:
                entity["DisplayName"] = entity["FullyQualifiedName"] = display + DELETED_SUFFIX
            entity["SyncToken"] = str(rng.randint(1, 6) if edited else 0)
            entity["MetaData"] = self._metadata(created, updated)
            rows.append(EntityRow(customer_id, entity, created, updated))
        self.customers.add_many(rows)
        for row in rows:
            self._emit("Customer", row.id, "Create", row.updated)
        return rows

    def touch_customers(self, count: int, deactivate: int, seed: int, now: float) -> dict[str, list[str]]:
        """Edit ``count`` active customers and deactivate ``deactivate`` others, as a bookkeeper would."""
        rng = random.Random(f"touch:{self.realm_id}:{seed}")  # noqa: S311 - fake data, not secrets
        active = [row for row in self.customers.in_id_order() if row.active]
        chosen = rng.sample(active, min(len(active), count + deactivate))
        touched, deactivated = chosen[:count], chosen[count:]
        reviewed = format_timestamp(int(now), self.zone)[:10]
        for row in touched:
            area_code = row.entity.get("PrimaryPhone", {}).get("FreeFormNumber", "(415) ")[:6]
            entity = {
                **row.entity,
                "Notes": f"{rng.choice(NOTES)} Reviewed {reviewed}.",
                "PrimaryPhone": {"FreeFormNumber": f"{area_code}555-01{rng.randint(0, 99):02d}"},
            }
            self.store("Customer", row, entity, now, QUICKBOOKS_USER, "Update")
        for row in deactivated:
            entity = {**row.entity, "Active": False}
            rename_for_activity(self.customers, entity, "DisplayName", True, row.id)
            self.store("Customer", row, entity, now, QUICKBOOKS_USER, "Update")
        return {"touched": [str(r.id) for r in touched], "deactivated": [str(r.id) for r in deactivated]}


def _entity_id(raw: str) -> EntityId:
    return int(raw) if raw.isdigit() else raw
