"""The journal's generated year, as the events the journal, identity and consent send.

`journal.generator` writes a year of a school into a journal database with COPY: ids
only, and no events (it is an import). Here its rows are read back with SQL and turned
into the events the services would have sent for them, each validated against
contracts/ before it is used:

- journal: the calendar (periods, holidays), subjects, classes, enrolments, the final
  marks of the closed quarters, and — for the study days of a window at the end of the
  year — the lessons (with topics), homework, attendance of every student at every
  lesson and the marks;
- identity: students' and teachers' names (the generator returns them for identity),
  and one guardian linked to each student (the journal knows no guardians);
- consent: a concluded diary agreement of each guardian, so every student is covered.

Guardians get no identity.person.changed: the generator names nobody but students and
teachers, and the week view shows no guardian's name.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, create_engine, text

from journal.generator import QUARTERS, YEAR_ENDS, YEAR_STARTS, GeneratedSchool, Ids, Size
from journal.generator import generate as generate_journal
from schoolkit.contracts import load_contracts
from schoolkit.events import Event, iso_utc
from schoolkit.migrate import upgrade
from schoolkit.settings import project_root

SEED = 7
AGREEMENTS_FROM = datetime.combine(YEAR_STARTS - timedelta(days=3), time(9), UTC)


@dataclass(frozen=True)
class Family:
    """A student, their class, and identity's and consent's ids of their guardian."""

    student_id: str
    class_id: str
    guardian_id: str
    guardianship_id: str
    agreement_id: str


@dataclass(frozen=True)
class Window:
    """The study days whose lessons, homework, attendance and marks the diary receives."""

    first_day: date
    last_day: date

    @classmethod
    def last_weeks(cls, weeks: int) -> Window:
        last_monday = YEAR_ENDS - timedelta(days=YEAR_ENDS.weekday())
        return cls(max(YEAR_STARTS, last_monday - timedelta(weeks=weeks - 1)), YEAR_ENDS)

    @property
    def bounds(self) -> dict[str, date]:
        return {"first_day": self.first_day, "last_day": self.last_day}


@dataclass
class DiaryYear:
    journal: GeneratedSchool
    families: list[Family]
    agreement_template_id: str
    window: Window
    open_period_id: str  # the fourth quarter: marks may still be recorded in it

    @property
    def school_id(self) -> str:
        return self.journal.school_id


def generate(journal_url: str, students: int, weeks: int) -> DiaryYear:
    """The year generated into the (empty) journal database, and the diary's families."""
    upgrade("journal", journal_url)
    journal = generate_journal(journal_url, Size.for_students(students), seed=SEED)
    # Seeded apart from the generator's own ids, which the same seed would repeat.
    ids = Ids(random.Random(f"guardians of {SEED}"))
    families = [
        Family(student, class_id, ids.new(), ids.new(), ids.new())
        for class_id, students_of_class in journal.students_by_class.items()
        for student in students_of_class
    ]
    open_period = journal.period_ids[QUARTERS[-1][0]]
    return DiaryYear(journal, families, ids.new(), Window.last_weeks(weeks), open_period)


def study_mondays(journal_url: str, window: Window) -> list[date]:
    """The Mondays of the window's weeks that have lessons."""
    with _connect(journal_url) as connection:
        days = connection.execute(
            text("SELECT DISTINCT date FROM lessons WHERE date BETWEEN :first_day AND :last_day"),
            window.bounds,
        ).scalars()
        return sorted({day - timedelta(days=day.weekday()) for day in days})


def frame_events(year: DiaryYear, journal_url: str) -> Iterator[Event]:
    """The school's calendar, subjects, classes and teachers."""
    make = EventMaker(year.school_id)
    with _connect(journal_url) as connection:
        yield from _calendar(make, connection, year.journal.year_id)
        yield from _subjects(make, connection, year.school_id)
        yield from _classes(make, connection, year.school_id)
        yield from _teachers(make, year.journal)


def class_events(year: DiaryYear, journal_url: str, class_id: str) -> Iterator[Event]:
    """One class's families; its window of lessons, homework, attendance and marks; its
    final marks: in the order the services would have sent them.

    Classes share no rows of the diary's read model beyond the frame, so they can be
    applied side by side.
    """
    make = EventMaker(year.school_id)
    scope = {"school_id": year.school_id, "class_id": class_id, **year.window.bounds}
    with _connect(journal_url) as connection:
        enrolments = {row.student_id: row for row in connection.execute(text(ENROLMENTS), scope)}
        for family in year.families:
            if family.class_id == class_id:
                yield from _family(make, year, family, enrolments[family.student_id])
        for query, event in WINDOW_EVENTS:
            for row in connection.execute(text(query), scope):
                yield event(make, row)
        yield from (_finals(make, row) for row in connection.execute(text(FINALS), scope))


def marks_outside_window(year: DiaryYear, journal_url: str, count: int) -> list[Event]:
    """`count` of the journal's marks of the week before the window: ones the diary has
    not been sent, to apply again and again in a measurement."""
    make = EventMaker(year.school_id)
    first_day = year.window.first_day
    before = Window(first_day - timedelta(weeks=1), first_day - timedelta(days=1))
    query = MARKS.replace(" AND l.class_id = :class_id", "") + " LIMIT :count"
    scope = {"school_id": year.school_id, "count": count, **before.bounds}
    with _connect(journal_url) as connection:
        return [_mark(make, row) for row in connection.execute(text(query), scope)]


@contextmanager
def _connect(journal_url: str) -> Iterator[Connection]:
    """A connection that streams rows: a wide window is hundreds of thousands of them."""
    engine = create_engine(journal_url)
    try:
        with engine.connect() as connection:
            yield connection.execution_options(stream_results=True, yield_per=2000)
    finally:
        engine.dispose()


class EventMaker:
    def __init__(self, school_id: str) -> None:
        self.school_id = school_id
        self.contracts = load_contracts(project_root() / "contracts")
        self.now = iso_utc(datetime.now(UTC))

    def __call__(self, event_type: str, data: dict[str, Any], subject: str | None = None) -> Event:
        data = {key: value for key, value in data.items() if value is not None}
        event = Event(type=event_type, data=data, school_id=self.school_id, subject=subject)
        self.contracts.validate(event.to_dict())
        return event


def _rows(connection: Connection, query: str, **values: Any) -> Iterator[Any]:
    yield from connection.execute(text(query), values)


# --- the journal: the school's frame ------------------------------------------------------


def _calendar(make: EventMaker, connection: Connection, year_id: str) -> Iterator[Event]:
    year = connection.execute(
        text("SELECT name, starts_on, ends_on, calendar_version FROM years WHERE year_id = :y"),
        {"y": year_id},
    ).one()
    periods = _rows(
        connection,
        "SELECT period_id, kind, name, starts_on, ends_on FROM periods "
        "WHERE year_id = :y ORDER BY starts_on, ends_on",
        y=year_id,
    )
    holidays = _rows(
        connection,
        "SELECT holiday_id, name, starts_on, ends_on FROM holidays "
        "WHERE year_id = :y ORDER BY starts_on",
        y=year_id,
    )
    yield make(
        "journal.calendar.changed",
        {
            "year_id": year_id,
            "name": year.name,
            "starts_on": year.starts_on.isoformat(),
            "ends_on": year.ends_on.isoformat(),
            "periods": [_dated(p._asdict(), "starts_on", "ends_on") for p in periods],
            "holidays": [_dated(h._asdict(), "starts_on", "ends_on") for h in holidays],
            "changed_at": make.now,
            "entity_version": year.calendar_version,
        },
    )


def _dated(row: dict[str, Any], *names: str) -> dict[str, Any]:
    return {**row, **{name: row[name].isoformat() for name in names}}


def _subjects(make: EventMaker, connection: Connection, school_id: str) -> Iterator[Event]:
    query = "SELECT * FROM subjects WHERE school_id = :s ORDER BY name"
    for subject in _rows(connection, query, s=school_id):
        yield make(
            "journal.subject.changed",
            {
                "school_subject_id": subject.subject_id,
                "name": subject.name,
                "short_name": subject.short_name,
                "change": "removed" if subject.removed else "created",
                "changed_at": make.now,
                "entity_version": subject.version,
            },
        )


def _classes(make: EventMaker, connection: Connection, school_id: str) -> Iterator[Event]:
    query = "SELECT * FROM classes WHERE school_id = :s ORDER BY grade, name"
    for school_class in _rows(connection, query, s=school_id):
        yield make(
            "journal.class.changed",
            {
                "class_id": school_class.class_id,
                "year_id": school_class.year_id,
                "name": school_class.name,
                "grade": school_class.grade,
                "class_teacher_id": school_class.class_teacher_id,
                "change": "created",
                "changed_at": make.now,
                "entity_version": school_class.version,
            },
        )


# --- identity and consent: people, guardians, agreements ---------------------------------


def _teachers(make: EventMaker, journal: GeneratedSchool) -> Iterator[Event]:
    class_teachers = set(journal.class_teachers.values())
    for teacher in journal.teacher_ids:
        roles = ["subject_teacher"] + (["class_teacher"] if teacher in class_teachers else [])
        yield _person(make, teacher, "staff", roles, journal.names[teacher])


def _person(make: EventMaker, person_id: str, kind: str, roles: list[str], full_name: str) -> Event:
    last, first, middle = split_name(full_name)
    data = {
        "person_id": person_id,
        "kind": kind,
        "roles": roles,
        "last_name": last,
        "first_name": first,
        "middle_name": middle,
        "change": "created",
        "entity_version": 1,
    }
    return make("identity.person.changed", data, subject=person_id)


def split_name(full_name: str) -> tuple[str, str, str | None]:
    """(last, first, patronymic) of Faker's ru_RU names, written either family name first
    or last, sometimes after a courtesy title (г-н, г-жа, тов.)."""
    words = full_name.split()
    if words[0] in COURTESY_TITLES:
        words = words[1:]
    if len(words) == 3 and _is_patronymic(words[1]):
        first, middle, last = words
        return last, first, middle
    if len(words) == 3:
        return words[0], words[1], words[2]
    return words[0], " ".join(words[1:]) or words[0], None


COURTESY_TITLES = frozenset({"г-н", "г-жа", "тов."})


def _is_patronymic(word: str) -> bool:
    return word.endswith(("ич", "вна", "чна"))


ENROLMENTS = (
    "SELECT e.*, array_remove(array_agg(m.group_id), NULL) AS group_ids "
    "FROM enrolments e LEFT JOIN group_members m ON m.student_id = e.student_id "
    "WHERE e.school_id = :school_id AND e.class_id = :class_id "
    "GROUP BY e.enrolment_id"
)


def _family(make: EventMaker, year: DiaryYear, family: Family, enrolment: Any) -> Iterator[Event]:
    student = family.student_id
    moment = iso_utc(AGREEMENTS_FROM)
    yield make(
        "identity.guardian.linked",
        {
            "guardianship_id": family.guardianship_id,
            "guardian_id": family.guardian_id,
            "student_id": student,
            "via": "invitation_code",
            "linked_at": moment,
            "entity_version": 1,
        },
        subject=student,
    )
    yield make(
        "consent.agreement.concluded",
        {
            "agreement_id": family.agreement_id,
            "guardian_id": family.guardian_id,
            "student_id": student,
            "template_id": year.agreement_template_id,
            "template_version": 1,
            "change": "concluded",
            "concluded_at": moment,
            "registered_by": year.journal.class_teachers[family.class_id],
            "entity_version": 1,
        },
        subject=student,
    )
    yield _enrolled(make, enrolment)
    yield _person(make, student, "student", ["student"], year.journal.names[student])


def _enrolled(make: EventMaker, enrolment: Any) -> Event:
    data = {
        "enrolment_id": enrolment.enrolment_id,
        "student_id": enrolment.student_id,
        "class_id": enrolment.class_id,
        "group_ids": list(enrolment.group_ids),
        "individual_plan": enrolment.individual_plan,
        "enrolled_on": enrolment.enrolled_on.isoformat(),
        "entity_version": enrolment.version,
    }
    return make("journal.student.enrolled", data, subject=enrolment.student_id)


# --- the journal: one class's window of lessons and what happened in them ----------------

IN_WINDOW = (
    "l.school_id = :school_id AND l.class_id = :class_id "
    "AND l.date BETWEEN :first_day AND :last_day"
)
LESSONS = f"SELECT * FROM lessons l WHERE {IN_WINDOW} ORDER BY l.date, l.slot"
HOMEWORK = (
    "SELECT h.*, l.class_id, l.group_id, l.subject_id, l.date FROM homework h "
    f"JOIN lessons l ON l.lesson_id = h.lesson_id WHERE {IN_WINDOW} ORDER BY h.assigned_at"
)
ATTENDANCE = (
    "SELECT a.*, l.class_id, l.subject_id, l.date FROM attendance a "
    f"JOIN lessons l ON l.lesson_id = a.lesson_id WHERE {IN_WINDOW} ORDER BY a.recorded_at"
)
MARKS = (
    "SELECT m.*, l.date, l.period_id, l.class_id, l.subject_id, "
    "w.code AS work_type, w.weight, w.scale FROM marks m "
    "JOIN lessons l ON l.lesson_id = m.lesson_id "
    f"JOIN work_types w ON w.work_type_id = m.work_type_id WHERE {IN_WINDOW} "
    "ORDER BY m.recorded_at"
)
FINALS = (
    "SELECT f.*, p.starts_on, p.ends_on, json_agg(json_build_object("
    "'student_id', m.student_id, 'value', m.value) ORDER BY m.student_id) AS finals "
    "FROM finalizations f JOIN periods p ON p.period_id = f.period_id "
    "JOIN final_marks m ON m.finalization_id = f.finalization_id "
    "WHERE f.school_id = :school_id AND f.class_id = :class_id "
    "GROUP BY f.finalization_id, p.period_id ORDER BY f.finalized_at, f.subject_id"
)


def _lesson(make: EventMaker, lesson: Any) -> Event:
    moved = lesson.transferred_from_date
    data = {
        "lesson_id": lesson.lesson_id,
        "change": "scheduled",
        "class_id": lesson.class_id,
        "group_id": lesson.group_id,
        "school_subject_id": lesson.subject_id,
        "teacher_id": lesson.teacher_id,
        "substituted_teacher_id": lesson.substituted_teacher_id,
        "room_id": lesson.room_id,
        "date": lesson.date.isoformat(),
        "slot": lesson.slot,
        "starts_at": iso_utc(lesson.starts_at),
        "ends_at": iso_utc(lesson.ends_at),
        "status": lesson.status,
        "topic": lesson.topic,
        "control_form": lesson.control_form,
        "transferred_from": {"date": moved.isoformat(), "slot": lesson.transferred_from_slot}
        if moved
        else None,
        "changed_at": make.now,
        "entity_version": lesson.version,
    }
    return make("journal.lesson.changed", data)


def _homework(make: EventMaker, homework: Any) -> Event:
    data = {
        "homework_id": homework.homework_id,
        "lesson_id": homework.lesson_id,
        "class_id": homework.class_id,
        "group_id": homework.group_id,
        "school_subject_id": homework.subject_id,
        "teacher_id": homework.teacher_id,
        "assigned_on": homework.date.isoformat(),
        "due_on": homework.due_on.isoformat(),
        "text": homework.text,
        "assigned_at": iso_utc(homework.assigned_at),
        "entity_version": homework.version,
    }
    return make("journal.homework.assigned", data)


def _attendance(make: EventMaker, record: Any) -> Event:
    data = {
        "attendance_id": record.attendance_id,
        "student_id": record.student_id,
        "lesson_id": record.lesson_id,
        "lesson_date": record.date.isoformat(),
        "class_id": record.class_id,
        "school_subject_id": record.subject_id,
        "status": record.status,
        "reason": record.reason,
        "recorded_at": iso_utc(record.recorded_at),
        "entity_version": record.version,
    }
    return make("journal.attendance.recorded", data, subject=record.student_id)


def _mark(make: EventMaker, mark: Any) -> Event:
    data = {
        "mark_id": mark.mark_id,
        "student_id": mark.student_id,
        "lesson_id": mark.lesson_id,
        "lesson_date": mark.date.isoformat(),
        "period_id": mark.period_id,
        "class_id": mark.class_id,
        "school_subject_id": mark.subject_id,
        "teacher_id": mark.teacher_id,
        "work_type": mark.work_type,
        "weight": float(mark.weight),
        "scale": mark.scale,
        "value": _mark_value(mark.value),
        "comment": mark.comment,
        "recorded_at": iso_utc(mark.recorded_at),
        "entity_version": mark.version,
    }
    return make("journal.mark.recorded", data, subject=mark.student_id)


def _mark_value(value: str) -> int | str:
    return int(value) if value.isdigit() else value


def _finals(make: EventMaker, final: Any) -> Event:
    data = {
        "finalization_id": final.finalization_id,
        "period_id": final.period_id,
        "period_starts_on": final.starts_on.isoformat(),
        "period_ends_on": final.ends_on.isoformat(),
        "class_id": final.class_id,
        "group_id": final.group_id,
        "school_subject_id": final.subject_id,
        "finals": [
            {
                "student_id": one["student_id"],
                "scale": final.scale,
                "value": _mark_value(one["value"]),
            }
            for one in final.finals
        ],
        "finalized_at": iso_utc(final.finalized_at),
        "finalized_by": final.finalized_by,
        "entity_version": final.version,
    }
    return make("journal.period.finalized", data)


WINDOW_EVENTS: tuple[tuple[str, Callable[[EventMaker, Any], Event]], ...] = (
    (LESSONS, _lesson),
    (HOMEWORK, _homework),
    (ATTENDANCE, _attendance),
    (MARKS, _mark),
)
