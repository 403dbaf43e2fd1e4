"""The bell schedule and the weekly timetable that generates a period's lessons (R-JRN-6).

A template line says: on a weekday, at a lesson number, a class (or a group, stream or
individual-plan student) has a subject with a teacher in a room. Generating a period
creates the concrete lessons day by day, skips holidays, and remembers each lesson's
template line and planned day, so generating again creates only what is missing. A
stream's line gives each of its classes a lesson, all carrying the stream's id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from journal import audit, groups, roster
from journal.lessons import lesson_changed
from journal.models import Bell, Lesson, Period, StudyGroup, TimetableEntry, new_uuid
from journal.school_year import holidays_of, year_of
from schoolkit.auth import Principal
from schoolkit.errors import ApiError
from schoolkit.outbox import publish_many

# The bell schedule is the school's wall clock; the source school is in Moscow time.
SCHOOL_TIME = ZoneInfo("Europe/Moscow")


@dataclass
class Generation:
    created: int = 0
    skipped_holidays: list[date] = field(default_factory=list)


def set_bells(session: Session, caller: Principal, bells: list[dict[str, Any]]) -> list[Bell]:
    """Replace the school's bell schedule; lessons already generated keep their times."""
    before = [_bell_values(bell) for bell in bells_of(session, caller.school_id)]
    session.execute(delete(Bell).where(Bell.school_id == caller.school_id))
    rows = [Bell(school_id=caller.school_id, **bell) for bell in bells]
    session.add_all(rows)
    session.flush()
    after = [_bell_values(bell) for bell in rows]
    audit.record(
        session,
        caller.school_id,
        caller.user_id,
        "changed" if before else "added",
        "bells",
        "bells",
        subject_id=None,
        before={"bells": before} if before else None,
        after={"bells": after},
    )
    return sorted(rows, key=lambda bell: bell.slot)


def bells_of(session: Session, school_id: str) -> list[Bell]:
    query = select(Bell).where(Bell.school_id == school_id).order_by(Bell.slot)
    return list(session.scalars(query))


def add_entry(session: Session, caller: Principal, fields: dict[str, Any]) -> TimetableEntry:
    class_id, group, year_id = _target(session, caller, fields)
    subject = roster.subject_of(session, caller.school_id, fields["subject_id"])
    room_id = _room_id(session, caller.school_id, fields.get("room_id"))
    _bell_for(session, caller.school_id, fields["slot"])
    teacher_id = str(fields["teacher_id"])
    _require_load(session, teacher_id, subject.subject_id, class_id, group)
    entry = TimetableEntry(
        school_id=caller.school_id,
        year_id=year_id,
        class_id=class_id,
        group_id=group.group_id if group else None,
        weekday=fields["weekday"],
        slot=fields["slot"],
        subject_id=subject.subject_id,
        teacher_id=teacher_id,
        room_id=room_id,
    )
    _refuse_clashes(session, entry)
    session.add(entry)
    session.flush()
    audit.record(
        session,
        caller.school_id,
        caller.user_id,
        "added",
        "timetable_entry",
        entry.entry_id,
        subject_id=None,
        before=None,
        after=entry_values(entry),
    )
    return entry


def remove_entry(session: Session, caller: Principal, entry_id: str) -> None:
    """Take a line off the template; lessons generated from it stay in the journal."""
    entry = session.get(TimetableEntry, str(entry_id))
    if entry is None or entry.school_id != caller.school_id:
        raise ApiError(404, "entry_not_found", "No such timetable line.")
    audit.record(
        session,
        caller.school_id,
        caller.user_id,
        "removed",
        "timetable_entry",
        entry.entry_id,
        subject_id=None,
        before=entry_values(entry),
        after=None,
    )
    session.delete(entry)


def entries_of(session: Session, school_id: str, filters: dict[str, str]) -> list[TimetableEntry]:
    query = select(TimetableEntry).where(TimetableEntry.school_id == school_id)
    for name in ("class_id", "group_id", "teacher_id", "room_id"):
        if filters.get(name):
            query = query.where(getattr(TimetableEntry, name) == filters[name])
    return list(session.scalars(query.order_by(TimetableEntry.weekday, TimetableEntry.slot)))


def entry_values(entry: TimetableEntry) -> dict[str, Any]:
    return {
        "entry_id": entry.entry_id,
        "class_id": entry.class_id,
        "group_id": entry.group_id,
        "weekday": entry.weekday,
        "slot": entry.slot,
        "subject_id": entry.subject_id,
        "teacher_id": entry.teacher_id,
        "room_id": entry.room_id,
    }


def generate(
    session: Session, caller: Principal, period_id: str, class_id: str | None = None
) -> Generation:
    """Create the period's lessons from the template, day by day; holidays are skipped and
    lessons generated before are not made twice. With `class_id`, only that class's."""
    period = session.get(Period, str(period_id))
    if period is None or period.school_id != caller.school_id:
        raise ApiError(404, "period_not_found", "No such study period.", {"period_id": "Unknown."})
    year = year_of(session, caller.school_id, period.year_id)
    entries = list(
        session.scalars(select(TimetableEntry).where(TimetableEntry.year_id == year.year_id))
    )
    classes = {entry.entry_id: _classes_of(session, entry) for entry in entries}
    if class_id is not None:
        only = roster.class_of(session, caller.school_id, class_id).class_id
        classes = {key: [c for c in found if c == only] for key, found in classes.items()}
    planned = _already_planned(session, entries, period)
    holidays = holidays_of(session, year)
    periods = list(session.scalars(select(Period).where(Period.year_id == year.year_id)))
    bells = {bell.slot: bell for bell in bells_of(session, caller.school_id)}
    outcome = Generation()
    created: list[Lesson] = []
    for day in _days(period.starts_on, period.ends_on):
        todays = [entry for entry in entries if entry.weekday == day.isoweekday()]
        if not todays:
            continue
        if any(h.starts_on <= day <= h.ends_on for h in holidays):
            outcome.skipped_holidays.append(day)
            continue
        lesson_period = _shortest_containing(periods, day)
        created += [
            _lesson_of(entry, class_id, day, lesson_period, _bell_in(bells, entry.slot))
            for entry in todays
            for class_id in classes[entry.entry_id]
            if (entry.entry_id, class_id, day) not in planned
        ]
    _add_generated(session, caller, created)
    outcome.created = len(created)
    return outcome


def bell_times(session: Session, school_id: str, day: date, slot: int) -> tuple[datetime, datetime]:
    """When lesson `slot` of `day` starts and ends, as UTC instants."""
    bell = _bell_for(session, school_id, slot)
    return _instant(day, bell.starts), _instant(day, bell.ends)


def _instant(day: date, wall_clock: Any) -> datetime:
    # Stored in UTC: SQLite keeps no offset, so a local time would read back shifted.
    return datetime.combine(day, wall_clock, tzinfo=SCHOOL_TIME).astimezone(UTC)


def _lesson_of(
    entry: TimetableEntry, class_id: str, day: date, period: Period, bell: Bell
) -> Lesson:
    return Lesson(
        lesson_id=new_uuid(),
        school_id=entry.school_id,
        class_id=class_id,
        subject_id=entry.subject_id,
        teacher_id=entry.teacher_id,
        period_id=period.period_id,
        date=day,
        slot=entry.slot,
        starts_at=_instant(day, bell.starts),
        ends_at=_instant(day, bell.ends),
        status="scheduled",
        version=1,
        group_id=entry.group_id,
        room_id=entry.room_id,
        timetable_entry_id=entry.entry_id,
        planned_on=day,
    )


def _add_generated(session: Session, caller: Principal, lessons: list[Lesson]) -> None:
    # In bulk: a quarter of a whole school is thousands of lessons in one request.
    session.add_all(lessons)
    session.flush()
    publish_many(session, [lesson_changed(lesson, "scheduled") for lesson in lessons])
    audit.record_many(
        session,
        caller.school_id,
        caller.user_id,
        [
            audit.Change("added", "lesson", lesson.lesson_id, None, None, _lesson_values(lesson))
            for lesson in lessons
        ],
    )


def _lesson_values(lesson: Lesson) -> dict[str, Any]:
    return {
        "class_id": lesson.class_id,
        "group_id": lesson.group_id,
        "subject_id": lesson.subject_id,
        "teacher_id": lesson.teacher_id,
        "room_id": lesson.room_id,
        "date": lesson.date.isoformat(),
        "slot": lesson.slot,
        "timetable_entry_id": lesson.timetable_entry_id,
    }


def _already_planned(
    session: Session, entries: list[TimetableEntry], period: Period
) -> set[tuple[str, str, date]]:
    query = select(Lesson.timetable_entry_id, Lesson.class_id, Lesson.planned_on).where(
        Lesson.timetable_entry_id.in_([entry.entry_id for entry in entries]),
        Lesson.planned_on >= period.starts_on,
        Lesson.planned_on <= period.ends_on,
    )
    return {(row[0], row[1], row[2]) for row in session.execute(query)}


def _classes_of(session: Session, entry: TimetableEntry) -> list[str]:
    if entry.class_id is not None:
        return [entry.class_id]
    group = session.get(StudyGroup, entry.group_id)
    return groups.class_ids_of(session, group) if group else []


def _shortest_containing(periods: list[Period], day: date) -> Period:
    # The shortest period containing the day: a quarter rather than the year period.
    containing = [p for p in periods if p.starts_on <= day <= p.ends_on]
    return min(containing, key=lambda p: p.ends_on - p.starts_on)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _target(
    session: Session, caller: Principal, fields: dict[str, Any]
) -> tuple[str | None, StudyGroup | None, str]:
    if fields.get("class_id"):
        school_class = roster.class_of(session, caller.school_id, fields["class_id"])
        return school_class.class_id, None, school_class.year_id
    if fields.get("student_id"):
        group = groups.individual_group(session, caller, fields["student_id"])
    else:
        group = groups.group_of(session, caller.school_id, fields["group_id"])
    return None, group, group.year_id


def _room_id(session: Session, school_id: str, room_id: Any) -> str | None:
    return groups.room_of(session, school_id, room_id).room_id if room_id else None


def _bell_for(session: Session, school_id: str, slot: int) -> Bell:
    return _bell_in({b.slot: b for b in bells_of(session, school_id)}, slot)


def _bell_in(bells: dict[int, Bell], slot: int) -> Bell:
    bell = bells.get(slot)
    if bell is None:
        raise ApiError(
            422,
            "no_bell_for_slot",
            f"The bell schedule has no lesson number {slot}.",
            {"slot": "Not in the bell schedule."},
        )
    return bell


def _require_load(
    session: Session,
    teacher_id: str,
    subject_id: str,
    class_id: str | None,
    group: StudyGroup | None,
) -> None:
    # The timetable follows the teaching load (R-JRN-4): a group's lesson is the group's
    # teacher's, or that of the teacher of the subject in every one of its classes.
    if class_id is not None:
        allowed = roster.teaches(session, teacher_id, class_id, subject_id)
    else:
        assert group is not None
        allowed = groups.teaches_group(session, teacher_id, group.group_id, subject_id) or all(
            roster.teaches(session, teacher_id, c, subject_id)
            for c in groups.class_ids_of(session, group)
        )
    if not allowed:
        raise ApiError(
            422,
            "not_in_teaching_load",
            "The teacher does not teach this subject there.",
            {"teacher_id": "Not in the teaching load."},
        )


def _refuse_clashes(session: Session, entry: TimetableEntry) -> None:
    same_time = select(TimetableEntry).where(
        TimetableEntry.year_id == entry.year_id,
        TimetableEntry.weekday == entry.weekday,
        TimetableEntry.slot == entry.slot,
    )
    for other in session.scalars(same_time):
        if other.teacher_id == entry.teacher_id:
            raise ApiError(
                409, "teacher_busy", "The teacher has another lesson then.", {"teacher_id": "Busy."}
            )
        if entry.room_id is not None and other.room_id == entry.room_id:
            raise ApiError(409, "room_busy", "The room is taken then.", {"room_id": "Busy."})
        if (other.class_id, other.group_id) == (entry.class_id, entry.group_id):
            raise ApiError(
                409, "slot_taken", "There is a lesson there already.", {"slot": "Taken."}
            )


def _bell_values(bell: Bell) -> dict[str, Any]:
    return {"slot": bell.slot, "starts": bell.starts.isoformat(), "ends": bell.ends.isoformat()}
