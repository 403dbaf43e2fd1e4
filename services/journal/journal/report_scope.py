"""Who sees which report (R-ROLE-2…4), and the rows a report may read.

The director and deputy director see every class of the school; a class teacher sees
every subject of their own class; a subject teacher sees only the subjects they teach
in a class. A report therefore runs over a class and, for a subject teacher, a subset
of its subjects: `ReportScope.subject_ids` is None when every subject is visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from journal.models import Assignment, Enrolment, Lesson, Period, SchoolClass, Subject
from journal.reach import refusal
from journal.roster import class_not_found, class_of
from schoolkit.auth import DEPUTY_DIRECTOR, DIRECTOR, Principal
from schoolkit.errors import ApiError

SEES_THE_WHOLE_SCHOOL = (DIRECTOR, DEPUTY_DIRECTOR)  # R-ROLE-2


@dataclass(frozen=True)
class DateRange:
    period_id: str | None
    starts_on: date | None
    ends_on: date | None


@dataclass(frozen=True)
class ReportScope:
    school_class: SchoolClass
    subject_ids: frozenset[str] | None

    @property
    def class_id(self) -> str:
        return self.school_class.class_id

    def lessons(self, *columns: Any, dates: DateRange) -> Select[Any]:
        """A select of `columns` over the lessons of this class this caller may see."""
        query = select(*columns).where(Lesson.class_id == self.class_id)
        if self.subject_ids is not None:
            query = query.where(Lesson.subject_id.in_(self.subject_ids))
        return within(query, dates)


def class_scope(
    session: Session, caller: Principal, class_id: str, not_found: ApiError | None = None
) -> ReportScope:
    """The class's report as this caller may read it; a class out of their reach is
    `not_found` (by default the class's own: reach.py), a student's report passes the
    student's."""
    school_class = class_of(session, caller.school_id, class_id)
    if sees_whole_class(caller, school_class):
        return ReportScope(school_class, None)
    taught = frozenset(
        session.scalars(
            select(Assignment.subject_id).where(
                Assignment.teacher_id == caller.user_id,
                Assignment.class_id == school_class.class_id,
            )
        )
    )
    if not taught:
        raise refusal(
            session,
            caller,
            [school_class.class_id],
            not_found=not_found or class_not_found(),
            forbidden=ApiError(
                403,
                "not_your_class",
                "You neither teach in this class nor lead it.",
                {"class_id": "Not your class."},
            ),
        )
    return ReportScope(school_class, taught)


def sees_whole_class(caller: Principal, school_class: SchoolClass) -> bool:
    return (
        caller.has_any_role(*SEES_THE_WHOLE_SCHOOL)
        or school_class.class_teacher_id == caller.user_id
    )


def student_class(session: Session, school_id: str, student_id: str) -> str:
    """The class a student is in now, or was in last when they have left."""
    enrolment = session.scalars(
        select(Enrolment)
        .where(Enrolment.school_id == school_id, Enrolment.student_id == student_id)
        .order_by(Enrolment.left_on.is_(None).desc(), Enrolment.enrolled_on.desc())
    ).first()
    if enrolment is None:
        raise student_not_found()
    return enrolment.class_id


def student_not_found() -> ApiError:
    return ApiError(404, "student_not_found", "No such student here.", {"student_id": "Unknown."})


def class_students(session: Session, class_id: str) -> list[str]:
    query = (
        select(Enrolment.student_id)
        .where(Enrolment.class_id == class_id, Enrolment.left_on.is_(None))
        .order_by(Enrolment.enrolled_on, Enrolment.student_id)
    )
    return list(session.scalars(query))


def date_range(session: Session, school_id: str, period_id: str | None) -> DateRange:
    """The days of a period of this school; every day when no period is named."""
    if period_id is None:
        return DateRange(None, None, None)
    period = period_of(session, school_id, period_id)
    return DateRange(period.period_id, period.starts_on, period.ends_on)


def period_of(session: Session, school_id: str, period_id: str) -> Period:
    period = session.get(Period, str(period_id))
    if period is None or period.school_id != school_id:
        raise ApiError(404, "period_not_found", "No such period.", {"period_id": "Unknown."})
    return period


def within(query: Select[Any], dates: DateRange) -> Select[Any]:
    # By day, not by Lesson.period_id: a lesson belongs to its quarter, and the year
    # period that spans the quarters must still find it.
    if dates.starts_on is not None:
        query = query.where(Lesson.date >= dates.starts_on)
    if dates.ends_on is not None:
        query = query.where(Lesson.date <= dates.ends_on)
    return query


def subject_names(session: Session, school_id: str, subject_ids: set[str]) -> list[dict[str, Any]]:
    query = (
        select(Subject.subject_id, Subject.name, Subject.short_name)
        .where(Subject.school_id == school_id, Subject.subject_id.in_(subject_ids))
        .order_by(Subject.name)
    )
    return [dict(row._mapping) for row in session.execute(query)]
