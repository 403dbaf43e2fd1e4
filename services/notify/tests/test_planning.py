"""When a message may leave, on the school's clock: quiet hours and digest times."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest

from notify.planning import Rhythm, parse_clock, planned_time

MOSCOW = ZoneInfo("Europe/Moscow")
DEFAULT = Rhythm()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=MOSCOW)


def local(moment: datetime) -> str:
    return moment.astimezone(MOSCOW).strftime("%a %H:%M")


def test_a_mark_at_22_00_waits_until_08_00_the_next_morning() -> None:
    assert local(planned_time(at("2026-12-07T22:00"), "immediately", DEFAULT, MOSCOW)) == (
        "Tue 08:00"
    )


def test_a_mark_at_02_00_waits_until_08_00_the_same_morning() -> None:
    assert local(planned_time(at("2026-12-08T02:00"), "immediately", DEFAULT, MOSCOW)) == (
        "Tue 08:00"
    )


def test_a_mark_in_the_afternoon_leaves_at_once_and_every_planned_time_is_utc() -> None:
    planned = planned_time(at("2026-12-08T15:10"), "immediately", DEFAULT, MOSCOW)
    assert local(planned) == "Tue 15:10"
    assert planned.utcoffset() is not None and planned.utcoffset().total_seconds() == 0


def test_the_daily_digest_leaves_at_its_time_today_or_tomorrow() -> None:
    assert local(planned_time(at("2026-12-08T15:00"), "daily", DEFAULT, MOSCOW)) == "Tue 19:00"
    assert local(planned_time(at("2026-12-08T19:30"), "daily", DEFAULT, MOSCOW)) == "Wed 19:00"


def test_the_weekly_digest_waits_for_its_day() -> None:
    friday = Rhythm(weekly_on="friday")
    assert local(planned_time(at("2026-12-08T15:00"), "weekly", friday, MOSCOW)) == "Fri 19:00"


def test_a_digest_chosen_for_a_quiet_hour_waits_for_the_morning() -> None:
    late = Rhythm(digest_at=time(22, 30))
    assert local(planned_time(at("2026-12-08T15:00"), "daily", late, MOSCOW)) == "Wed 08:00"


def test_quiet_hours_within_one_day_hold_only_inside_them() -> None:
    lunch = Rhythm(quiet_from=time(13, 0), quiet_until=time(14, 0))
    assert local(planned_time(at("2026-12-08T13:30"), "immediately", lunch, MOSCOW)) == (
        "Tue 14:00"
    )
    assert local(planned_time(at("2026-12-08T22:30"), "immediately", lunch, MOSCOW)) == (
        "Tue 22:30"
    )


@pytest.mark.parametrize("text", ["24:00", "19:60", "7:05", "19:00:00", "ab:cd", ""])
def test_a_time_of_day_that_does_not_exist_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_clock(text)
