"""Date-times as the APIs write them (issue 14 §12): always with an offset; lesson times
on the school's clock, whose zone is SCHOOL_TIMEZONE."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from marshmallow import Schema, ValidationError

from schoolkit import times

# 06:15 UTC, as the database gives it back (SQLite keeps no zone).
STORED = datetime(2025, 9, 1, 6, 15)


# Not named Lesson: marshmallow registers every Schema class by name for the whole process,
# and apispec resolves a docstring's `schema: Lesson` by that registry before the spec's own
# components, so the journal's OpenAPI document would describe its lessons with this one.
class TimesProbeSchema(Schema):
    starts_at = times.SchoolDateTime(required=True)
    recorded_at = times.DateTime()


@pytest.fixture
def fresh_zone() -> Iterator[None]:
    """The zone and the formatted times are kept per process: forget them around a test."""
    for cached in (times.school_zone, times.school_iso):
        cached.cache_clear()
    yield
    for cached in (times.school_zone, times.school_iso):
        cached.cache_clear()


@pytest.mark.usefixtures("fresh_zone")
def test_a_lesson_reads_on_the_schools_clock_and_an_instant_keeps_its_offset() -> None:
    dumped = TimesProbeSchema().dump({"starts_at": STORED, "recorded_at": STORED})
    assert dumped == {
        "starts_at": "2025-09-01T09:15:00+03:00",
        "recorded_at": "2025-09-01T06:15:00+00:00",
    }


@pytest.mark.usefixtures("fresh_zone")
def test_the_school_zone_is_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHOOL_TIMEZONE", "Asia/Yekaterinburg")
    assert times.school_iso(STORED.replace(tzinfo=UTC)) == "2025-09-01T11:15:00+05:00"


def test_a_lesson_time_without_an_offset_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        TimesProbeSchema().load({"starts_at": "2025-09-01T09:15:00"})
    assert "starts_at" in refused.value.messages
    loaded = TimesProbeSchema().load({"starts_at": "2025-09-01T09:15:00+03:00"})
    assert loaded["starts_at"] == datetime(2025, 9, 1, 6, 15, tzinfo=UTC)
