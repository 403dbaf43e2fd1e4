"""Lessons and their marks (R-JRN-8, R-JRN-10, R-ROLE-4).

A subject teacher writes only for a class and subject the teaching load gives them
(`not_your_class`); a lesson never falls on a holiday (`lesson_on_holiday`) and belongs
to the study period containing its day; a mark must be one its work type's scale allows
(`mark_out_of_scale`). Each change is published with the entity's version.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select
from sqlalchemy.orm import Session

from journal import audit, groups, plans
from journal.finals import require_unlocked
from journal.lesson_checks import (
    checked_lesson,
    lesson_not_found,
    not_your_class,
    substitutes_in,
)
from journal.models import (
    Attendance,
    CorrectionRequest,
    Homework,
    Lesson,
    Mark,
    Period,
    SchoolClass,
    WorkType,
    new_uuid,
)
from journal.reach import class_in_reach, refusal
from journal.roster import OVERSEES_ALL_JOURNALS, class_not_found, class_of, subject_of, teaches
from journal.scales import marks_of, scale_marks, work_type_of
from journal.school_year import is_holiday, year_of
from schoolkit.auth import Principal
from schoolkit.errors import ApiError
from schoolkit.events import Event
from schoolkit.outbox import publish

# Marks are the most frequent write: built once, run with each mark's values.
_INSERT_MARK = insert(Mark.__table__)


def create_lesson(session: Session, caller: Principal, fields: dict[str, Any]) -> Lesson:
    # Reach first: another class's unknown subject, group or room must not answer its own
    # 404, which would tell the caller that the class exists (issue 14).
    school_class = class_in_reach(session, caller, fields["class_id"])
    subject = subject_of(session, caller.school_id, fields["subject_id"])
    teacher_id = str(fields.get("teacher_id") or caller.user_id)
    group_id = groups.group_id_of_class(session, caller, fields.get("group_id"), school_class)
    room_id = (
        groups.room_of(session, caller.school_id, fields["room_id"]).room_id
        if fields.get("room_id")
        else None
    )
    _require_teaches(
        session, caller, (school_class.class_id, subject.subject_id, group_id), class_not_found()
    )
    day: date = fields["date"]
    period = period_containing(session, school_class, day)
    require_unlocked(
        session, caller, period.period_id, school_class.class_id, subject.subject_id, group_id
    )
    planned = fields.get("plan_lesson_number")
    topic = (
        plans.planned_topic(
            session, subject.subject_id, school_class.class_id, group_id, period.period_id, planned
        )
        if planned
        else fields.get("topic")
    )
    lesson = Lesson(
        school_id=caller.school_id,
        class_id=school_class.class_id,
        subject_id=subject.subject_id,
        teacher_id=teacher_id,
        period_id=period.period_id,
        date=day,
        slot=fields["slot"],
        starts_at=fields["starts_at"],
        ends_at=fields["ends_at"],
        topic=topic,
        status="scheduled",
        version=1,
        group_id=group_id,
        room_id=room_id,
    )
    session.add(lesson)
    session.flush()
    audit.record_by(
        session,
        caller,
        "added",
        "lesson",
        lesson.lesson_id,
        before=None,
        after=_lesson_values(lesson),
    )
    publish_lesson(session, lesson, "scheduled")
    return lesson


def _lesson_values(lesson: Lesson) -> dict[str, Any]:
    return {
        "class_id": lesson.class_id,
        "group_id": lesson.group_id,
        "subject_id": lesson.subject_id,
        "teacher_id": lesson.teacher_id,
        "room_id": lesson.room_id,
        "date": lesson.date,
        "slot": lesson.slot,
        "topic": lesson.topic,
    }


def lesson_for_writing(
    session: Session, caller: Principal, lesson_id: str, *, not_found: ApiError | None = None
) -> Row[Any]:
    """The lesson's columns, if the caller may write it now (lesson_checks, one SELECT);
    `not_found` answers for a lesson out of reach when it was reached through another
    object (a mark's lesson: as if there were no such mark)."""
    return checked_lesson(session, caller, lesson_id, not_found=not_found)


def lesson_of(session: Session, school_id: str, lesson_id: str) -> Lesson:
    lesson = session.get(Lesson, str(lesson_id))
    if lesson is None or lesson.school_id != school_id:
        raise lesson_not_found()
    return lesson


def lesson_for_teaching(
    session: Session, caller: Principal, lesson_id: str, *, not_found: ApiError | None = None
) -> Lesson:
    """The lesson, if the caller teaches it (R-ROLE-4) or substitutes in it (R-JRN-6); out
    of reach it is `not_found` (by default, the lesson's own)."""
    lesson = lesson_of(session, caller.school_id, lesson_id)
    if not substitutes_in(caller, lesson):
        _require_teaches(
            session,
            caller,
            (lesson.class_id, lesson.subject_id, lesson.group_id),
            not_found or lesson_not_found(),
        )
    return lesson


def lesson_for_reading(session: Session, caller: Principal, lesson_id: str) -> Lesson:
    """The lesson, if the caller oversees the journals (R-ROLE-2), leads its class
    (R-ROLE-3) or teaches it (R-ROLE-4)."""
    lesson = lesson_of(session, caller.school_id, lesson_id)
    if caller.has_any_role(*OVERSEES_ALL_JOURNALS):
        return lesson
    if class_of(session, caller.school_id, lesson.class_id).class_teacher_id == caller.user_id:
        return lesson
    return lesson_for_teaching(session, caller, lesson_id)


def record_mark(session: Session, caller: Principal, fields: dict[str, Any]) -> Mark:
    """A new mark: one SELECT answers every rule (lesson_checks), one INSERT stores it."""
    lesson = checked_lesson(
        session,
        caller,
        fields["lesson_id"],
        student_id=str(fields["student_id"]),
        work_type_id=str(fields["work_type_id"]),
    )
    work_type = WorkType(
        work_type_id=str(fields["work_type_id"]),
        code=lesson.work_type_code,
        weight=lesson.weight,
        scale=lesson.scale,
    )
    allowed = marks_of(work_type.scale, lesson.own_scale_marks)
    row = {
        "mark_id": new_uuid(),
        "school_id": caller.school_id,
        "lesson_id": lesson.lesson_id,
        "student_id": str(fields["student_id"]),
        "work_type_id": work_type.work_type_id,
        "value": _on_scale(str(fields["value"]), work_type.scale, allowed),
        "comment": fields.get("comment"),
        "teacher_id": caller.user_id,
        "recorded_at": datetime.now(UTC),
        "version": 1,
    }
    session.execute(_INSERT_MARK, row)
    mark = Mark(**row)  # not added to the session: the INSERT above stored it
    _audit_mark(session, caller, "added", mark, before=None, after=_mark_values(mark))
    publish(session, mark_recorded_event(lesson, mark, work_type))
    return mark


def mark_recorded_event(lesson: Lesson | Row[Any], mark: Mark, work_type: WorkType) -> Event:
    """`journal.mark.recorded` for a mark just stored (also bench/journal's bare endpoint's)."""
    return _mark_event("journal.mark.recorded", mark, mark_state(lesson, mark, work_type))


def mark_state(lesson: Lesson | Row[Any], mark: Mark, work_type: WorkType) -> dict[str, Any]:
    """A mark as `journal.mark.recorded` describes it (and `journal.student.snapshot`)."""
    return {**_mark_data(lesson, mark, work_type), "recorded_at": _iso(mark.recorded_at)}


def correct_mark(
    session: Session,
    caller: Principal,
    mark_id: str,
    changes: dict[str, Any],
    *,
    correction_request_id: str | None = None,
) -> Mark:
    """Change a mark's value or comment (R-JRN-10); refused in a locked period."""
    mark, lesson = _mark_for_writing(session, caller, mark_id)
    work_type = work_type_of(session, caller.school_id, mark.work_type_id)
    before = _mark_values(mark)
    if "value" in changes:
        mark.value = value_on_scale(session, caller.school_id, work_type, str(changes["value"]))
    if "comment" in changes:
        mark.comment = changes["comment"]
    mark.version += 1
    session.flush()
    _audit_mark(session, caller, "changed", mark, before=before, after=_mark_values(mark))
    data = {
        **_mark_data(lesson, mark, work_type),
        "corrected_at": _iso(datetime.now(UTC)),
        "corrected_by": caller.user_id,
    }
    if correction_request_id:
        data["correction_request_id"] = correction_request_id
    publish(session, _mark_event("journal.mark.corrected", mark, data))
    return mark


def remove_mark(session: Session, caller: Principal, mark_id: str) -> None:
    mark, lesson = _mark_for_writing(session, caller, mark_id)
    data = {
        "mark_id": mark.mark_id,
        "student_id": mark.student_id,
        "lesson_id": lesson.lesson_id,
        "removed_at": _iso(datetime.now(UTC)),
        "removed_by": caller.user_id,
        "entity_version": mark.version + 1,
    }
    _audit_mark(session, caller, "removed", mark, before=_mark_values(mark), after=None)
    # Requests to correct it go with it: they quote its values and a reason about the
    # student, and with the mark gone an erasure could no longer find them.
    session.execute(delete(CorrectionRequest).where(CorrectionRequest.mark_id == mark.mark_id))
    session.delete(mark)
    publish(session, _mark_event("journal.mark.removed", mark, data))


def _mark_values(mark: Mark) -> dict[str, Any]:
    return {
        "student_id": mark.student_id,
        "lesson_id": mark.lesson_id,
        "work_type_id": mark.work_type_id,
        "value": mark.value,
        "comment": mark.comment,
    }


def _audit_mark(
    session: Session,
    caller: Principal,
    action: str,
    mark: Mark,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        caller.school_id,
        caller.user_id,
        action,
        "mark",
        mark.mark_id,
        subject_id=mark.student_id,
        before=before,
        after=after,
    )


def _mark_for_writing(session: Session, caller: Principal, mark_id: str) -> tuple[Mark, Row[Any]]:
    mark = session.get(Mark, mark_id)
    if mark is None or mark.school_id != caller.school_id:
        raise mark_not_found()
    return mark, lesson_for_writing(session, caller, mark.lesson_id, not_found=mark_not_found())


def mark_not_found() -> ApiError:
    return ApiError(404, "mark_not_found", "No such mark.", {"mark_id": "Unknown."})


def value_on_scale(session: Session, school_id: str, work_type: WorkType, value: str) -> str:
    return _on_scale(value, work_type.scale, scale_marks(session, school_id, work_type.scale))


def _on_scale(value: str, scale: str, marks: list[dict[str, Any]]) -> str:
    allowed = [mark["mark"] for mark in marks]
    if value not in allowed:
        raise ApiError(
            422,
            "mark_out_of_scale",
            f"«{value}» is not a mark of the scale {scale}.",
            {"value": f"One of: {', '.join(allowed[:12])}{'…' if len(allowed) > 12 else ''}."},
        )
    return value


def assign_homework(
    session: Session, caller: Principal, lesson_id: str, fields: dict[str, Any]
) -> Homework:
    """Homework for the class, due on a day not before the lesson (R-JRN-8)."""
    lesson = lesson_for_writing(session, caller, lesson_id)
    if fields["due_on"] < lesson.date:
        raise ApiError(
            422,
            "due_before_lesson",
            "Homework cannot be due before its lesson.",
            {"due_on": "Too early."},
        )
    homework = Homework(
        school_id=caller.school_id,
        lesson_id=lesson.lesson_id,
        teacher_id=caller.user_id,
        text=fields["text"],
        due_on=fields["due_on"],
        assigned_at=datetime.now(UTC),
        version=1,
    )
    session.add(homework)
    session.flush()
    after = {"lesson_id": lesson.lesson_id, "text": homework.text, "due_on": homework.due_on}
    audit.record_by(
        session, caller, "added", "homework", homework.homework_id, before=None, after=after
    )
    data = {
        "homework_id": homework.homework_id,
        "lesson_id": lesson.lesson_id,
        "class_id": lesson.class_id,
        "school_subject_id": lesson.subject_id,
        "teacher_id": homework.teacher_id,
        "assigned_on": lesson.date.isoformat(),
        "due_on": homework.due_on.isoformat(),
        "text": homework.text,
        "assigned_at": _iso(homework.assigned_at),
        "entity_version": homework.version,
    }
    if lesson.group_id:
        data["group_id"] = lesson.group_id  # the diary shows it to the group's students only
    publish(session, Event(type="journal.homework.assigned", data=data, school_id=lesson.school_id))
    return homework


def record_attendance(session: Session, caller: Principal, fields: dict[str, Any]) -> Attendance:
    """Present, absent or late, with the reason; recording again changes the record (R-JRN-9)."""
    student_id = str(fields["student_id"])
    lesson = checked_lesson(session, caller, fields["lesson_id"], student_id=student_id)
    query = select(Attendance).where(
        Attendance.lesson_id == lesson.lesson_id, Attendance.student_id == student_id
    )
    record = session.scalars(query).first()
    if record is None:
        record = Attendance(
            school_id=caller.school_id, lesson_id=lesson.lesson_id, student_id=student_id, version=0
        )
        session.add(record)
    before = None if record.version == 0 else {"status": record.status, "reason": record.reason}
    record.status = fields["status"]
    # A present student has no reason to give; a stale reason must not survive a correction.
    record.reason = None if fields["status"] == "present" else fields.get("reason")
    record.recorded_by = caller.user_id
    record.recorded_at = datetime.now(UTC)
    record.version += 1
    session.flush()
    audit.record(
        session,
        caller.school_id,
        caller.user_id,
        "added" if before is None else "changed",
        "attendance",
        record.attendance_id,
        subject_id=record.student_id,
        before=before,
        after={"status": record.status, "reason": record.reason},
    )
    publish(session, _attendance_recorded(lesson, record))
    return record


def _attendance_recorded(lesson: Lesson | Row[Any], record: Attendance) -> Event:
    return Event(
        type="journal.attendance.recorded",
        data=attendance_state(lesson, record),
        school_id=record.school_id,
        subject=record.student_id,
    )


def attendance_state(lesson: Lesson | Row[Any], record: Attendance) -> dict[str, Any]:
    """An attendance record as `journal.attendance.recorded` describes it (and the snapshot)."""
    data: dict[str, Any] = {
        "attendance_id": record.attendance_id,
        "student_id": record.student_id,
        "lesson_id": lesson.lesson_id,
        "lesson_date": lesson.date.isoformat(),
        "class_id": lesson.class_id,
        "school_subject_id": lesson.subject_id,
        "status": record.status,
        "recorded_at": _iso(record.recorded_at),
        "entity_version": record.version,
    }
    if record.reason:
        data["reason"] = record.reason
    return data


def _require_teaches(
    session: Session,
    caller: Principal,
    where: tuple[str, str, str | None],
    not_found: ApiError,
) -> None:
    """`where` is (class, subject, group or None). The director and deputy director control
    every journal (R-ROLE-2); everyone else writes only where the teaching load puts them,
    a class teacher included (R-ROLE-3): the whole class's teacher of the subject, or the
    teacher of the lesson's group. Who does not even see the class is answered `not_found`
    (reach.py)."""
    class_id, subject_id, group_id = where
    if caller.has_any_role(*OVERSEES_ALL_JOURNALS):
        return
    if teaches(session, caller.user_id, class_id, subject_id):
        return
    if group_id is not None and groups.teaches_group(session, caller.user_id, group_id, subject_id):
        return
    raise refusal(session, caller, [class_id], not_found=not_found, forbidden=not_your_class())


def period_containing(session: Session, school_class: SchoolClass, day: date) -> Period:
    year = year_of(session, school_class.school_id, school_class.year_id)
    if is_holiday(session, year, day):
        raise ApiError(
            422,
            "lesson_on_holiday",
            f"{day} is a holiday of the school year.",
            {"date": "Holiday."},
        )
    # The shortest period containing the day: a quarter rather than the year period.
    query = select(Period).where(
        Period.year_id == year.year_id, Period.starts_on <= day, Period.ends_on >= day
    )
    periods = sorted(session.scalars(query), key=lambda p: p.ends_on - p.starts_on)
    if not periods:
        raise ApiError(
            422, "outside_periods", f"{day} lies in no study period.", {"date": "No period."}
        )
    return periods[0]


def publish_lesson(session: Session, lesson: Lesson, change: str) -> None:
    publish(session, lesson_changed(lesson, change))


def lesson_changed(lesson: Lesson, change: str) -> Event:
    data: dict[str, Any] = {
        "lesson_id": lesson.lesson_id,
        "change": change,
        "class_id": lesson.class_id,
        "school_subject_id": lesson.subject_id,
        "teacher_id": lesson.teacher_id,
        "date": lesson.date.isoformat(),
        "slot": lesson.slot,
        "starts_at": _iso(lesson.starts_at),
        "ends_at": _iso(lesson.ends_at),
        "status": lesson.status,
        "changed_at": _iso(datetime.now(UTC)),
        "entity_version": lesson.version,
    }
    if lesson.topic:
        data["topic"] = lesson.topic
    for name in ("group_id", "room_id", "substituted_teacher_id", "control_form"):
        if getattr(lesson, name):
            data[name] = getattr(lesson, name)
    if lesson.transferred_from_date is not None:
        data["transferred_from"] = {
            "date": lesson.transferred_from_date.isoformat(),
            "slot": lesson.transferred_from_slot,
        }
    return Event(type="journal.lesson.changed", data=data, school_id=lesson.school_id)


def _mark_data(lesson: Lesson | Row[Any], mark: Mark, work_type: WorkType) -> dict[str, Any]:
    data: dict[str, Any] = {
        "mark_id": mark.mark_id,
        "student_id": mark.student_id,
        "lesson_id": lesson.lesson_id,
        "lesson_date": lesson.date.isoformat(),
        "period_id": lesson.period_id,
        "class_id": lesson.class_id,
        "school_subject_id": lesson.subject_id,
        "teacher_id": mark.teacher_id,
        "work_type": work_type.code,
        "weight": work_type.weight,
        "scale": work_type.scale,
        "value": int(mark.value) if mark.value.isdigit() else mark.value,
        "entity_version": mark.version,
    }
    if mark.comment:
        data["comment"] = mark.comment
    return data


def _mark_event(event_type: str, mark: Mark, data: dict[str, Any]) -> Event:
    return Event(type=event_type, data=data, school_id=mark.school_id, subject=mark.student_id)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
