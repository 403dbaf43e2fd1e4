"""What a diary shows (R-DRY-1): the week, marks, attendance, homework, timetable, teachers, messages.

Each function takes a diary the caller may open (diary.access) and returns plain data
for the API to serialise. The week view is two indexed queries: the lessons of the
student's classes in the week with subject, teacher, attendance and homework joined in,
and the student's marks of the week.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Boolean, Select, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, aliased

from diary import changes
from diary.access import StudentDiary
from diary.models import (
    Attendance,
    EnrolmentSpan,
    FinalMark,
    Holiday,
    Homework,
    Lesson,
    Mark,
    Message,
    MessageRecipient,
    Period,
    Person,
    SchoolClass,
    SchoolYear,
    Subject,
)
from schoolkit.times import school_iso

FAR_FUTURE = date(9999, 12, 31)


@dataclass(frozen=True)
class DateRange:
    starts_on: date
    ends_on: date

    @classmethod
    def week_of(cls, day: date) -> DateRange:
        monday = day - timedelta(days=day.weekday())
        return cls(monday, monday + timedelta(days=6))

    def days(self) -> list[date]:
        count = (self.ends_on - self.starts_on).days + 1
        return [self.starts_on + timedelta(days=offset) for offset in range(count)]


def etag(session: Session, diary: StudentDiary) -> str:
    """A weak validator from the change counters: one indexed query, no body hashing.

    Free when the query that opened the diary read the counters already (a guardian's).
    """
    if diary.etag is not None:
        return diary.etag
    return changes.counters(session, diary.school_id, diary.student_id, diary.class_ids)


def person_name(session: Session, school_id: str, person_id: str | None) -> str | None:
    if person_id is None:
        return None
    person = session.get(Person, (school_id, person_id))
    return _full_name(person.last_name, person.first_name, person.middle_name) if person else None


def _full_name(last: str | None, first: str | None, middle: str | None) -> str | None:
    if last is None:
        return None
    return " ".join(part for part in (last, first, middle) if part)


# --- the week ---------------------------------------------------------------------------


def week(session: Session, diary: StudentDiary, day: date) -> dict[str, Any]:
    span = DateRange.week_of(day)
    lessons = lessons_between(session, diary, span, with_student_data=True)
    marks = marks_between(session, diary, span)
    for mark in marks:
        lesson = lessons.get(mark["lesson_id"])
        if lesson is not None:
            lesson["marks"].append(mark)
    holidays = _holidays_between(session, diary.school_id, span)
    by_day: dict[date, list[dict[str, Any]]] = defaultdict(list)
    for lesson in lessons.values():
        by_day[lesson["date"]].append(lesson)
    return {
        "student_id": diary.student_id,
        "student_name": person_name(session, diary.school_id, diary.student_id),
        "from": span.starts_on,
        "to": span.ends_on,
        "days": [
            {"date": d, "holiday": holidays.get(d), "lessons": by_day.get(d, [])}
            for d in span.days()
        ],
        "unplaced_marks": [m for m in marks if m["lesson_id"] not in lessons],
    }


def lessons_between(
    session: Session, diary: StudentDiary, span: DateRange, *, with_student_data: bool
) -> dict[str, dict[str, Any]]:
    """The student's lessons in `span`, in order, keyed by lesson id (query 1 of the week)."""
    rows = session.execute(
        _lessons_statement(),
        {
            "school_id": diary.school_id,
            "student_id": diary.student_id,
            "class_ids": diary.class_ids,
            "starts_on": span.starts_on,
            "ends_on": span.ends_on,
            "with_student_data": with_student_data,
        },
    )
    lessons: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row.group_id is not None and row.group_id not in row.group_ids.split():
            continue
        entry = lessons.get(row.lesson_id) or _lesson_entry(row, with_student_data)
        lessons[row.lesson_id] = entry
        known = {h["homework_id"] for h in entry["homework"]}
        if (
            row.homework_id
            and row.homework_id not in known
            and _set_for(row.homework_for, diary.student_id)
        ):
            entry["homework"].append(
                {"homework_id": row.homework_id, "text": row.homework_text, "due_on": row.due_on}
            )
    return lessons


@cache
def _lessons_statement() -> Select[Any]:
    """Built once: constructing a select of six tables costs more than running it."""
    enrolled = aliased(EnrolmentSpan)
    teacher = aliased(Person)
    lesson = Lesson.__table__.c
    return (
        select(
            *Lesson.__table__.c,
            Subject.name.label("subject_name"),
            teacher.last_name,
            teacher.first_name,
            teacher.middle_name,
            enrolled.group_ids,
            Attendance.status.label("attendance_status"),
            Attendance.reason.label("attendance_reason"),
            Homework.homework_id,
            Homework.text.label("homework_text"),
            Homework.due_on,
            Homework.student_ids.label("homework_for"),
        )
        .join(
            enrolled,
            and_(
                enrolled.school_id == lesson.school_id,
                enrolled.class_id == lesson.class_id,
                enrolled.student_id == bindparam("student_id"),
                lesson.lesson_date >= enrolled.starts_on,
                lesson.lesson_date <= func.coalesce(enrolled.ends_on, FAR_FUTURE),
            ),
        )
        .outerjoin(
            Subject,
            and_(Subject.school_id == lesson.school_id, Subject.subject_id == lesson.subject_id),
        )
        .outerjoin(
            teacher,
            and_(teacher.school_id == lesson.school_id, teacher.person_id == lesson.teacher_id),
        )
        .outerjoin(
            Attendance,
            and_(
                Attendance.school_id == lesson.school_id,
                Attendance.lesson_id == lesson.lesson_id,
                Attendance.student_id == bindparam("student_id"),
                bindparam("with_student_data", type_=Boolean),
            ),
        )
        .outerjoin(
            Homework,
            and_(Homework.school_id == lesson.school_id, Homework.lesson_id == lesson.lesson_id),
        )
        .where(
            lesson.school_id == bindparam("school_id"),
            lesson.class_id.in_(bindparam("class_ids", expanding=True)),
            lesson.lesson_date.between(bindparam("starts_on"), bindparam("ends_on")),
        )
        .order_by(lesson.lesson_date, lesson.slot, lesson.starts_at)
    )


def _lesson_entry(row: Any, with_student_data: bool) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "lesson_id": row.lesson_id,
        "date": row.lesson_date,
        "slot": row.slot,
        # The school's wall clock: a 09:15 lesson reads 09:15+03:00 on every client.
        "starts_at": school_iso(row.starts_at),
        "ends_at": school_iso(row.ends_at),
        "status": row.status,
        "subject_id": row.subject_id,
        "subject": row.subject_name,
        "teacher_id": row.teacher_id,
        "teacher": _full_name(row.last_name, row.first_name, row.middle_name),
        "substitution": row.substituted_teacher_id is not None,
        "transferred_from": (
            {"date": row.transferred_from_date, "slot": row.transferred_from_slot}
            if row.transferred_from_date
            else None
        ),
        "topic": row.topic,
        "homework_summary": row.homework,
        "homework": [],
    }
    if with_student_data:
        entry["marks"] = []
        entry["attendance"] = (
            {"status": row.attendance_status, "reason": row.attendance_reason}
            if row.attendance_status
            else None
        )
    return entry


def _set_for(student_ids: str | None, student_id: str) -> bool:
    return student_ids is None or student_id in student_ids.split()


def marks_between(session: Session, diary: StudentDiary, span: DateRange) -> list[dict[str, Any]]:
    """The student's marks of lessons in `span` (query 2 of the week)."""
    rows = session.execute(
        _marks_statement(),
        {
            "school_id": diary.school_id,
            "student_id": diary.student_id,
            "starts_on": span.starts_on,
            "ends_on": span.ends_on,
        },
    )
    return [_mark_entry(mark) for mark in rows]


@cache
def _marks_statement() -> Select[Any]:
    mark = Mark.__table__.c
    return (
        select(*Mark.__table__.c)
        .where(
            mark.school_id == bindparam("school_id"),
            mark.student_id == bindparam("student_id"),
            mark.lesson_date.between(bindparam("starts_on"), bindparam("ends_on")),
        )
        .order_by(mark.lesson_date, mark.recorded_at)
    )


def _mark_entry(mark: Any) -> dict[str, Any]:
    return {
        "mark_id": mark.mark_id,
        "lesson_id": mark.lesson_id,
        "date": mark.lesson_date,
        "subject_id": mark.subject_id,
        "teacher_id": mark.teacher_id,
        "work_type": mark.work_type,
        "weight": mark.weight,
        "scale": mark.scale,
        "value": mark.value,
        "comment": mark.comment,
    }


def _holidays_between(session: Session, school_id: str, span: DateRange) -> dict[date, str]:
    rows = session.execute(
        select(Holiday.name, Holiday.starts_on, Holiday.ends_on).where(
            Holiday.school_id == school_id,
            Holiday.starts_on <= span.ends_on,
            Holiday.ends_on >= span.starts_on,
        )
    ).all()
    return {
        day: row.name for row in rows for day in span.days() if row.starts_on <= day <= row.ends_on
    }


# --- marks by subject, with weighted averages ------------------------------------------


def current_period(session: Session, school_id: str, today: date) -> Period | None:
    return session.scalars(
        select(Period)
        .where(Period.school_id == school_id, Period.starts_on <= today, Period.ends_on >= today)
        .order_by(Period.starts_on.desc())
    ).first()


def period_by_id(session: Session, school_id: str, period_id: str) -> Period | None:
    return session.get(Period, (school_id, period_id))


def marks_by_subject(session: Session, diary: StudentDiary, period: Period) -> dict[str, Any]:
    subject_names = _subject_names(session, diary.school_id)
    marks = session.scalars(
        select(Mark)
        .where(
            Mark.school_id == diary.school_id,
            Mark.student_id == diary.student_id,
            Mark.period_id == period.period_id,
        )
        .order_by(Mark.lesson_date, Mark.recorded_at)
    )
    finals = {
        final.subject_id: final.value
        for final in session.scalars(
            select(FinalMark).where(
                FinalMark.school_id == diary.school_id,
                FinalMark.student_id == diary.student_id,
                FinalMark.period_id == period.period_id,
            )
        )
    }
    grouped: dict[str, list[Mark]] = defaultdict(list)
    for mark in marks:
        grouped[mark.subject_id].append(mark)
    subjects = [
        {
            "subject_id": subject_id,
            "subject": subject_names.get(subject_id),
            "marks": [_mark_entry(mark) for mark in subject_marks],
            "weighted_average": weighted_average(subject_marks),
            "final": finals.pop(subject_id, None),
        }
        for subject_id, subject_marks in grouped.items()
    ]
    subjects += [
        {
            "subject_id": subject_id,
            "subject": subject_names.get(subject_id),
            "marks": [],
            "weighted_average": None,
            "final": value,
        }
        for subject_id, value in finals.items()
    ]
    subjects.sort(key=lambda entry: entry["subject"] or "")
    return {
        "student_id": diary.student_id,
        "period": {
            "period_id": period.period_id,
            "name": period.name,
            "starts_on": period.starts_on,
            "ends_on": period.ends_on,
        },
        "subjects": subjects,
    }


def weighted_average(marks: list[Mark]) -> float | None:
    """Σ(value·weight)/Σweight over marks with a numeric value (pass/fail marks do not count)."""
    numeric = [(float(mark.value), mark.weight) for mark in marks if _is_number(mark.value)]
    total_weight = sum(weight for _, weight in numeric)
    if not total_weight:
        return None
    return round(sum(value * weight for value, weight in numeric) / total_weight, 2)


def _is_number(value: str) -> bool:
    try:
        float(value)
    except ValueError:
        return False
    return True


def _subject_names(session: Session, school_id: str) -> dict[str, str]:
    rows = session.execute(
        select(Subject.subject_id, Subject.name).where(Subject.school_id == school_id)
    )
    return {row.subject_id: row.name for row in rows}


# --- attendance, homework, timetable, teachers, messages -------------------------------


def attendance_summary(session: Session, diary: StudentDiary, span: DateRange) -> dict[str, Any]:
    subject_names = _subject_names(session, diary.school_id)
    records = session.scalars(
        select(Attendance)
        .where(
            Attendance.school_id == diary.school_id,
            Attendance.student_id == diary.student_id,
            Attendance.lesson_date.between(span.starts_on, span.ends_on),
        )
        .order_by(Attendance.lesson_date)
    ).all()
    totals = {"present": 0, "absent": 0, "late": 0}
    reasons: dict[str, int] = defaultdict(int)
    by_subject: dict[str, dict[str, int]] = defaultdict(lambda: {"absent": 0, "late": 0})
    for record in records:
        totals[record.status] += 1
        if record.status != "present":
            by_subject[record.subject_id][record.status] += 1
            if record.reason:
                reasons[record.reason] += 1
    return {
        "student_id": diary.student_id,
        "from": span.starts_on,
        "to": span.ends_on,
        "totals": totals,
        "absences_by_reason": dict(reasons),
        "by_subject": [
            {"subject_id": s, "subject": subject_names.get(s), **counts}
            for s, counts in by_subject.items()
        ],
        "missed": [
            {
                "date": r.lesson_date,
                "lesson_id": r.lesson_id,
                "subject": subject_names.get(r.subject_id),
                "status": r.status,
                "reason": r.reason,
            }
            for r in records
            if r.status != "present"
        ],
    }


def homework_due(session: Session, diary: StudentDiary, span: DateRange) -> list[dict[str, Any]]:
    subject_names = _subject_names(session, diary.school_id)
    rows = session.scalars(
        select(Homework)
        .where(
            Homework.school_id == diary.school_id,
            Homework.class_id.in_(diary.class_ids),
            Homework.due_on.between(span.starts_on, span.ends_on),
        )
        .order_by(Homework.due_on, Homework.subject_id)
    )
    return [
        {
            "homework_id": h.homework_id,
            "lesson_id": h.lesson_id,
            "subject_id": h.subject_id,
            "subject": subject_names.get(h.subject_id),
            "assigned_on": h.assigned_on,
            "due_on": h.due_on,
            "text": h.text,
        }
        for h in rows
        if diary.takes_part(h.class_id, h.group_id, h.assigned_on)
        and _set_for(h.student_ids, diary.student_id)
    ]


def timetable(session: Session, diary: StudentDiary, day: date) -> dict[str, Any]:
    span = DateRange.week_of(day)
    lessons = lessons_between(session, diary, span, with_student_data=False)
    return {
        "student_id": diary.student_id,
        "from": span.starts_on,
        "to": span.ends_on,
        "lessons": list(lessons.values()),
    }


def teachers(session: Session, diary: StudentDiary, today: date) -> list[dict[str, Any]]:
    """Who teaches the student what in the current class, and who leads the class."""
    current = diary.current_span(today)
    if current is None:
        return []
    rows = session.execute(
        select(Lesson.teacher_id, Lesson.subject_id, Lesson.group_id)
        .where(Lesson.school_id == diary.school_id, Lesson.class_id == current.class_id)
        .distinct()
    ).all()
    subject_names = _subject_names(session, diary.school_id)
    taught: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.group_id is None or row.group_id in current.group_ids:
            taught[row.teacher_id].add(row.subject_id)
    school_class = session.get(SchoolClass, (diary.school_id, current.class_id))
    leader = school_class.class_teacher_id if school_class else None
    if leader:
        taught.setdefault(leader, set())
    return sorted(
        (
            {
                "teacher_id": teacher_id,
                "name": person_name(session, diary.school_id, teacher_id),
                "class_teacher": teacher_id == leader,
                "subjects": sorted(filter(None, (subject_names.get(s) for s in subjects))),
            }
            for teacher_id, subjects in taught.items()
        ),
        key=lambda entry: (not entry["class_teacher"], entry["name"] or ""),
    )


def messages(session: Session, diary: StudentDiary, limit: int = 100) -> list[dict[str, Any]]:
    """Messages to the student's class (or group) and to the student in person, newest first."""
    to_student = select(MessageRecipient.message_id).where(
        MessageRecipient.school_id == diary.school_id,
        MessageRecipient.student_id == diary.student_id,
    )
    rows = session.scalars(
        select(Message)
        .where(
            Message.school_id == diary.school_id,
            or_(
                and_(Message.addressed.is_(False), Message.class_id.in_(diary.class_ids)),
                Message.message_id.in_(to_student),
            ),
        )
        .order_by(Message.sent_at.desc())
        .limit(limit)
    )
    return [
        {
            "message_id": m.message_id,
            "kind": m.kind,
            "text": m.text,
            "sent_at": m.sent_at,
            "teacher_id": m.teacher_id,
            "teacher": person_name(session, diary.school_id, m.teacher_id),
            "lesson_id": m.lesson_id,
            "subject_id": m.subject_id,
            "personal": m.addressed,
        }
        for m in rows
        if m.addressed
        or m.group_id is None
        or diary.takes_part(m.class_id, m.group_id, m.sent_at.date())
    ]


def visible_message(session: Session, diary: StudentDiary, message_id: str) -> bool:
    return any(m["message_id"] == message_id for m in messages(session, diary, limit=1000))


def own_mark(session: Session, diary: StudentDiary, mark_id: str) -> bool:
    mark = session.get(Mark, (diary.school_id, mark_id))
    return mark is not None and mark.student_id == diary.student_id


def calendar(session: Session, school_id: str) -> list[dict[str, Any]]:
    """The school's years with their study periods and holidays (R-DRY-1: academic calendar)."""
    years = session.scalars(
        select(SchoolYear).where(SchoolYear.school_id == school_id).order_by(SchoolYear.starts_on)
    ).all()
    periods = session.scalars(
        select(Period).where(Period.school_id == school_id).order_by(Period.starts_on)
    ).all()
    holidays = session.scalars(
        select(Holiday).where(Holiday.school_id == school_id).order_by(Holiday.starts_on)
    ).all()
    return [
        {
            "year_id": year.year_id,
            "name": year.name,
            "starts_on": year.starts_on,
            "ends_on": year.ends_on,
            "periods": [
                {
                    "period_id": p.period_id,
                    "kind": p.kind,
                    "name": p.name,
                    "starts_on": p.starts_on,
                    "ends_on": p.ends_on,
                }
                for p in periods
                if p.year_id == year.year_id
            ],
            "holidays": [
                {"name": h.name, "starts_on": h.starts_on, "ends_on": h.ends_on}
                for h in holidays
                if h.year_id == year.year_id
            ],
        }
        for year in years
    ]
