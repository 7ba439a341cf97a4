"""Deterministic events: the same seed gives the same ids, subjects and times after every restart."""

import base64
import random
from datetime import UTC, datetime, timedelta

from connectors.sandbox.microsoft.events import new_event
from connectors.sandbox.microsoft.state import MicrosoftState, User

SUBJECTS = (
    "Client onboarding call",
    "Quarterly review",
    "Tax planning session",
    "Engagement kickoff",
    "Audit fieldwork",
    "Partner meeting",
    "Invoice follow-up",
    "Board pack review",
    "Year-end close",
    "Payroll check-in",
    "Budget workshop",
    "Team stand-up",
)
PLACES = ("Conference Room A", "Microsoft Teams Meeting", "Client office", "", "Room 4.12")


def seed_events(
    state: MicrosoftState,
    user: User,
    count: int,
    seed: int,
    anchor: float,
    spread_days: float = 60,
    all_day_share: float = 0.1,
) -> list[str]:
    rng = random.Random(f"{seed}:{user.id}")  # noqa: S311 - demo data
    centre = datetime.fromtimestamp(anchor, UTC).replace(minute=0, second=0, microsecond=0)
    ids = []
    for n in range(count):
        day = (centre + timedelta(days=rng.uniform(-spread_days / 2, spread_days / 2))).replace(
            minute=0, second=0, microsecond=0
        )
        if rng.random() < all_day_share:
            first = day.replace(hour=0)
            start, end = first, first + timedelta(days=rng.choice((1, 1, 2)))
            all_day = True
        else:
            start = day.replace(hour=rng.randint(8, 17), minute=rng.choice((0, 15, 30, 45)))
            end = start + timedelta(minutes=rng.choice((30, 45, 60, 90)))
            all_day = False
        body = {
            "subject": f"{rng.choice(SUBJECTS)} #{n + 1}",
            "body": {"contentType": "text", "content": f"Seeded event {n + 1}."},
            "start": {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "end": {"dateTime": end.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "UTC"},
            "isAllDay": all_day,
            "location": {"displayName": rng.choice(PLACES)},
        }
        event = new_event(user, body, "https://outlook.office365.com")
        event["id"] = "AAMkA" + base64.urlsafe_b64encode(rng.randbytes(48)).decode().rstrip("=")
        state.put_event(user, event)
        ids.append(event["id"])
    return ids
