"""The class journal grid: a class's lessons of one subject in a period, with marks,
attendance and final marks (R-JRN-8…10), and who may read it (R-ROLE-2…4).

Three queries on indexed columns, however large the year, so the page stays fast.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal.models import (
    Assignment,
    Attendance,
    Finalization,
    FinalMark,
    GroupClass,
    Lesson,
    Mark,
    WorkType,
)
from journal.reach import sees_class
from journal.roster import class_not_found, class_of, subject_of, teaches
from schoolkit.auth import DEPUTY_DIRECTOR, DIRECTOR, Principal
from schoolkit.errors import ApiError


def read_grid(
    session: Session, caller: Principal, class_id: str, subject_id: str, period_id: str
) -> dict[str, Any]:
    school_class = class_of(session, caller.school_id, class_id)
    # Reach before the subject: another class with an unknown subject must not answer
    # subject_not_found, which would tell the caller that the class exists.
    if not sees_class(session, caller, school_class.class_id):
        raise class_not_found()
    subject = subject_of(session, caller.school_id, subject_id)
    only_groups = _groups_visible(
        session, caller, school_class.class_id, school_class.class_teacher_id, subject.subject_id
    )
    query = select(Lesson).where(
        Lesson.class_id == school_class.class_id,
        Lesson.subject_id == subject.subject_id,
        Lesson.period_id == period_id,
    )
    if only_groups is not None:
        query = query.where(Lesson.group_id.in_(only_groups))
    lessons = list(session.scalars(query.order_by(Lesson.date, Lesson.slot)))
    lesson_ids = [lesson.lesson_id for lesson in lessons]
    marks = session.execute(
        select(
            Mark.mark_id,
            Mark.lesson_id,
            Mark.student_id,
            Mark.value,
            WorkType.code,
            WorkType.weight,
        )
        .join(WorkType, WorkType.work_type_id == Mark.work_type_id)
        .where(Mark.lesson_id.in_(lesson_ids))
    )
    attendance = session.execute(
        select(
            Attendance.lesson_id, Attendance.student_id, Attendance.status, Attendance.reason
        ).where(Attendance.lesson_id.in_(lesson_ids))
    )
    finals = session.execute(
        select(FinalMark.student_id, FinalMark.value, Finalization.scale)
        .join(Finalization, Finalization.finalization_id == FinalMark.finalization_id)
        .where(
            Finalization.class_id == school_class.class_id,
            Finalization.subject_id == subject.subject_id,
            Finalization.period_id == period_id,
        )
    ).all()
    return {
        "class_id": school_class.class_id,
        "subject_id": subject.subject_id,
        "period_id": period_id,
        "locked": bool(finals),
        "lessons": [
            {
                "lesson_id": lesson.lesson_id,
                "date": lesson.date.isoformat(),
                "slot": lesson.slot,
                "topic": lesson.topic,
            }
            for lesson in lessons
        ],
        "marks": [
            {
                "mark_id": row.mark_id,
                "lesson_id": row.lesson_id,
                "student_id": row.student_id,
                "value": row.value,
                "work_type": row.code,
                "weight": row.weight,
            }
            for row in marks
        ],
        "attendance": [dict(row._mapping) for row in attendance],
        "finals": [dict(row._mapping) for row in finals],
    }


def _groups_visible(
    session: Session,
    caller: Principal,
    class_id: str,
    class_teacher_id: str | None,
    subject_id: str,
) -> list[str] | None:
    """None when the caller reads every lesson of the page, else the groups they may read.

    R-ROLE-2: the director and deputy see every journal; R-ROLE-3: a class teacher reads
    every subject of their own class; R-ROLE-4: a subject teacher only what they teach,
    and a group's teacher only that group's lessons.
    """
    if caller.has_any_role(DIRECTOR, DEPUTY_DIRECTOR):
        return None
    if class_teacher_id == caller.user_id:
        return None
    if teaches(session, caller.user_id, class_id, subject_id):
        return None
    taught = list(
        session.scalars(
            select(Assignment.group_id)
            .join(GroupClass, GroupClass.group_id == Assignment.group_id)
            .where(
                Assignment.teacher_id == caller.user_id,
                Assignment.subject_id == subject_id,
                GroupClass.class_id == class_id,
            )
        )
    )
    if taught:
        return taught
    # The caller reaches the class (read_grid checked), so they know it: a refusal.
    raise ApiError(403, "not_your_class", "You neither teach this subject here nor lead the class.")
