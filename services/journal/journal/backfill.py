"""The journal's answer to `diary.backfill.requested`: one student's year, for the diary.

The diary drops a student's marks, attendance and final marks until a diary agreement
covers them (R-DRY-3). When one does, it asks, and the journal answers with
`journal.student.snapshot`: every mark and attendance record of the student in lessons of
their current school year (the year of the class of their latest enrolment in the
request's school) and their final marks of that year's periods, each exactly as its own
event describes it, with its current `entity_version`. It is not news: only the diary
receives it, so notify tells nobody about old marks again.

The student's enrolments of that year come too, as spans of classes: the diary keeps them
for every student, but erases them with a diary when an agreement ends, and a family that
signs again needs them back. Class-level data is not repeated: the diary already keeps
lessons, topics, homework, the calendar, subjects and classes for every class. A student
the journal never enrolled in that school gets no answer.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.contingent import group_ids_of
from journal.lessons import attendance_state, mark_state
from journal.models import (
    Attendance,
    Enrolment,
    EnrolmentMove,
    Finalization,
    FinalMark,
    Lesson,
    Mark,
    Period,
    SchoolClass,
    WorkType,
)
from schoolkit.events import Event, iso_utc
from schoolkit.outbox import publish

SNAPSHOT = "journal.student.snapshot"


def on_backfill_requested(session: Session, event: Event) -> str | None:
    school, student_id = event.school_id, event.data["student_id"]
    if student_id not in event.data["person_ids"]:
        return "ignored"  # only a guardian's name was missing: identity's to answer
    year_id = current_year(session, school, student_id)
    if year_id is None:
        return "ignored"
    data = {
        "student_id": student_id,
        "year_id": year_id,
        "request_id": event.id,
        "taken_at": iso_utc(datetime.now(UTC)),
        "enrolments": enrolments_of(session, school, student_id, year_id),
        "marks": marks_of(session, school, student_id, year_id),
        "attendance": attendance_of(session, school, student_id, year_id),
        "finals": finals_of(session, school, student_id, year_id),
    }
    publish(session, Event(SNAPSHOT, data, school, subject=student_id))
    return None


def current_year(session: Session, school: str, student_id: str) -> str | None:
    """The school year of the student's latest enrolment in `school`, if any."""
    query = (
        select(SchoolClass.year_id)
        .join(Enrolment, Enrolment.class_id == SchoolClass.class_id)
        .where(Enrolment.school_id == school, Enrolment.student_id == student_id)
        .order_by(Enrolment.enrolled_on.desc())
        .limit(1)
    )
    return session.scalars(query).first()


def enrolments_of(
    session: Session, school: str, student_id: str, year_id: str
) -> list[dict[str, Any]]:
    enrolments = session.scalars(
        select(Enrolment)
        .join(SchoolClass, SchoolClass.class_id == Enrolment.class_id)
        .where(
            Enrolment.school_id == school,
            Enrolment.student_id == student_id,
            SchoolClass.year_id == year_id,
        )
        .order_by(Enrolment.enrolled_on)
    )
    groups = group_ids_of(session, school, student_id)
    return [
        {
            "enrolment_id": enrolment.enrolment_id,
            "spans": spans_of(session, enrolment, groups),
            "entity_version": enrolment.version,
        }
        for enrolment in enrolments
    ]


def spans_of(session: Session, enrolment: Enrolment, groups: list[str]) -> list[dict[str, Any]]:
    """The classes an enrolment placed the student in, from its moves, as the diary keeps them.

    A move takes effect on its day (`contingent.class_on`); group memberships have no dates,
    so only the last span carries the student's groups.
    """
    moves = session.scalars(
        select(EnrolmentMove)
        .where(EnrolmentMove.enrolment_id == enrolment.enrolment_id)
        .order_by(EnrolmentMove.on, EnrolmentMove.at)
    )
    spans: list[dict[str, Any]] = []
    for move in moves:
        if move.kind == "left" and spans:
            spans[-1]["ends_on"] = move.on.isoformat()
            continue
        if move.to_class_id is None:
            continue
        if spans and spans[-1]["starts_on"] >= move.on.isoformat():
            spans.pop()  # moved again the same day: the earlier class never held them
        elif spans:
            spans[-1]["ends_on"] = (move.on - timedelta(days=1)).isoformat()
        spans.append(
            {"class_id": move.to_class_id, "group_ids": [], "starts_on": move.on.isoformat()}
        )
    if spans:
        spans[-1]["group_ids"] = groups
    return spans


def marks_of(session: Session, school: str, student_id: str, year_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Mark, Lesson, WorkType)
        .join(Lesson, Lesson.lesson_id == Mark.lesson_id)
        .join(Period, Period.period_id == Lesson.period_id)
        .join(WorkType, WorkType.work_type_id == Mark.work_type_id)
        .where(Mark.school_id == school, Mark.student_id == student_id, Period.year_id == year_id)
        .order_by(Lesson.date, Lesson.slot, Mark.recorded_at)
    )
    return [mark_state(lesson, mark, work_type) for mark, lesson, work_type in rows]


def attendance_of(
    session: Session, school: str, student_id: str, year_id: str
) -> list[dict[str, Any]]:
    rows = session.execute(
        select(Attendance, Lesson)
        .join(Lesson, Lesson.lesson_id == Attendance.lesson_id)
        .join(Period, Period.period_id == Lesson.period_id)
        .where(
            Attendance.school_id == school,
            Attendance.student_id == student_id,
            Period.year_id == year_id,
        )
        .order_by(Lesson.date, Lesson.slot)
    )
    return [attendance_state(lesson, record) for record, lesson in rows]


def finals_of(session: Session, school: str, student_id: str, year_id: str) -> list[dict[str, Any]]:
    rows = session.execute(
        select(FinalMark, Finalization)
        .join(Finalization, Finalization.finalization_id == FinalMark.finalization_id)
        .join(Period, Period.period_id == Finalization.period_id)
        .where(
            Finalization.school_id == school,
            FinalMark.student_id == student_id,
            Period.year_id == year_id,
        )
        .order_by(Period.starts_on, Finalization.subject_id)
    )
    return [
        {
            "finalization_id": finalization.finalization_id,
            "period_id": finalization.period_id,
            "school_subject_id": finalization.subject_id,
            "scale": finalization.scale,
            # As journal.period.finalized writes it: an integer on a numeric scale.
            "value": int(final.value) if final.value.isdigit() else final.value,
            "entity_version": finalization.version,
        }
        for final, finalization in rows
    ]
