"""identity's copy of the journal's classes: which class a student is in and who its class
teacher is. A class teacher hands out registration codes for their own class only
(R-ROLE-3, R-IDN-2), and a class's credential slips list its students.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from identity.models import ClassCopy, ClassMembership
from schoolkit import ordering
from schoolkit.events import Event


def on_class_changed(session: Session, event: Event) -> str | None:
    data = event.data
    if not ordering.accept_version(session, "class", data["class_id"], data["entity_version"]):
        return "stale"
    copy = session.get(ClassCopy, data["class_id"]) or ClassCopy(class_id=data["class_id"])
    copy.school_id = event.school_id
    copy.name = data["name"]
    copy.class_teacher_id = data.get("class_teacher_id")
    session.add(copy)
    return None


def on_student_placed(session: Session, event: Event) -> str | None:
    """Enrolled or transferred: the student is in that class from now on."""
    data = event.data
    if not ordering.accept_version(
        session, "enrolment", data["student_id"], data["entity_version"]
    ):
        return "stale"
    class_id = data.get("to_class_id") or data["class_id"]
    membership = session.get(ClassMembership, data["student_id"]) or ClassMembership(
        student_id=data["student_id"]
    )
    membership.school_id = event.school_id
    membership.class_id = class_id
    session.add(membership)
    return None


def on_student_left(session: Session, event: Event) -> str | None:
    data = event.data
    if not ordering.accept_version(
        session, "enrolment", data["student_id"], data["entity_version"]
    ):
        return "stale"
    session.execute(delete(ClassMembership).where(ClassMembership.student_id == data["student_id"]))
    return None


def class_of(session: Session, school_id: str, class_id: str) -> ClassCopy | None:
    found = session.get(ClassCopy, class_id)
    return found if found is not None and found.school_id == school_id else None


def class_of_student(session: Session, student_id: str) -> ClassCopy | None:
    membership = session.get(ClassMembership, student_id)
    return session.get(ClassCopy, membership.class_id) if membership is not None else None


def students_of(session: Session, class_id: str) -> list[str]:
    query = select(ClassMembership.student_id).where(ClassMembership.class_id == class_id)
    return list(session.scalars(query))


def forget_students(session: Session, student_ids: list[str]) -> int:
    found = session.execute(
        delete(ClassMembership).where(ClassMembership.student_id.in_(student_ids))
    )
    ordering.forget_versions(session, "enrolment", student_ids)
    return found.rowcount or 0
