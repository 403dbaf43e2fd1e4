"""Working-day arithmetic of the legal term (R-PD-2, R-PD-3): 3 working days from receipt."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from consent.workdays import WorkingCalendar

CALENDAR = WorkingCalendar()


def moscow_deadline(received_utc: str) -> str:
    received = datetime.fromisoformat(received_utc).replace(tzinfo=UTC)
    return CALENDAR.deadline(received, 3).isoformat()


def test_a_revocation_received_on_a_friday_evening_is_due_by_wednesday_night() -> None:
    # Friday 14 November 2025, 21:30 in Moscow (18:30 UTC)
    assert moscow_deadline("2025-11-14T18:30:00") == "2025-11-19T23:59:59+03:00"


def test_a_friday_evening_in_utc_may_already_be_saturday_in_moscow() -> None:
    # 22:30 UTC on Friday is 01:30 on Saturday in Moscow: the term starts on Monday anyway.
    assert moscow_deadline("2025-11-14T22:30:00") == "2025-11-19T23:59:59+03:00"


def test_the_new_year_holidays_do_not_count() -> None:
    # Received on 30 December 2025: 31 Dec and 1–11 Jan are days off in 2026.
    assert moscow_deadline("2025-12-30T09:00:00") == "2026-01-14T23:59:59+03:00"


def test_a_working_saturday_counts() -> None:
    # 1 November 2025 was a working Saturday; 3 and 4 November were days off.
    assert CALENDAR.is_working_day(date(2025, 11, 1))
    assert moscow_deadline("2025-10-30T09:00:00") == "2025-11-05T23:59:59+03:00"


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-03-09", False),  # 8 March fell on a Sunday: Monday is off
        ("2026-05-11", False),  # 9 May fell on a Saturday
        ("2026-05-12", True),
        ("2026-11-28", False),  # a plain Saturday
    ],
)
def test_days_off_moved_by_the_law_are_not_working_days(day: str, working: bool) -> None:
    assert CALENDAR.is_working_day(date.fromisoformat(day)) is working


def test_an_updated_data_file_adds_a_day_off(tmp_path) -> None:  # type: ignore[no-untyped-def]
    transfers = tmp_path / "workdays.toml"
    transfers.write_text('[2027]\nworking_weekends = []\nextra_days_off = ["2027-03-10"]\n')
    calendar = WorkingCalendar(transfers_file=transfers)
    assert not calendar.is_working_day(date(2027, 3, 10))
