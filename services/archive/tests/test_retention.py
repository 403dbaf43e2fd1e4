"""Retention rotation of database backup sets: daily, weekly, monthly (issue 18 §5)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from archive.dbschedule import is_due
from archive.models import Base
from archive.retention import Rotation, rotate
from archive.store import DirectoryStore, new_set_id
from schoolkit.db import Database

MOSCOW = ZoneInfo("Europe/Moscow")


def sets_every_six_hours_for(days: int) -> list[str]:
    start = datetime(2026, 9, 1, 0, 30, tzinfo=UTC)
    return [new_set_id(start + timedelta(hours=6 * n)) for n in range(days * 4)]


def test_the_newest_set_of_each_day_week_and_month_is_kept_and_nothing_else() -> None:
    ids = sets_every_six_hours_for(100)
    kept = Rotation(daily=3, weekly=2, monthly=2).kept(ids, MOSCOW)
    newest = max(ids)
    assert newest in kept
    days = {datetime.strptime(s[:8], "%Y%m%d") for s in kept}
    assert len(kept) <= 3 + 2 + 2 and len(days) == len(kept)


def test_days_are_the_schools_days_not_utcs() -> None:
    late_evening_utc = new_set_id(datetime(2026, 12, 6, 22, 0, tzinfo=UTC))  # 01:00 on the 7th
    earlier_that_utc_day = new_set_id(datetime(2026, 12, 6, 12, 0, tzinfo=UTC))
    kept = Rotation(daily=2, weekly=0, monthly=0).kept(
        [earlier_that_utc_day, late_evening_utc], MOSCOW
    )
    assert kept == {earlier_that_utc_day, late_evening_utc}  # two days in Moscow


def test_rotation_removes_the_other_sets_and_logs_each_removal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = DirectoryStore(tmp_path / "disk")
    for set_id in sets_every_six_hours_for(10):
        store.finish(store.partial("journal", set_id))
    database = Database(f"sqlite:///{tmp_path / 'catalogue.db'}")
    Base.metadata.create_all(database.engine)
    with caplog.at_level(logging.INFO), database.transaction() as session:
        pruned = rotate(session, store, "journal", Rotation(daily=2, weekly=0, monthly=0), MOSCOW)
    assert len(store.sets("journal")) == 2
    assert len(pruned) == 38
    assert sum("pruned by the retention rotation" in m for m in caplog.messages) == 38


def test_nightly_sets_come_at_the_schools_hour_and_the_journal_keeps_its_own_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ARCHIVE_DATABASE_BACKUP_AT", "02:30")
    monkeypatch.setenv("ARCHIVE_DATABASE_BACKUP_INTERVAL_HOURS_JOURNAL", "1")
    last = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)  # 02:00 on the 7th in Moscow
    before_the_hour = datetime(2026, 12, 6, 23, 20, tzinfo=UTC)  # 02:20 in Moscow
    after_the_hour = datetime(2026, 12, 6, 23, 40, tzinfo=UTC)  # 02:40 in Moscow
    assert not is_due("diary", last, before_the_hour, MOSCOW)
    assert is_due("diary", last, after_the_hour, MOSCOW)
    assert not is_due("journal", last, after_the_hour, MOSCOW)
    assert is_due("journal", last, last + timedelta(hours=1), MOSCOW)
    assert is_due("diary", None, before_the_hour, MOSCOW)
