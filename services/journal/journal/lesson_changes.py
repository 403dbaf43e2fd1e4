"""Substitutions and transfers of lessons, and the control-test schedule (R-JRN-6, R-JRN-7).

The deputy director registers both (R-ROLE-2): each is kept with who, when and why, sent
as journal.lesson.changed (change `substitution` or `transfer`) so guardians hear of it at
once (R-NTF-2), and recorded in the audit chain. While a substitute teaches a lesson they
may write it like its own teacher (journal.lessons). A lesson on the control-test
schedule carries its form of control.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal import audit, groups, roster
from journal.lessons import lesson_of, period_containing, publish_lesson
from journal.models import Lesson, LessonChange
from journal.timetable import bell_times
from schoolkit.auth import Principal
from schoolkit.errors import ApiError


def substitute(
    session: Session, caller: Principal, lesson_id: str, fields: dict[str, Any]
) -> LessonChange:
    """Another teacher of the school teaches the lesson; naming the regular teacher again
    ends the substitution."""
    lesson = lesson_of(session, caller.school_id, lesson_id)
    substitute_id = str(fields["teacher_id"])
    if substitute_id == lesson.teacher_id:
        raise ApiError(
            422, "same_teacher", "That teacher already teaches the lesson.", {"teacher_id": "Same."}
        )
    if not roster.works_here(session, caller.school_id, substitute_id):
        raise ApiError(
            404,
            "teacher_not_found",
            "No teacher of this school by that id.",
            {"teacher_id": "Unknown in this school."},
        )
    before = _placement(lesson)
    regular = lesson.substituted_teacher_id or lesson.teacher_id
    lesson.teacher_id = substitute_id
    _refuse_busy(session, lesson)
    lesson.substituted_teacher_id = None if substitute_id == regular else regular
    return _register(
        session, caller, lesson, "substitution", reason=fields["reason"], before=before
    )


def transfer(
    session: Session, caller: Principal, lesson_id: str, fields: dict[str, Any]
) -> LessonChange:
    """Move the lesson to another day and lesson number (and room); never into a holiday."""
    lesson = lesson_of(session, caller.school_id, lesson_id)
    school_class = roster.class_of(session, caller.school_id, lesson.class_id)
    period = period_containing(session, school_class, fields["date"])
    starts_at, ends_at = bell_times(session, caller.school_id, fields["date"], fields["slot"])
    before = _placement(lesson)
    lesson.transferred_from_date, lesson.transferred_from_slot = lesson.date, lesson.slot
    lesson.date, lesson.slot, lesson.period_id = fields["date"], fields["slot"], period.period_id
    lesson.starts_at, lesson.ends_at = starts_at, ends_at
    if fields.get("room_id"):
        lesson.room_id = groups.room_of(session, caller.school_id, fields["room_id"]).room_id
    _refuse_busy(session, lesson)
    return _register(session, caller, lesson, "transfer", reason=fields["reason"], before=before)


def changes_of(session: Session, school_id: str, lesson_id: str) -> list[LessonChange]:
    lesson = lesson_of(session, school_id, lesson_id)
    query = (
        select(LessonChange)
        .where(LessonChange.lesson_id == lesson.lesson_id)
        .order_by(LessonChange.at)
    )
    return list(session.scalars(query))


def set_control_test(
    session: Session, caller: Principal, lesson_id: str, form: str | None
) -> Lesson:
    """Put the lesson on the control-test schedule with its form, or take it off (None)."""
    lesson = lesson_of(session, caller.school_id, lesson_id)
    before = {"control_form": lesson.control_form}
    lesson.control_form = form
    lesson.version += 1
    session.flush()
    publish_lesson(session, lesson, "control_test")
    _audit(session, caller, lesson, before, {"control_form": form})
    return lesson


def control_tests(session: Session, school_id: str, filters: dict[str, str]) -> list[Lesson]:
    query = select(Lesson).where(Lesson.school_id == school_id, Lesson.control_form.is_not(None))
    for name in ("class_id", "period_id", "subject_id", "teacher_id"):
        if filters.get(name):
            query = query.where(getattr(Lesson, name) == filters[name])
    return list(session.scalars(query.order_by(Lesson.date, Lesson.slot)))


def _register(
    session: Session,
    caller: Principal,
    lesson: Lesson,
    kind: str,
    *,
    reason: str,
    before: dict[str, Any],
) -> LessonChange:
    lesson.version += 1
    change = LessonChange(
        school_id=caller.school_id,
        lesson_id=lesson.lesson_id,
        kind=kind,
        reason=reason,
        before=before,
        after=_placement(lesson),
        by=caller.user_id,
        at=datetime.now(UTC),
    )
    session.add(change)
    session.flush()
    publish_lesson(session, lesson, kind)
    _audit(session, caller, lesson, before, {**change.after, "reason": reason})
    return change


def _refuse_busy(session: Session, lesson: Lesson) -> None:
    """The lesson's teacher and room must be free at its (new) day and lesson number."""
    with session.no_autoflush:  # the lesson's own changes are not to be written yet
        same_time = select(Lesson).where(
            Lesson.school_id == lesson.school_id,
            Lesson.date == lesson.date,
            Lesson.slot == lesson.slot,
            Lesson.status != "cancelled",
            Lesson.lesson_id != lesson.lesson_id,
        )
        others = list(session.scalars(same_time))
    # A stream's lessons of one line run together: the same teacher and room in each class.
    others = [o for o in others if not _same_stream_line(o, lesson)]
    if any(other.teacher_id == lesson.teacher_id for other in others):
        raise ApiError(
            409, "teacher_busy", "The teacher has another lesson then.", {"teacher_id": "Busy."}
        )
    if lesson.room_id and any(other.room_id == lesson.room_id for other in others):
        raise ApiError(409, "room_busy", "The room is taken then.", {"room_id": "Busy."})


def _same_stream_line(other: Lesson, lesson: Lesson) -> bool:
    return other.group_id is not None and other.group_id == lesson.group_id


def _placement(lesson: Lesson) -> dict[str, Any]:
    return {
        "teacher_id": lesson.teacher_id,
        "substituted_teacher_id": lesson.substituted_teacher_id,
        "date": lesson.date.isoformat(),
        "slot": lesson.slot,
        "room_id": lesson.room_id,
    }


def _audit(
    session: Session,
    caller: Principal,
    lesson: Lesson,
    before: dict[str, Any],
    after: dict[str, Any],
) -> None:
    audit.record(
        session,
        caller.school_id,
        caller.user_id,
        "changed",
        "lesson",
        lesson.lesson_id,
        subject_id=None,
        before=before,
        after=after,
    )
