"""Teachers' messages and recommendations to guardians about a lesson (R-JRN-8, R-NTF-2).

The lesson's teacher (or its substitute) writes to the guardians of the whole class or
group, or of named students of the lesson; journal.message.sent carries it to the diary
and notify. The text may speak of a child, so the audit chain has one link per addressed
student, for an erasure to find its values.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal import audit, groups
from journal.contingent import current_enrolment
from journal.lessons import lesson_for_reading, lesson_for_teaching
from journal.models import Lesson, LessonMessage, StudyGroup
from schoolkit.auth import Principal
from schoolkit.errors import ApiError
from schoolkit.events import Event, iso_utc
from schoolkit.outbox import publish


def send(
    session: Session, caller: Principal, lesson_id: str, fields: dict[str, Any]
) -> LessonMessage:
    lesson = lesson_for_teaching(session, caller, lesson_id)
    student_ids = _students_of_lesson(session, lesson, fields.get("student_ids"))
    message = LessonMessage(
        school_id=caller.school_id,
        lesson_id=lesson.lesson_id,
        teacher_id=caller.user_id,
        kind=fields["kind"],
        text=fields["text"],
        student_ids=student_ids,
        sent_at=datetime.now(UTC),
        version=1,
    )
    session.add(message)
    session.flush()
    publish(session, _message_sent(lesson, message))
    # One link per addressed student, so an erasure finds each one's values; each names
    # only its own student, or an erased one would stay named in a classmate's values.
    for subject_id in student_ids or [None]:
        audit.record(
            session,
            caller.school_id,
            caller.user_id,
            "added",
            "message",
            message.message_id,
            subject_id=subject_id,
            before=None,
            after={
                "kind": message.kind,
                "text": message.text,
                "student_ids": None if subject_id is None else [subject_id],
            },
        )
    return message


def messages_of(session: Session, caller: Principal, lesson_id: str) -> list[LessonMessage]:
    lesson = lesson_for_reading(session, caller, lesson_id)
    query = (
        select(LessonMessage)
        .where(LessonMessage.lesson_id == lesson.lesson_id)
        .order_by(LessonMessage.sent_at)
    )
    return list(session.scalars(query))


def _students_of_lesson(
    session: Session, lesson: Lesson, student_ids: list[Any] | None
) -> list[str] | None:
    if student_ids is None:
        return None
    wanted = list(dict.fromkeys(str(student) for student in student_ids))
    members = None
    if lesson.group_id is not None:
        group = session.get(StudyGroup, lesson.group_id)
        members = set(groups.members_of(session, group)) if group else set()
    strangers = [
        student
        for student in wanted
        if (enrolment := current_enrolment(session, lesson.school_id, student)) is None
        or enrolment.class_id != lesson.class_id
        or (members is not None and student not in members)
    ]
    if strangers:
        raise ApiError(
            422,
            "not_in_lesson",
            "A message goes only to guardians of the lesson's students.",
            {"student_ids": f"Not at this lesson: {', '.join(strangers)}."},
        )
    return wanted


def _message_sent(lesson: Lesson, message: LessonMessage) -> Event:
    data: dict[str, Any] = {
        "message_id": message.message_id,
        "class_id": lesson.class_id,
        "lesson_id": lesson.lesson_id,
        "school_subject_id": lesson.subject_id,
        "teacher_id": message.teacher_id,
        "kind": message.kind,
        "text": message.text,
        "sent_at": iso_utc(message.sent_at),
        "entity_version": message.version,
    }
    if lesson.group_id:
        data["group_id"] = lesson.group_id
    if message.student_ids:
        data["student_ids"] = message.student_ids
    subject = (
        message.student_ids[0] if message.student_ids and len(message.student_ids) == 1 else None
    )
    return Event(
        type="journal.message.sent", data=data, school_id=lesson.school_id, subject=subject
    )
