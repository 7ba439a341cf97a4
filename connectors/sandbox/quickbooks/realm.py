"""A QuickBooks company (realm): its customers, its limits, and the writes QBO allows on them."""

import itertools
import random
import re
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from connectors.sandbox.common.fake_parties import make_party
from connectors.sandbox.quickbooks import errors
from connectors.sandbox.quickbooks.customers import (
    CustomerRow,
    CustomerTable,
    name_key,
    new_entity,
    updated_entity,
    writable_fields,
)
from connectors.sandbox.quickbooks.timefmt import format_timestamp

DELETED_SUFFIX = " (deleted)"
DELETED_NAME = re.compile(r" \(deleted(-\d+)?\)$")
SEED_HISTORY_SECONDS = 730 * 86_400  # seeded customers were created over the two years before the anchor
REQUEST_ID_MEMORY = 10_000
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


@dataclass
class RealmLimits:
    requests_per_minute: int
    access_token_ttl_seconds: int


class Realm:
    def __init__(self, realm_id: str, zone: ZoneInfo, limits: RealmLimits) -> None:
        self.realm_id = realm_id
        self.zone = zone
        self.limits = limits
        self.customers = CustomerTable()
        self._address_ids = itertools.count(1)
        # QBO's requestid makes writes idempotent: a repeated id gets the first answer back.
        self._responses: OrderedDict[str, tuple[int, bytes]] = OrderedDict()

    # -- idempotent writes -------------------------------------------------------------------------

    def recall_response(self, request_id: str) -> tuple[int, bytes] | None:
        return self._responses.get(request_id)

    def remember_response(self, request_id: str, status: int, body: bytes) -> None:
        self._responses[request_id] = (status, body)
        if len(self._responses) > REQUEST_ID_MEMORY:
            self._responses.popitem(last=False)

    # -- customers ---------------------------------------------------------------------------------

    def next_address_id(self) -> str:
        return str(next(self._address_ids))

    def _metadata(self, created: int, updated: int) -> dict[str, str]:
        return {
            "CreateTime": format_timestamp(created, self.zone),
            "LastUpdatedTime": format_timestamp(updated, self.zone),
        }

    def _rename_for_activity(self, entity: dict[str, Any], was_active: bool, customer_id: int | None) -> None:
        """QBO renames a customer it deactivates to "Name (deleted)", freeing the name, and back again.

        (The Customer reference's deactivation example answers with "Amy's Bird Sanctuary (deleted)".)
        """
        name = entity["DisplayName"]
        if was_active and not entity["Active"] and not name.endswith(DELETED_SUFFIX):
            candidate = name + DELETED_SUFFIX
            for n in itertools.count(2):
                if self.customers.id_for_name(candidate) in (None, customer_id):
                    break
                candidate = f"{name} (deleted-{n})"
            entity["DisplayName"] = entity["FullyQualifiedName"] = candidate
        elif not was_active and entity["Active"]:
            entity["DisplayName"] = entity["FullyQualifiedName"] = DELETED_NAME.sub("", name)

    def _check_name_free(self, display_name: str, customer_id: int | None) -> None:
        holder = self.customers.id_for_name(display_name)
        if holder is not None and holder != customer_id:
            raise errors.duplicate_name(display_name)

    def create_customer(self, body: dict[str, Any], now: float) -> CustomerRow:
        fields = writable_fields(body)
        balance = body.get("Balance") if isinstance(body.get("Balance"), int | float) else 0
        customer_id = self.customers.allocate_id()
        entity = new_entity(customer_id, fields, balance, self.next_address_id)
        self._rename_for_activity(entity, True, None)
        self._check_name_free(entity["DisplayName"], None)
        stamp = int(now)
        entity["MetaData"] = self._metadata(stamp, stamp)
        row = CustomerRow(customer_id, entity, stamp, stamp)
        self.customers.put(row)
        return row

    def update_customer(self, body: dict[str, Any], now: float) -> CustomerRow:
        raw_id = str(body.get("Id", ""))
        current = self.customers.get(int(raw_id)) if raw_id.isdigit() else None
        if current is None:
            raise errors.object_not_found("Customer", raw_id)
        if body.get("SyncToken") in (None, ""):
            raise errors.required_param_missing("SyncToken")
        if str(body["SyncToken"]) != current.entity["SyncToken"]:
            raise errors.stale_object()
        fields = writable_fields(body)
        entity = updated_entity(current.entity, fields, body.get("sparse") is True, self.next_address_id)
        self._rename_for_activity(entity, current.active, current.id)
        self._check_name_free(entity["DisplayName"], current.id)
        return self._save_revision(current, entity, now)

    def _save_revision(self, current: CustomerRow, entity: dict[str, Any], now: float) -> CustomerRow:
        # Whole seconds, as MetaData shows them; never earlier than the previous revision.
        stamp = max(int(now), current.updated)
        entity["SyncToken"] = str(int(current.entity["SyncToken"]) + 1)
        entity["MetaData"] = self._metadata(current.created, stamp)
        row = CustomerRow(current.id, entity, current.created, stamp)
        self.customers.put(row)
        return row

    # -- seeding and scripted changes (admin API) ----------------------------------------------------

    def seed_customers(self, count: int, seed: int, anchor: float) -> list[CustomerRow]:
        """Add ``count`` realistic customers: the same ones for the same seed, anchor and starting Id."""
        first_id = self.customers.last_id + 1
        rng = random.Random(f"qbo:{seed}:{first_id}")  # noqa: S311 - fake data, not secrets
        rows: list[CustomerRow] = []
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
            rows.append(CustomerRow(customer_id, entity, created, updated))
        self.customers.add_many(rows)
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
            self._save_revision(row, entity, now)
        for row in deactivated:
            entity = {**row.entity, "Active": False}
            self._rename_for_activity(entity, True, row.id)
            self._save_revision(row, entity, now)
        return {"touched": [str(r.id) for r in touched], "deactivated": [str(r.id) for r in deactivated]}
