"""Every check of a write to a lesson, asked in one SELECT (R-ROLE-2..4, R-JRN-3, R-JRN-10).

Marks and attendance are the journal's most frequent writes, and each must pass all of
these: the lesson is the caller's school's; the caller oversees the journals, teaches the
lesson's class or its group in its subject, or substitutes in it; its period is not
locked by final marks; the student is in its class on its day (and in its group); the
work type is the school's, on a scale the school has. Each rule stays a query of the
module that owns it (roster, groups, finals, contingent); here they are the columns of
one statement over the lesson, built once, and the answers are checked in the order the
rules always were, so that a refusal names the same rule as before.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from journal.contingent import class_on_query
from journal.finals import locks_of, require_open
from journal.groups import group_load, membership
from journal.models import Assignment, GradingScale, Lesson, StudyGroup, WorkType
from journal.reach import refusal
from journal.roster import OVERSEES_ALL_JOURNALS, class_load
from journal.scales import unknown_work_type
from schoolkit.auth import Principal
from schoolkit.errors import ApiError

# What the writes use of their lesson (the answer's rows read like a Lesson).
LESSON_COLUMNS = (
    Lesson.lesson_id,
    Lesson.school_id,
    Lesson.class_id,
    Lesson.subject_id,
    Lesson.group_id,
    Lesson.period_id,
    Lesson.date,
    Lesson.teacher_id,
    Lesson.substituted_teacher_id,
)


def checked_lesson(
    session: Session,
    caller: Principal,
    lesson_id: str,
    *,
    student_id: str | None = None,
    work_type_id: str | None = None,
    not_found: ApiError | None = None,
) -> Row[Any]:
    """The lesson, if the caller may write it now, and for this student and work type when
    named: its columns, and `work_type_code`, `weight`, `scale`, `own_scale_marks`. A
    lesson out of the caller's reach answers `not_found` (by default the lesson's own)."""
    statement = _checks(student_id is not None, work_type_id is not None)
    parameters = {
        "lesson_id": str(lesson_id),
        "school_id": caller.school_id,
        "caller_id": caller.user_id,
        "student_id": student_id,
        "work_type_id": None if work_type_id is None else str(work_type_id),
    }
    lesson = session.execute(statement, parameters).first()
    if lesson is None:
        raise not_found or lesson_not_found()
    oversees = caller.has_any_role(*OVERSEES_ALL_JOURNALS)
    if not (lesson.teaches or oversees or substitutes_in(caller, lesson)):
        # Only after a refusal: the common write pays for no further query.
        raise refusal(
            session,
            caller,
            [lesson.class_id],
            not_found=not_found or lesson_not_found(),
            forbidden=not_your_class(),
        )
    require_open(caller, locked=lesson.locked)
    if student_id is not None:
        _require_in_lesson(lesson)
    if work_type_id is not None and lesson.work_type_code is None:
        raise unknown_work_type()
    return lesson


@cache
def _checks(about_student: bool, with_work_type: bool) -> Select[Any]:
    """The lesson and the answers of its rules; the caller, student and work type come as
    parameters, so the statement is built and compiled once per kind of write."""
    query = select(*LESSON_COLUMNS, *_rule_columns(bindparam("caller_id"))).where(
        Lesson.lesson_id == bindparam("lesson_id"), Lesson.school_id == bindparam("school_id")
    )
    if about_student:
        query = query.add_columns(*_student_columns(bindparam("student_id")))
    return _with_work_type(query) if with_work_type else query


def _rule_columns(caller: Any) -> list[Any]:
    in_subject = Assignment.subject_id == Lesson.subject_id
    return [
        or_(
            exists(class_load(caller, Lesson.class_id).where(in_subject)),
            exists(group_load(caller, Lesson.group_id).where(in_subject)),
        ).label("teaches"),
        exists(
            locks_of(Lesson.period_id, Lesson.class_id, Lesson.subject_id, Lesson.group_id)
        ).label("locked"),
    ]


def _student_columns(student: Any) -> list[Any]:
    group_of_school = select(StudyGroup.group_id).where(
        StudyGroup.group_id == Lesson.group_id, StudyGroup.school_id == Lesson.school_id
    )
    return [
        class_on_query(Lesson.school_id, student, Lesson.date)
        .scalar_subquery()
        .label("class_on_day"),
        exists(group_of_school).label("group_of_school"),
        exists(membership(Lesson.group_id, student)).label("in_group"),
    ]


def _with_work_type(query: Select[Any]) -> Select[Any]:
    """The school's work type of that id and, if its scale is the school's own, its marks
    (NULL when there is no such work type, or the scale is built in or unknown)."""
    work_type = and_(
        WorkType.work_type_id == bindparam("work_type_id"), WorkType.school_id == Lesson.school_id
    )
    own_scale = and_(
        GradingScale.school_id == Lesson.school_id, GradingScale.code == WorkType.scale
    )
    return (
        query.add_columns(
            WorkType.code.label("work_type_code"),
            WorkType.weight,
            WorkType.scale,
            GradingScale.marks.label("own_scale_marks"),
        )
        .outerjoin(WorkType, work_type)
        .outerjoin(GradingScale, own_scale)
    )


def _require_in_lesson(lesson: Row[Any]) -> None:
    """A mark or an attendance record is only for a student of the lesson: enrolled in its
    class on its day and, for a group's lesson, a member of the group (memberships carry
    no dates: the group as it is now)."""
    grouped = lesson.group_id is not None
    if grouped and not lesson.group_of_school:
        raise ApiError(404, "group_not_found", "No such group.", {"group_id": "Unknown."})
    if lesson.class_on_day == lesson.class_id and (not grouped or lesson.in_group):
        return
    where = "class or group" if grouped else "class"
    raise ApiError(
        422,
        "not_in_lesson",
        "The student is not a student of this lesson.",
        {"student_id": f"Not in the lesson's {where} on {lesson.date}."},
    )


def substitutes_in(caller: Principal, lesson: Any) -> bool:
    # A substitute registered by the deputy writes the lesson they teach (R-JRN-6).
    return lesson.substituted_teacher_id is not None and lesson.teacher_id == caller.user_id


def lesson_not_found() -> ApiError:
    return ApiError(404, "lesson_not_found", "No such lesson.", {"lesson_id": "Unknown."})


def not_your_class() -> ApiError:
    return ApiError(
        403,
        "not_your_class",
        "You do not teach this subject in this class.",
        {"class_id": "Not in your teaching load."},
    )
