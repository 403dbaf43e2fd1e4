"""Working days (Mon–Fri except public holidays and the year's transfers) and deadlines.

The legal term (R-PD-2, R-PD-3) is counted in working days from the day after receipt
(Civil Code art. 191) and ends at the end of the last working day in the school's time
zone: a revocation received on a Friday evening is due by Wednesday night.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays

DATA_FILE = Path(__file__).parent / "data" / "workdays_ru.toml"
SATURDAY = 5


@dataclass(frozen=True)
class WorkingCalendar:
    timezone: ZoneInfo = field(
        default_factory=lambda: ZoneInfo(os.environ.get("SCHOOL_TIMEZONE") or "Europe/Moscow")
    )
    transfers_file: Path = DATA_FILE

    @cached_property
    def _transfers(self) -> dict[str, dict[str, list[str]]]:
        with self.transfers_file.open("rb") as source:
            return tomllib.load(source)

    def _listed(self, day: date, key: str) -> bool:
        return day.isoformat() in self._transfers.get(str(day.year), {}).get(key, [])

    def is_working_day(self, day: date) -> bool:
        if self._listed(day, "working_weekends"):
            return True
        if day.weekday() >= SATURDAY or self._listed(day, "extra_days_off"):
            return False
        return day not in russian_holidays(day.year)

    def add_working_days(self, start: date, count: int) -> date:
        """The `count`-th working day after `start` (start itself not counted)."""
        day = start
        remaining = count
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return day

    def deadline(self, received_at: datetime, working_days: int) -> datetime:
        """The last moment of the term: the end of its last working day, school time."""
        received_day = received_at.astimezone(self.timezone).date()
        last_day = self.add_working_days(received_day, working_days)
        end = datetime.combine(last_day, time(23, 59, 59), tzinfo=self.timezone)
        return end


@lru_cache(maxsize=16)
def russian_holidays(year: int) -> holidays.HolidayBase:
    """Building a year's holidays costs milliseconds: once per year per process."""
    return holidays.Russia(years=year)


def deadline_working_days() -> int:
    return int(os.environ.get("ERASURE_DEADLINE_WORKING_DAYS") or 3)
