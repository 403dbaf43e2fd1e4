"""When a message may leave: quiet hours and digest times on the school's wall clock.

Quiet hours hold a message until they end, never drop it; a digest leaves at the chosen
time (daily) or on the chosen day at that time (weekly). All moments are aware; the
school's zone is `SCHOOL_TIMEZONE` (schoolkit.times).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Rhythm:
    """A person's clock for messages, defaults filled in."""

    quiet_from: time = time(21, 0)
    quiet_until: time = time(8, 0)
    digest_at: time = time(19, 0)
    weekly_on: str = "sunday"


def parse_clock(value: str) -> time:
    """ "HH:MM" on a 24-hour clock; anything else (24:00, 7:5, 19:00:00) is refused."""
    if len(value) != 5 or value[2] != ":" or not (value[:2] + value[3:]).isdigit():
        raise ValueError("not HH:MM")
    return time(int(value[:2]), int(value[3:]))  # ValueError for 25:00 or 19:61


def in_quiet_hours(moment: datetime, rhythm: Rhythm, zone: ZoneInfo) -> bool:
    clock = moment.astimezone(zone).time()
    start, end = rhythm.quiet_from, rhythm.quiet_until
    if start < end:
        return start <= clock < end
    return clock >= start or clock < end  # the window crosses midnight (21:00–08:00)


def after_quiet_hours(moment: datetime, rhythm: Rhythm, zone: ZoneInfo) -> datetime:
    """`moment`, or the end of the quiet hours it falls into."""
    if not in_quiet_hours(moment, rhythm, zone):
        return moment
    local = moment.astimezone(zone)
    end = datetime.combine(local.date(), rhythm.quiet_until, zone)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), rhythm.quiet_until, zone)
    return end


def next_digest(moment: datetime, cadence: str, rhythm: Rhythm, zone: ZoneInfo) -> datetime:
    """The first digest time strictly after `moment` (weekly: on the chosen day)."""
    local = moment.astimezone(zone)
    candidate = datetime.combine(local.date(), rhythm.digest_at, zone)
    while candidate <= local or (
        cadence == "weekly" and WEEKDAYS[candidate.weekday()] != rhythm.weekly_on
    ):
        candidate = datetime.combine(candidate.date() + timedelta(days=1), rhythm.digest_at, zone)
    return candidate


def planned_time(
    now: datetime, cadence: str, rhythm: Rhythm, zone: ZoneInfo, settle_seconds: float = 0.0
) -> datetime:
    """When a news item of this cadence may leave; a digest chosen for a quiet hour waits too.

    In UTC, as every moment is stored (SQLite keeps no zone and would keep the wall clock).
    """
    if cadence in ("daily", "weekly"):
        moment = next_digest(now, cadence, rhythm, zone)
    else:
        moment = now + timedelta(seconds=settle_seconds)
    return after_quiet_hours(moment, rhythm, zone).astimezone(UTC)
