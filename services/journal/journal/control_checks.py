"""The control checks of a class journal and the teachers' compliance (R-JRN-12, R-JRN-13).

For a class and a period, up to a day (`as_of`, today by default, so that lessons still
to come are not reported as empty): lessons without a topic, homework, marks or
attendance; lessons given by someone other than the teaching load's teacher
(substituted) and lessons not held; mark density (marks per student and subject against
a minimum); planned lessons (hours a week × study weeks) against those held.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Date, and_, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session

from journal.models import Assignment, Attendance, Holiday, Homework, Lesson, Mark
from journal.report_scope import (
    DateRange,
    ReportScope,
    class_scope,
    class_students,
    period_of,
)
from schoolkit.auth import Principal

NOT_HELD = ("cancelled", "missed")
STUDY_DAYS_A_WEEK = 5


def class_checks(
    session: Session,
    caller: Principal,
    class_id: str,
    period_id: str,
    *,
    as_of: date,
    min_marks: int,
) -> dict[str, Any]:
    scope = class_scope(session, caller, class_id)
    period = period_of(session, caller.school_id, period_id)
    whole = DateRange(period.period_id, period.starts_on, period.ends_on)
    until = DateRange(period.period_id, period.starts_on, min(as_of, period.ends_on))
    lessons = _lesson_facts(session, scope, until)
    held = [lesson for lesson in lessons if lesson["status"] not in NOT_HELD]
    return {
        "class_id": scope.class_id,
        "period_id": period.period_id,
        "as_of": min(as_of, period.ends_on).isoformat(),
        "lessons_held": len(held),
        "lessons_without_topic": [_brief(x) for x in held if not x["topic"]],
        "lessons_without_homework": [_brief(x) for x in held if not x["has_homework"]],
        "lessons_without_marks": [_brief(x) for x in held if not x["has_marks"]],
        "lessons_without_attendance": [_brief(x) for x in held if not x["has_attendance"]],
        "substituted_lessons": [_brief(x) for x in held if x["substituted"]],
        "missed_lessons": [_brief(x) for x in lessons if x["status"] in NOT_HELD],
        "mark_density": _mark_density(session, scope, until, min_marks),
        "planned_vs_held": _planned_vs_held(session, scope, whole, until, held),
    }


def teacher_compliance(
    session: Session,
    caller: Principal,
    period_id: str,
    *,
    as_of: date,
    late_after_days: int,
    everyone: bool,
) -> dict[str, Any]:
    """Per teacher: lessons held, without topic, without attendance, and entries made late
    (marks and attendance recorded more than `late_after_days` after the lesson's day)."""
    period = period_of(session, caller.school_id, period_id)
    until = min(as_of, period.ends_on)
    in_period = and_(
        Lesson.school_id == caller.school_id,
        Lesson.date >= period.starts_on,
        Lesson.date <= until,
        Lesson.status.not_in(NOT_HELD),
    )
    if not everyone:
        in_period = and_(in_period, Lesson.teacher_id == caller.user_id)
    teachers: dict[str, dict[str, Any]] = {}
    for row in session.execute(_lesson_compliance_query(in_period)):
        teachers[row.teacher_id] = {
            "teacher_id": row.teacher_id,
            "lessons_held": row.held,
            "lessons_without_topic": row.without_topic,
            "lessons_without_attendance": row.without_attendance,
            "late_marks": 0,
            "late_attendance": 0,
        }
    for author, table in (("late_marks", Mark), ("late_attendance", Attendance)):
        for row in session.execute(_late_entries_query(table, in_period, late_after_days)):
            if row.teacher_id in teachers:
                teachers[row.teacher_id][author] = row.late
    return {
        "period_id": period.period_id,
        "as_of": until.isoformat(),
        "late_after_days": late_after_days,
        "teachers": sorted(teachers.values(), key=lambda t: t["teacher_id"]),
    }


def _lesson_compliance_query(in_period: Any) -> Any:
    attended = exists().where(Attendance.lesson_id == Lesson.lesson_id)
    return (
        select(
            Lesson.teacher_id,
            func.count().label("held"),
            func.count()
            .filter(or_(Lesson.topic.is_(None), Lesson.topic == ""))
            .label("without_topic"),
            func.count().filter(~attended).label("without_attendance"),
        )
        .where(in_period)
        .group_by(Lesson.teacher_id)
    )


def _late_entries_query(table: Any, in_period: Any, late_after_days: int) -> Any:
    # The lesson's teacher answers for the lesson's entries, whoever typed them.
    recorded_on = cast(table.recorded_at, Date)
    return (
        select(Lesson.teacher_id, func.count().label("late"))
        .join(table, table.lesson_id == Lesson.lesson_id)
        .where(in_period, recorded_on > Lesson.date + literal(late_after_days))
        .group_by(Lesson.teacher_id)
    )


def _lesson_facts(session: Session, scope: ReportScope, dates: DateRange) -> list[dict[str, Any]]:
    assigned = exists().where(
        Assignment.class_id == Lesson.class_id,
        Assignment.subject_id == Lesson.subject_id,
        Assignment.teacher_id == Lesson.teacher_id,
    )
    query = scope.lessons(
        Lesson.lesson_id,
        Lesson.date,
        Lesson.slot,
        Lesson.subject_id,
        Lesson.teacher_id,
        Lesson.status,
        Lesson.topic,
        exists().where(Homework.lesson_id == Lesson.lesson_id).label("has_homework"),
        exists().where(Mark.lesson_id == Lesson.lesson_id).label("has_marks"),
        exists().where(Attendance.lesson_id == Lesson.lesson_id).label("has_attendance"),
        (~assigned).label("substituted"),
        dates=dates,
    ).order_by(Lesson.date, Lesson.slot)
    return [dict(row._mapping) for row in session.execute(query)]


def _brief(lesson: dict[str, Any]) -> dict[str, Any]:
    return {
        "lesson_id": lesson["lesson_id"],
        "date": lesson["date"].isoformat(),
        "slot": lesson["slot"],
        "subject_id": lesson["subject_id"],
        "teacher_id": lesson["teacher_id"],
    }


def _mark_density(
    session: Session, scope: ReportScope, dates: DateRange, min_marks: int
) -> list[dict[str, Any]]:
    """Marks per student and subject in the period; a student with none still shows."""
    counts = {
        (row.student_id, row.subject_id): row.marks
        for row in session.execute(
            scope.lessons(
                Mark.student_id, Lesson.subject_id, func.count().label("marks"), dates=dates
            )
            .join(Mark, Mark.lesson_id == Lesson.lesson_id)
            .group_by(Mark.student_id, Lesson.subject_id)
        )
    }
    subjects = sorted({subject for _, subject in counts} | set(_visible_subjects(session, scope)))
    students = class_students(session, scope.class_id)
    students += sorted({student for student, _ in counts} - set(students))
    return [
        {
            "student_id": student,
            "subject_id": subject,
            "marks": counts.get((student, subject), 0),
            "below_minimum": counts.get((student, subject), 0) < min_marks,
        }
        for student in students
        for subject in subjects
    ]


def _visible_subjects(session: Session, scope: ReportScope) -> list[str]:
    query = select(Assignment.subject_id).where(Assignment.class_id == scope.class_id)
    subjects = set(session.scalars(query))
    return sorted(subjects if scope.subject_ids is None else subjects & scope.subject_ids)


def _planned_vs_held(
    session: Session,
    scope: ReportScope,
    period: DateRange,
    until: DateRange,
    held: list[dict[str, Any]],
) -> list[dict[str, Any]]:
    holidays = _holidays(session, scope.school_class.year_id)
    weeks_total = _study_weeks(period, holidays)
    weeks_so_far = _study_weeks(until, holidays)
    hours: dict[str, int] = {}
    query = select(Assignment.subject_id, Assignment.hours_per_week).where(
        Assignment.class_id == scope.class_id
    )
    for subject_id, per_week in session.execute(query):
        if scope.subject_ids is None or subject_id in scope.subject_ids:
            hours[subject_id] = hours.get(subject_id, 0) + (per_week or 0)
    held_by_subject: dict[str, int] = {}
    for lesson in held:
        held_by_subject[lesson["subject_id"]] = held_by_subject.get(lesson["subject_id"], 0) + 1
    return [
        {
            "subject_id": subject_id,
            "hours_per_week": hours.get(subject_id, 0),
            "planned": round(hours.get(subject_id, 0) * weeks_total),
            "planned_to_date": round(hours.get(subject_id, 0) * weeks_so_far),
            "held": held_by_subject.get(subject_id, 0),
        }
        for subject_id in sorted(set(hours) | set(held_by_subject))
    ]


def _holidays(session: Session, year_id: str) -> set[date]:
    days: set[date] = set()
    for starts, ends in session.execute(
        select(Holiday.starts_on, Holiday.ends_on).where(Holiday.year_id == year_id)
    ):
        days.update(starts + timedelta(n) for n in range((ends - starts).days + 1))
    return days


def _study_weeks(days: DateRange, holidays: set[date]) -> float:
    if days.starts_on is None or days.ends_on is None or days.ends_on < days.starts_on:
        return 0.0
    span = (days.ends_on - days.starts_on).days + 1
    every_day = (days.starts_on + timedelta(n) for n in range(span))
    study_days = sum(1 for day in every_day if day.weekday() < 5 and day not in holidays)
    return study_days / STUDY_DAYS_A_WEEK
