"""Subjects, classes with their class teacher, and the teaching load (R-JRN-2).

Subjects and classes are sent to the diary (journal.subject.changed,
journal.class.changed) with their version raised on each change. The teaching load is the
journal's own: it decides which classes a subject teacher may read and write (R-ROLE-4).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from journal import audit
from journal.models import Assignment, SchoolClass, Subject
from journal.school_year import year_of
from schoolkit.auth import DEPUTY_DIRECTOR, DIRECTOR, Principal
from schoolkit.errors import ApiError
from schoolkit.events import Event
from schoolkit.outbox import publish

# R-ROLE-2: the director and the deputy oversee every class's journal, whatever they teach.
OVERSEES_ALL_JOURNALS = (DIRECTOR, DEPUTY_DIRECTOR)


def create_subject(session: Session, caller: Principal, fields: dict[str, Any]) -> Subject:
    _refuse_duplicate_subject(session, caller.school_id, fields["name"])
    subject = Subject(school_id=caller.school_id, removed=False, version=1, **fields)
    session.add(subject)
    session.flush()
    audit.record_by(
        session, caller, "added", "subject", subject.subject_id, before=None, after=fields
    )
    _publish_subject(session, subject, "created")
    return subject


def remove_subject(session: Session, caller: Principal, subject_id: str) -> Subject:
    subject = subject_of(session, caller.school_id, subject_id)
    subject.removed = True
    subject.version += 1
    before = {"name": subject.name, "short_name": subject.short_name}
    audit.record_by(
        session, caller, "removed", "subject", subject.subject_id, before=before, after=None
    )
    _publish_subject(session, subject, "removed")
    return subject


def subject_of(session: Session, school_id: str, subject_id: str) -> Subject:
    subject = session.get(Subject, str(subject_id))
    if subject is None or subject.school_id != school_id or subject.removed:
        raise ApiError(404, "subject_not_found", "No such subject.", {"subject_id": "Unknown."})
    return subject


def create_class(session: Session, caller: Principal, fields: dict[str, Any]) -> SchoolClass:
    year = year_of(session, caller.school_id, fields.pop("year_id"))
    _refuse_duplicate_class(session, year.year_id, fields["name"])
    teacher = fields.pop("class_teacher_id")
    school_class = SchoolClass(
        school_id=caller.school_id,
        year_id=year.year_id,
        class_teacher_id=str(teacher) if teacher else None,
        version=1,
        **fields,
    )
    session.add(school_class)
    session.flush()
    after = _class_values(school_class)
    audit.record_by(
        session, caller, "added", "class", school_class.class_id, before=None, after=after
    )
    publish_class(session, school_class, "created")
    return school_class


def change_class(
    session: Session, caller: Principal, class_id: str, changes: dict[str, Any]
) -> SchoolClass:
    school_class = class_of(session, caller.school_id, class_id)
    before = _class_values(school_class)
    if "name" in changes and changes["name"] != school_class.name:
        _refuse_duplicate_class(session, school_class.year_id, changes["name"])
    if "class_teacher_id" in changes:
        teacher = changes.pop("class_teacher_id")
        school_class.class_teacher_id = str(teacher) if teacher else None
    for name, value in changes.items():
        setattr(school_class, name, value)
    school_class.version += 1
    audit.record_by(
        session,
        caller,
        "changed",
        "class",
        school_class.class_id,
        before=before,
        after=_class_values(school_class),
    )
    publish_class(session, school_class, "updated")
    return school_class


def _class_values(school_class: SchoolClass) -> dict[str, Any]:
    return {
        "year_id": school_class.year_id,
        "name": school_class.name,
        "grade": school_class.grade,
        "class_teacher_id": school_class.class_teacher_id,
    }


def class_of(session: Session, school_id: str, class_id: str) -> SchoolClass:
    school_class = session.get(SchoolClass, str(class_id))
    if school_class is None or school_class.school_id != school_id:
        raise class_not_found()
    return school_class


def class_not_found() -> ApiError:
    return ApiError(404, "class_not_found", "No such class.", {"class_id": "Unknown."})


def assign_teacher(session: Session, caller: Principal, fields: dict[str, Any]) -> Assignment:
    subject = subject_of(session, caller.school_id, fields["subject_id"])
    school_class = class_of(session, caller.school_id, fields["class_id"])
    teacher_id = str(fields["teacher_id"])
    existing = session.scalars(
        select(Assignment).where(
            Assignment.teacher_id == teacher_id,
            Assignment.subject_id == subject.subject_id,
            Assignment.class_id == school_class.class_id,
        )
    ).first()
    if existing is not None:
        raise ApiError(
            409, "already_assigned", "The teacher already teaches this subject in this class."
        )
    assignment = Assignment(
        school_id=caller.school_id,
        teacher_id=teacher_id,
        subject_id=subject.subject_id,
        class_id=school_class.class_id,
        hours_per_week=fields.get("hours_per_week"),
    )
    session.add(assignment)
    session.flush()
    after = {
        "teacher_id": teacher_id,
        "subject_id": subject.subject_id,
        "class_id": school_class.class_id,
        "group_id": None,
    }
    audit.record_by(
        session, caller, "added", "assignment", assignment.assignment_id, before=None, after=after
    )
    return assignment


def teaches(
    session: Session, teacher_id: str, class_id: str, subject_id: str | None = None
) -> bool:
    """Whether the teaching load gives this teacher the class (and subject, when named)."""
    query = class_load(teacher_id, class_id)
    if subject_id is not None:
        query = query.where(Assignment.subject_id == subject_id)
    return session.scalars(query.limit(1)).first() is not None


def class_load(teacher_id: Any, class_id: Any) -> Select[tuple[str]]:
    """The teaching load that gives this teacher the class: the arguments are values, or
    columns of an outer query (a lesson's checks ask it with the others, in one SELECT)."""
    return select(Assignment.assignment_id).where(
        Assignment.teacher_id == teacher_id, Assignment.class_id == class_id
    )


def works_here(session: Session, school_id: str, teacher_id: str) -> bool:
    """Whether the journal knows the teacher as this school's: a teaching load or a class
    of their own here. Identity's staff are not copied into the journal."""
    load = select(Assignment.assignment_id).where(
        Assignment.school_id == school_id, Assignment.teacher_id == teacher_id
    )
    led = select(SchoolClass.class_id).where(
        SchoolClass.school_id == school_id, SchoolClass.class_teacher_id == teacher_id
    )
    return (
        session.scalars(load.limit(1)).first() is not None
        or session.scalars(led.limit(1)).first() is not None
    )


def _refuse_duplicate_subject(session: Session, school_id: str, name: str) -> None:
    query = select(Subject).where(
        Subject.school_id == school_id, Subject.name == name, Subject.removed.is_(False)
    )
    if session.scalars(query).first() is not None:
        raise ApiError(409, "subject_exists", "The school already has a subject of that name.")


def _refuse_duplicate_class(session: Session, year_id: str, name: str) -> None:
    query = select(SchoolClass).where(SchoolClass.year_id == year_id, SchoolClass.name == name)
    if session.scalars(query).first() is not None:
        raise ApiError(409, "class_exists", "The year already has a class of that name.")


def _publish_subject(session: Session, subject: Subject, change: str) -> None:
    data: dict[str, Any] = {
        "school_subject_id": subject.subject_id,
        "name": subject.name,
        "change": change,
        "changed_at": _now(),
        "entity_version": subject.version,
    }
    if subject.short_name:
        data["short_name"] = subject.short_name
    publish(session, Event(type="journal.subject.changed", data=data, school_id=subject.school_id))


def publish_class(session: Session, school_class: SchoolClass, change: str) -> None:
    data: dict[str, Any] = {
        "class_id": school_class.class_id,
        "year_id": school_class.year_id,
        "name": school_class.name,
        "grade": school_class.grade,
        "change": change,
        "changed_at": _now(),
        "entity_version": school_class.version,
    }
    if school_class.class_teacher_id:
        data["class_teacher_id"] = school_class.class_teacher_id
    publish(
        session, Event(type="journal.class.changed", data=data, school_id=school_class.school_id)
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
