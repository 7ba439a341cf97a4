"""Deterministic calendars of a professional-services firm's staff: client meetings, reviews, deadlines.

Events start over the `spread_days` before and after the anchor, in business hours of the calendar's zone;
their `created`/`updated` stamps are spread over the 60 days before the anchor in creation order. Some are
all-day (deadlines, leave) and a few are weekly series.
"""

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from connectors.sandbox.common.fake_parties import make_party
from connectors.sandbox.google.calendars import Calendar

MEETINGS = (
    "Client meeting: {client}",
    "Tax return review: {client}",
    "Quarterly planning with {client}",
    "Engagement kickoff: {client}",
    "Bookkeeping catch-up: {client}",
    "Year-end close call: {client}",
    "Advisory session: {client}",
)
INTERNAL = ("Team stand-up", "Partner review", "CPE training", "Pipeline review", "1:1")
ALL_DAY = ("Filing deadline: {client}", "Out of office", "Audit fieldwork: {client}", "Conference")
LOCATIONS = ("Conference room A", "Conference room B", "Client office", "Video call", None, None)
UPDATED_SPAN = timedelta(days=60)


def seed_events(
    calendar: Calendar,
    count: int,
    seed: int,
    anchor: float,
    *,
    spread_days: float = 60,
    all_day_share: float = 0.1,
    recurring_share: float = 0.05,
) -> list[str]:
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    tz = ZoneInfo(calendar.time_zone)
    anchor_local = datetime.fromtimestamp(anchor, tz)
    first_stamp = anchor - UPDATED_SPAN.total_seconds()
    ids = []
    for index in range(count):
        client = make_party(rng).display_name
        day = anchor_local.date() + timedelta(days=rng.randint(-int(spread_days), int(spread_days)))
        stamp = first_stamp + UPDATED_SPAN.total_seconds() * (index + rng.random()) / max(count, 1)
        body = _all_day(rng, day, client) if rng.random() < all_day_share else _timed(rng, day, tz, client)
        if "dateTime" in body["start"] and rng.random() < recurring_share:
            body["recurrence"] = [f"RRULE:FREQ=WEEKLY;COUNT={rng.randint(4, 12)}"]
            body["summary"] = rng.choice(INTERNAL)
            body.pop("attendees", None)
        ids.append(calendar.insert(body, min(stamp, anchor))["id"])
    return ids


def _timed(rng: random.Random, day: date, tz: ZoneInfo, client: str) -> dict:
    start = datetime(day.year, day.month, day.day, rng.randint(8, 16), rng.choice((0, 30)), tzinfo=tz)
    end = start + timedelta(minutes=rng.choice((30, 45, 60, 90)))
    body: dict = {
        "summary": rng.choice(MEETINGS).format(client=client),
        "start": {"dateTime": start.isoformat(), "timeZone": tz.key},
        "end": {"dateTime": end.isoformat(), "timeZone": tz.key},
    }
    location = rng.choice(LOCATIONS)
    if location:
        body["location"] = location
    if rng.random() < 0.5:
        body["description"] = f"Agenda: open items, documents outstanding, next steps with {client}."
    attendees = [make_party(rng).email for _ in range(rng.randint(0, 3))]
    if attendees:
        body["attendees"] = [
            {"email": email, "responseStatus": rng.choice(("needsAction", "accepted", "tentative"))}
            for email in attendees
        ]
    return body


def _all_day(rng: random.Random, day: date, client: str) -> dict:
    length = rng.choice((1, 1, 1, 2, 5))
    return {
        "summary": rng.choice(ALL_DAY).format(client=client),
        "start": {"date": day.isoformat()},
        "end": {"date": (day + timedelta(days=length)).isoformat()},
        "transparency": "transparent",
    }
