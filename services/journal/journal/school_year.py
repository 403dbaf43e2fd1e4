"""The school year's calendar: years, study periods and holidays (R-JRN-1).

Each change of a period or holiday sends the whole calendar of the year
(journal.calendar.changed) with the year's calendar version raised by one, so the diary
and notify replace what they had and ignore anything older.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal import audit
from journal.models import Finalization, Holiday, Lesson, Period, ThematicPlan, Year
from schoolkit.auth import Principal
from schoolkit.errors import ApiError
from schoolkit.events import Event
from schoolkit.outbox import publish


def create_year(session: Session, caller: Principal, fields: dict[str, Any]) -> Year:
    _refuse_overlapping_years(session, caller.school_id, fields["starts_on"], fields["ends_on"])
    year = Year(school_id=caller.school_id, calendar_version=1, **fields)
    session.add(year)
    session.flush()
    audit.record_by(session, caller, "added", "year", year.year_id, before=None, after=fields)
    _publish_calendar(session, year)
    return year


def year_of(session: Session, school_id: str, year_id: str) -> Year:
    """The school's year; another school's year is as absent as a missing one."""
    year = session.get(Year, str(year_id))
    if year is None or year.school_id != school_id:
        raise ApiError(404, "year_not_found", "No such school year.", {"year_id": "Unknown."})
    return year


def add_period(session: Session, caller: Principal, fields: dict[str, Any]) -> Period:
    year = year_of(session, caller.school_id, fields.pop("year_id"))
    _require_within_year(year, fields["starts_on"], fields["ends_on"])
    _refuse_overlapping_periods(
        session, year, fields["kind"], fields["starts_on"], fields["ends_on"]
    )
    period = Period(school_id=caller.school_id, year_id=year.year_id, **fields)
    session.add(period)
    _calendar_changed(session, year)
    after = {"year_id": year.year_id, **fields}
    audit.record_by(session, caller, "added", "period", period.period_id, before=None, after=after)
    return period


def add_holiday(session: Session, caller: Principal, fields: dict[str, Any]) -> Holiday:
    year = year_of(session, caller.school_id, fields.pop("year_id"))
    _require_within_year(year, fields["starts_on"], fields["ends_on"])
    holiday = Holiday(school_id=caller.school_id, year_id=year.year_id, **fields)
    session.add(holiday)
    _calendar_changed(session, year)
    after = {"year_id": year.year_id, **fields}
    audit.record_by(
        session, caller, "added", "holiday", holiday.holiday_id, before=None, after=after
    )
    return holiday


def remove_period(session: Session, caller: Principal, period_id: str) -> None:
    period = session.get(Period, period_id)
    if period is None or period.school_id != caller.school_id:
        raise ApiError(404, "period_not_found", "No such study period.")
    _refuse_a_period_in_use(session, period_id)
    year = year_of(session, caller.school_id, period.year_id)
    before = _period_values(period)
    audit.record_by(session, caller, "removed", "period", period_id, before=before, after=None)
    session.delete(period)
    _calendar_changed(session, year)


# What hangs on a study period, and how a deputy reads it in the refusal.
_PERIOD_USERS = (
    (Lesson, "lessons"),
    (ThematicPlan, "thematic plans"),
    (Finalization, "final marks"),
)


def _refuse_a_period_in_use(session: Session, period_id: str) -> None:
    """A period with lessons, plans or finals cannot go: the journal's record stands on it."""
    used_by = [
        name
        for table, name in _PERIOD_USERS
        if session.scalars(
            select(table.period_id).where(table.period_id == period_id).limit(1)
        ).first()
        is not None
    ]
    if used_by:
        raise ApiError(
            409,
            "period_in_use",
            f"The period still has {', '.join(used_by)}; it cannot be removed.",
        )


def remove_holiday(session: Session, caller: Principal, holiday_id: str) -> None:
    holiday = session.get(Holiday, holiday_id)
    if holiday is None or holiday.school_id != caller.school_id:
        raise ApiError(404, "holiday_not_found", "No such holiday.")
    year = year_of(session, caller.school_id, holiday.year_id)
    before = {"name": holiday.name, "starts_on": holiday.starts_on, "ends_on": holiday.ends_on}
    audit.record_by(session, caller, "removed", "holiday", holiday_id, before=before, after=None)
    session.delete(holiday)
    _calendar_changed(session, year)


def periods_of(session: Session, year: Year) -> list[Period]:
    query = select(Period).where(Period.year_id == year.year_id).order_by(Period.starts_on)
    return list(session.scalars(query))


def holidays_of(session: Session, year: Year) -> list[Holiday]:
    query = select(Holiday).where(Holiday.year_id == year.year_id).order_by(Holiday.starts_on)
    return list(session.scalars(query))


def is_holiday(session: Session, year: Year, day: date) -> bool:
    return any(h.starts_on <= day <= h.ends_on for h in holidays_of(session, year))


def _period_values(period: Period) -> dict[str, Any]:
    return {
        "year_id": period.year_id,
        "kind": period.kind,
        "name": period.name,
        "starts_on": period.starts_on,
        "ends_on": period.ends_on,
    }


def _require_within_year(year: Year, starts_on: date, ends_on: date) -> None:
    if starts_on < year.starts_on or ends_on > year.ends_on:
        raise ApiError(
            422,
            "outside_year",
            f"The dates must lie within the school year {year.starts_on}–{year.ends_on}.",
            {"starts_on": "Outside the year.", "ends_on": "Outside the year."},
        )


def _refuse_overlapping_years(session: Session, school_id: str, starts: date, ends: date) -> None:
    query = select(Year).where(
        Year.school_id == school_id, Year.starts_on <= ends, Year.ends_on >= starts
    )
    if session.scalars(query).first() is not None:
        raise ApiError(
            409, "years_overlap", "Another school year already covers some of these days."
        )


def _refuse_overlapping_periods(
    session: Session, year: Year, kind: str, starts: date, ends: date
) -> None:
    # Periods of one kind partition the year (quarters never overlap); a period of another
    # kind may span them (the "year" period under which annual finals are set).
    query = select(Period).where(
        Period.year_id == year.year_id,
        Period.kind == kind,
        Period.starts_on <= ends,
        Period.ends_on >= starts,
    )
    clash = session.scalars(query).first()
    if clash is not None:
        raise ApiError(
            409,
            "periods_overlap",
            f"The period overlaps «{clash.name}» ({clash.starts_on}–{clash.ends_on}).",
            {"starts_on": "Overlaps another period.", "ends_on": "Overlaps another period."},
        )


def _calendar_changed(session: Session, year: Year) -> None:
    session.flush()
    year.calendar_version += 1
    _publish_calendar(session, year)


def _publish_calendar(session: Session, year: Year) -> None:
    data = {
        "year_id": year.year_id,
        "name": year.name,
        "starts_on": year.starts_on.isoformat(),
        "ends_on": year.ends_on.isoformat(),
        "periods": [
            {
                "period_id": p.period_id,
                "kind": p.kind,
                "name": p.name,
                "starts_on": p.starts_on.isoformat(),
                "ends_on": p.ends_on.isoformat(),
            }
            for p in periods_of(session, year)
        ],
        "holidays": [
            {
                "holiday_id": h.holiday_id,
                "name": h.name,
                "starts_on": h.starts_on.isoformat(),
                "ends_on": h.ends_on.isoformat(),
            }
            for h in holidays_of(session, year)
        ],
        "changed_at": _now(),
        "entity_version": year.calendar_version,
    }
    publish(session, Event(type="journal.calendar.changed", data=data, school_id=year.school_id))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
