"""Deterministic, realistic clients of a professional-services firm: small businesses and individuals.

Every value comes from the ``random.Random`` passed in, so a seed reproduces the same book of
clients on every run. Phone numbers use the fictional 555-01xx range, e-mail domains are either the
clients' own made-up names or example.* domains.
"""

import random
import re
from dataclasses import dataclass

FIRST_NAMES = (
    "Amelia",
    "Aaron",
    "Beatriz",
    "Caleb",
    "Chloe",
    "Daniel",
    "Deepa",
    "Elena",
    "Ethan",
    "Fatima",
    "Gabriel",
    "Grace",
    "Hannah",
    "Hiroshi",
    "Isabel",
    "Jamal",
    "Julia",
    "Kevin",
    "Keiko",
    "Laura",
    "Liam",
    "Lucia",
    "Marcus",
    "Maya",
    "Mei",
    "Nadia",
    "Noah",
    "Olivia",
    "Omar",
    "Priya",
    "Rafael",
    "Rachel",
    "Samuel",
    "Sofia",
    "Tariq",
    "Teresa",
    "Victor",
    "Wei",
    "Yara",
    "Zoe",
    "Andre",
    "Brooke",
    "Colin",
    "Dana",
    "Emeka",
    "Farah",
    "Gideon",
    "Helena",
    "Ivan",
)
LAST_NAMES = (
    "Abbott",
    "Alvarez",
    "Anders",
    "Bennett",
    "Brandt",
    "Castillo",
    "Chen",
    "Coleman",
    "Dawson",
    "Delgado",
    "Ellison",
    "Fischer",
    "Foster",
    "Gallagher",
    "Garcia",
    "Hale",
    "Hartmann",
    "Hughes",
    "Ibrahim",
    "Iverson",
    "Jensen",
    "Kapoor",
    "Keller",
    "Kowalski",
    "Lambert",
    "Lindqvist",
    "Lopez",
    "Maddox",
    "Morales",
    "Nakamura",
    "Nguyen",
    "Novak",
    "Okafor",
    "O'Brien",
    "Patel",
    "Pereira",
    "Quinn",
    "Ramirez",
    "Reyes",
    "Rossi",
    "Sandoval",
    "Schmidt",
    "Shapiro",
    "Sullivan",
    "Tanaka",
    "Thornton",
    "Usman",
    "Vasquez",
    "Walsh",
    "Whitaker",
    "Yamamoto",
    "Zimmerman",
)
PLACES = (
    "Bayside",
    "Cedar Ridge",
    "Copper Creek",
    "Eastgate",
    "Golden Gate",
    "Harbor",
    "Highland",
    "Lakeshore",
    "Maple Grove",
    "Mesa",
    "Northwind",
    "Oak Hollow",
    "Pacific",
    "Pinecrest",
    "Redwood",
    "Riverside",
    "Silver Lake",
    "Summit",
    "Sunset",
    "Valley View",
    "Westfield",
)
TRADES = (
    "Dental Group",
    "Family Dentistry",
    "Veterinary Clinic",
    "Landscaping",
    "Plumbing & Heating",
    "Electric",
    "Roofing",
    "Auto Repair",
    "Bakery",
    "Coffee Roasters",
    "Brewing Company",
    "Fitness Studio",
    "Physical Therapy",
    "Chiropractic",
    "Realty",
    "Property Management",
    "Construction",
    "Design Studio",
    "Marketing",
    "Consulting",
    "Logistics",
    "Florist",
    "Pet Supply",
    "Yoga",
    "Pediatrics",
    "Optometry",
    "Bistro",
    "Catering",
    "Printing",
    "Cleaning Services",
)
PARTNERSHIP_TRADES = (
    "Architects",
    "Engineering",
    "Law Group",
    "Wealth Advisors",
    "Insurance Agency",
    "Medical Partners",
)
LEGAL_SUFFIXES = ("LLC", "Inc.", "Co.", "LLP", "Ltd.", "", "", "")
STREET_NAMES = (
    "Main",
    "Elm",
    "Oak",
    "Pine",
    "Maple",
    "Cedar",
    "Lake",
    "Hill",
    "Park",
    "Washington",
    "Lincoln",
    "Jefferson",
    "Mission",
    "Market",
    "Church",
    "Mill",
    "River",
    "Spring",
    "Sunset",
    "Broadway",
    "Harbor",
    "Valley",
    "Forest",
    "Meadow",
    "Orchard",
)
STREET_TYPES = ("St", "Ave", "Blvd", "Rd", "Way", "Ln", "Dr", "Ct")
SUITES = ("", "", "", " Suite 100", " Suite 210", " Unit 4", " Floor 2", " #12")
# (city, state, ZIP prefix, area code)
CITIES = (
    ("San Francisco", "CA", "941", "415"),
    ("Oakland", "CA", "946", "510"),
    ("San Jose", "CA", "951", "408"),
    ("Sacramento", "CA", "958", "916"),
    ("Los Angeles", "CA", "900", "213"),
    ("San Diego", "CA", "921", "619"),
    ("Portland", "OR", "972", "503"),
    ("Seattle", "WA", "981", "206"),
    ("Boise", "ID", "837", "208"),
    ("Phoenix", "AZ", "850", "602"),
    ("Denver", "CO", "802", "303"),
    ("Salt Lake City", "UT", "841", "801"),
    ("Austin", "TX", "787", "512"),
    ("Dallas", "TX", "752", "214"),
    ("Chicago", "IL", "606", "312"),
    ("Minneapolis", "MN", "554", "612"),
    ("Nashville", "TN", "372", "615"),
    ("Atlanta", "GA", "303", "404"),
    ("Miami", "FL", "331", "305"),
    ("Boston", "MA", "021", "617"),
    ("New York", "NY", "100", "212"),
    ("Philadelphia", "PA", "191", "215"),
    ("Raleigh", "NC", "276", "919"),
    ("Columbus", "OH", "432", "614"),
)
PERSONAL_MAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com")
BILLING_MAILBOXES = ("accounts", "billing", "ap", "office", "finance")


@dataclass(frozen=True)
class Address:
    line1: str
    city: str
    state: str
    postal_code: str
    country: str = "USA"


@dataclass(frozen=True)
class Party:
    """A client of the firm, as an accounting or CRM system would hold it."""

    is_company: bool
    display_name: str
    company_name: str | None
    given_name: str
    family_name: str
    email: str
    phone: str
    address: Address


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _company_name(rng: random.Random, family: str) -> str:
    style = rng.random()
    if style < 0.35:
        name = f"{family} {rng.choice(TRADES)}"
    elif style < 0.55:
        name = f"{family} & {rng.choice(LAST_NAMES)} {rng.choice(PARTNERSHIP_TRADES)}"
    else:
        name = f"{rng.choice(PLACES)} {rng.choice(TRADES)}"
    suffix = rng.choice(LEGAL_SUFFIXES)
    return f"{name} {suffix}" if suffix else name


def make_party(rng: random.Random, company_share: float = 0.7) -> Party:
    given, family = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, state, zip_prefix, area = rng.choice(CITIES)
    address = Address(
        line1=f"{rng.randint(10, 9899)} {rng.choice(STREET_NAMES)} {rng.choice(STREET_TYPES)}"
        f"{rng.choice(SUITES)}",
        city=city,
        state=state,
        postal_code=f"{zip_prefix}{rng.randint(0, 99):02d}",
    )
    phone = f"({area}) 555-01{rng.randint(0, 99):02d}"
    if rng.random() < company_share:
        company = _company_name(rng, family)
        domain = _slug(company.removesuffix(" LLC").removesuffix(" Inc.").removesuffix(" LLP"))[:24] + ".com"
        mailbox = rng.choice(BILLING_MAILBOXES) if rng.random() < 0.4 else f"{_slug(given)}.{_slug(family)}"
        return Party(True, company, company, given, family, f"{mailbox}@{domain}", phone, address)
    email = f"{_slug(given)}.{_slug(family)}{rng.randint(1, 99)}@{rng.choice(PERSONAL_MAIL_DOMAINS)}"
    return Party(False, f"{given} {family}", None, given, family, email, phone, address)
