"""Deterministic CRM data of a professional-services firm's prospects and clients: accounts (companies) with
their contacts, opportunities on them, and leads not yet converted. Stamps are spread over the 90 days
before the anchor in creation order, so a seeded org is identical after every restart."""

from __future__ import annotations

import random
from datetime import date, timedelta

from connectors.sandbox.common.fake_parties import make_party
from connectors.sandbox.salesforce.schema import STAGES
from connectors.sandbox.salesforce.state import DAY, Org, SalesforceState

INDUSTRIES = ("Banking", "Construction", "Consulting", "Education", "Healthcare", "Retail", "Technology")
TYPES = ("Prospect", "Customer - Direct", "Customer - Channel", "Other")
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")
LEAD_STATUSES = ("Open - Not Contacted", "Working - Contacted", "Closed - Not Converted")
TITLES = ("CFO", "Controller", "Owner", "Office Manager", "CEO", "Bookkeeper")
SERVICES = ("Tax return", "Bookkeeping", "Audit", "Advisory retainer", "Payroll setup", "Year-end close")
SPAN_DAYS = 90


def seed_org(
    state: SalesforceState,
    org: Org,
    *,
    accounts: int,
    contacts: int,
    leads: int,
    opportunities: int,
    seed: int,
    anchor: float,
) -> dict[str, int]:
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    total = max(accounts + contacts + leads + opportunities, 1)
    first = anchor - SPAN_DAYS * DAY
    index = 0

    def stamp() -> float:
        nonlocal index
        index += 1
        return min(anchor, first + SPAN_DAYS * DAY * (index - 1 + rng.random()) / total)

    account_ids: list[str] = []
    people: list[tuple[str, object]] = []
    for _ in range(accounts):
        party = make_party(rng, company_share=1.0)
        record = state.write(
            org,
            "Account",
            {
                "Name": party.display_name,
                "Type": rng.choice(TYPES),
                "Industry": rng.choice(INDUSTRIES),
                "Phone": party.phone,
                "Website": "https://www." + party.email.split("@")[1],
                "BillingStreet": party.address.line1,
                "BillingCity": party.address.city,
                "BillingState": party.address.state,
                "BillingPostalCode": party.address.postal_code,
                "BillingCountry": party.address.country,
                "AnnualRevenue": float(rng.randrange(200, 20_000) * 1000),
                "NumberOfEmployees": rng.randint(2, 400),
            },
            at=stamp(),
        )
        account_ids.append(record["Id"])
        people.append((record["Id"], party))
    for position in range(contacts):
        if not account_ids:
            break
        # The first contact of each account is the person its e-mail belongs to; others are colleagues.
        account_id, party = people[position % len(people)]
        if position >= len(people):
            party = make_party(rng, company_share=0.0)
        state.write(
            org,
            "Contact",
            {
                "AccountId": account_id,
                "FirstName": party.given_name,
                "LastName": party.family_name,
                "Email": party.email,
                "Phone": party.phone,
                "Title": rng.choice(TITLES),
            },
            at=stamp(),
        )
    for _ in range(leads):
        party = make_party(rng, company_share=0.8)
        state.write(
            org,
            "Lead",
            {
                "FirstName": party.given_name,
                "LastName": party.family_name,
                "Company": party.company_name or f"{party.family_name} (individual)",
                "Email": party.email,
                "Phone": party.phone,
                "Status": rng.choice(LEAD_STATUSES),
                "LeadSource": rng.choice(LEAD_SOURCES),
            },
            at=stamp(),
        )
    anchor_day = date.fromtimestamp(anchor)
    for _ in range(opportunities):
        if not account_ids:
            break
        stage = rng.choice(tuple(STAGES))
        state.write(
            org,
            "Opportunity",
            {
                "AccountId": rng.choice(account_ids),
                "Name": f"{rng.choice(SERVICES)} {anchor_day.year}",
                "StageName": stage,
                "Amount": float(rng.randrange(5, 200) * 250),
                "CloseDate": (anchor_day + timedelta(days=rng.randint(-60, 90))).isoformat(),
            },
            at=stamp(),
        )
    return {sobject: len(records) for sobject, records in org.records.items()}
