"""Recurring events expanded into instances, as `singleEvents=true` returns them
(developers.google.com/calendar/api/guides/recurringevents).

An instance's id is the series id, an underscore and the instance's original start: `YYYYMMDDTHHMMSSZ` (UTC)
for timed events, `YYYYMMDD` for all-day ones. It carries `recurringEventId` and `originalStartTime`, and no
`recurrence`. Rules are iCalendar RRULE/EXDATE/RDATE lines, read in the event's time zone so that a weekly
09:00 meeting stays at 09:00 across daylight-saving changes.
"""

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta

from dateutil.rrule import rrulestr

from connectors.sandbox.google.errors import bad_request
from connectors.sandbox.google.timefmt import bound, zone

# Google expands endless series only so far; the sandbox stops after this many instances per series.
MAX_INSTANCES = 1000


def _series(master: dict, calendar_zone: str):
    start, end = master["start"], master["end"]
    if "date" in start:
        first = datetime.combine(date.fromisoformat(start["date"]), time(0), tzinfo=UTC)
        length = date.fromisoformat(end["date"]) - date.fromisoformat(start["date"])
        tz_name = None
    else:
        tz_name = start.get("timeZone") or calendar_zone
        first = bound(start, calendar_zone).astimezone(zone(tz_name) or UTC)
        length = bound(end, calendar_zone) - bound(start, calendar_zone)
    try:
        rules = rrulestr("\n".join(master["recurrence"]), dtstart=first, forceset=True, unfold=True)
    except (ValueError, TypeError) as error:
        raise bad_request(f"Invalid recurrence rule: {error}", location="recurrence") from None
    return rules, length, tz_name


def validate(master: dict, calendar_zone: str) -> None:
    rules, _, _ = _series(master, calendar_zone)
    try:
        next(iter(rules), None)
    except (ValueError, TypeError) as error:
        raise bad_request(f"Invalid recurrence rule: {error}", location="recurrence") from None


def _instance(master: dict, occurrence: datetime, length: timedelta, tz_name: str | None) -> dict:
    instance = {key: value for key, value in master.items() if key != "recurrence"}
    if tz_name is None:
        suffix = occurrence.strftime("%Y%m%d")
        start = {"date": occurrence.date().isoformat()}
        end = {"date": (occurrence.date() + length).isoformat()}
    else:
        suffix = occurrence.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        start = {"dateTime": occurrence.isoformat(), "timeZone": tz_name}
        end = {"dateTime": (occurrence + length).isoformat(), "timeZone": tz_name}
    instance.update(
        id=f"{master['id']}_{suffix}",
        recurringEventId=master["id"],
        originalStartTime=dict(start),
        start=start,
        end=end,
    )
    return instance


def expand(
    master: dict, calendar_zone: str, after: datetime | None, before: datetime | None, horizon: datetime
) -> Iterator[dict]:
    """Instances ending after `after` and starting before `before` (and `horizon`, for endless series)."""
    rules, length, tz_name = _series(master, calendar_zone)
    limit = min(before, horizon) if before is not None else horizon
    for count, occurrence in enumerate(rules):
        if count >= MAX_INSTANCES or occurrence >= limit:
            return
        if after is not None and occurrence + length <= after:
            continue
        yield _instance(master, occurrence, length, tz_name)


def find(master: dict, calendar_zone: str, instance_id: str) -> dict | None:
    """The instance of `master` with this id, if the series has it."""
    suffix = instance_id.removeprefix(master["id"] + "_")
    try:
        if "T" in suffix:
            wanted = datetime.strptime(suffix, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        else:
            wanted = datetime.strptime(suffix, "%Y%m%d").replace(tzinfo=UTC)
    except ValueError:
        return None
    rules, length, tz_name = _series(master, calendar_zone)
    for occurrence in rules.between(wanted - timedelta(days=1), wanted + timedelta(days=1), inc=True):
        instance = _instance(master, occurrence, length, tz_name)
        if instance["id"] == instance_id:
            return instance
    return None
