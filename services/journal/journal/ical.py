"""iCalendar (RFC 5545) feeds of the timetable: per class, teacher and student (R-JRN-6).

Each lesson is a VEVENT whose UID is the lesson's id, whose SEQUENCE follows the lesson's
version (so a calendar replaces a substituted or transferred lesson) and whose times are
UTC. The feeds are staff's (guardians and students read the diary): the deputy sees all,
a teacher their own lessons and the classes they teach, a class teacher their class.
The `icalendar` library writes the text, folding its lines at 75 octets.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from icalendar import Calendar
from icalendar import Event as CalendarEvent
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from journal import roster
from journal.contingent import current_enrolment, group_ids_of
from journal.models import Lesson, Room, SchoolClass, Subject
from journal.reach import sees_class
from schoolkit.auth import Principal
from schoolkit.errors import ApiError
from schoolkit.events import as_utc

LONGEST_RANGE = timedelta(days=400)
CONTROL_FORM_NAMES = {
    "control_work": "Контрольная работа",
    "dictation": "Диктант",
    "test": "Тестирование",
    "essay": "Сочинение",
    "summary": "Изложение",
    "credit": "Зачёт",
    "practical_work": "Практическая работа",
    "laboratory_work": "Лабораторная работа",
    "project": "Проект",
    "oral": "Устный опрос",
    "other": "Контроль",
}


def class_feed(
    session: Session, caller: Principal, class_id: str, days: tuple[date, date]
) -> bytes:
    school_class = roster.class_of(session, caller.school_id, class_id)
    if not sees_class(session, caller, school_class.class_id):
        raise roster.class_not_found()  # another class's feed: as if there were none
    query = _lessons_between(caller.school_id, days).where(Lesson.class_id == school_class.class_id)
    return _calendar(session, f"Расписание {school_class.name}", session.scalars(query))


def teacher_feed(
    session: Session, caller: Principal, teacher_id: str, days: tuple[date, date]
) -> bytes:
    _require_teacher_in_reach(session, caller, teacher_id)
    query = _lessons_between(caller.school_id, days).where(Lesson.teacher_id == teacher_id)
    return _calendar(session, "Расписание учителя", session.scalars(query))


def student_feed(
    session: Session, caller: Principal, student_id: str, days: tuple[date, date]
) -> bytes:
    enrolment = current_enrolment(session, caller.school_id, student_id)
    # A student of a class out of the caller's reach is answered as one in no class.
    if enrolment is None or not sees_class(session, caller, enrolment.class_id):
        raise ApiError(404, "not_enrolled", "The student is in no class of this school.")
    school_class = roster.class_of(session, caller.school_id, enrolment.class_id)
    # The class's own lessons and those of the student's groups, not the other groups'.
    query = _lessons_between(caller.school_id, days).where(
        Lesson.class_id == school_class.class_id,
        or_(
            Lesson.group_id.is_(None),
            Lesson.group_id.in_(group_ids_of(session, caller.school_id, student_id)),
        ),
    )
    return _calendar(session, "Расписание ученика", session.scalars(query))


def default_days(today: date) -> tuple[date, date]:
    return today - timedelta(days=30), today + timedelta(days=120)


def check_range(days: tuple[date, date]) -> tuple[date, date]:
    first, last = days
    if last < first or last - first > LONGEST_RANGE:
        raise ApiError(
            422,
            "bad_range",
            "`to` must not be before `from`, and the range at most 400 days.",
            {"to": "Out of range."},
        )
    return days


def _require_teacher_in_reach(session: Session, caller: Principal, teacher_id: str) -> None:
    """A teacher reads their own feed; the director and deputy any teacher's of the school
    (R-ROLE-2). Any other id, like one the school does not know, is not found."""
    if teacher_id == caller.user_id:
        return
    if caller.has_any_role(*roster.OVERSEES_ALL_JOURNALS) and roster.works_here(
        session, caller.school_id, teacher_id
    ):
        return
    raise ApiError(
        404,
        "teacher_not_found",
        "No teacher of this school by that id.",
        {"teacher_id": "Unknown in this school."},
    )


def _lessons_between(school_id: str, days: tuple[date, date]) -> Select[tuple[Lesson]]:
    first, last = days
    return (
        select(Lesson)
        .where(Lesson.school_id == school_id, Lesson.date >= first, Lesson.date <= last)
        .order_by(Lesson.starts_at)
    )


def _calendar(session: Session, name: str, lessons: Iterable[Lesson]) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//school//journal//RU")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    names = _NameBook(session)
    stamp = datetime.now(UTC)
    for lesson in lessons:
        calendar.add_component(_event(lesson, names, stamp))
    return calendar.to_ical()


def _event(lesson: Lesson, names: _NameBook, stamp: datetime) -> CalendarEvent:
    event = CalendarEvent()
    event.add("uid", f"{lesson.lesson_id}@journal")
    event.add("dtstamp", stamp)
    event.add("dtstart", as_utc(lesson.starts_at))
    event.add("dtend", as_utc(lesson.ends_at))
    event.add("sequence", lesson.version - 1)
    summary = f"{names.subject(lesson.subject_id)}, {names.school_class(lesson.class_id)}"
    if lesson.control_form:
        summary += f" — {CONTROL_FORM_NAMES[lesson.control_form]}"
    event.add("summary", summary)
    if lesson.room_id:
        event.add("location", names.room(lesson.room_id))
    if lesson.topic:
        event.add("description", lesson.topic)
    event.add("status", "CANCELLED" if lesson.status == "cancelled" else "CONFIRMED")
    return event


class _NameBook:
    """Names of subjects, classes and rooms, each read once per feed."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._names: dict[tuple[type, str], str] = {}

    def subject(self, subject_id: str) -> str:
        return self._name(Subject, subject_id)

    def school_class(self, class_id: str) -> str:
        return self._name(SchoolClass, class_id)

    def room(self, room_id: str) -> str:
        return self._name(Room, room_id)

    def _name(self, table: type, key: str) -> str:
        if (table, key) not in self._names:
            row = self._session.get(table, key)
            self._names[table, key] = row.name if row is not None else ""
        return self._names[table, key]
