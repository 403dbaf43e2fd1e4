"""Consent's own copies of identity's people and guardianships and of the journal's classes
(DESIGN §2): who may be named in a consent, and which class teacher reaches which family
(R-ROLE-3). They follow identity/identity/classes.py in shape, keep only ids, school and
kind (no names), and go with everything else in an erasure (consent/erasure.py).
"""

from __future__ import annotations

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session

from consent.models import ClassCopy, ClassMembership, GuardianshipCopy, PersonCopy
from schoolkit import ordering, tombstones
from schoolkit.events import Event

STALE = "stale"
TOMBSTONED = "tombstoned"

# --- identity -----------------------------------------------------------------------------


def on_person_changed(session: Session, event: Event) -> str | None:
    data = event.data
    if not ordering.accept_version(session, "person", data["person_id"], data["entity_version"]):
        return STALE
    copy = session.get(PersonCopy, data["person_id"]) or PersonCopy(person_id=data["person_id"])
    copy.school_id = event.school_id
    copy.kind = data["kind"]
    session.add(copy)
    return None


def on_guardian_linked(session: Session, event: Event) -> str | None:
    return _guardianship(session, event, linked=True)


def on_guardian_unlinked(session: Session, event: Event) -> str | None:
    return _guardianship(session, event, linked=False)


def _guardianship(session: Session, event: Event, *, linked: bool) -> str | None:
    data = event.data
    # The envelope's subject is the student (the consumer checks it); the guardian too
    # may have been erased, and a late link must not bring them back.
    if tombstones.is_erased(session, event.school_id, data["guardian_id"]):
        return TOMBSTONED
    link_id = data["guardianship_id"]
    if not ordering.accept_version(session, "guardianship", link_id, data["entity_version"]):
        return STALE
    session.execute(delete(GuardianshipCopy).where(GuardianshipCopy.guardianship_id == link_id))
    if linked:
        session.add(
            GuardianshipCopy(
                guardianship_id=link_id,
                school_id=event.school_id,
                guardian_id=data["guardian_id"],
                student_id=data["student_id"],
            )
        )
    return None


# --- journal ------------------------------------------------------------------------------


def on_class_changed(session: Session, event: Event) -> str | None:
    data = event.data
    if not ordering.accept_version(session, "class", data["class_id"], data["entity_version"]):
        return STALE
    copy = session.get(ClassCopy, data["class_id"]) or ClassCopy(class_id=data["class_id"])
    copy.school_id = event.school_id
    # A removed class leads nobody: its former class teacher no longer reaches its families.
    removed = data["change"] == "removed"
    copy.class_teacher_id = None if removed else data.get("class_teacher_id")
    session.add(copy)
    return None


def on_student_placed(session: Session, event: Event) -> str | None:
    """Enrolled or transferred: the student is in that class from now on."""
    data = event.data
    student_id = data["student_id"]
    if not ordering.accept_version(session, "enrolment", student_id, data["entity_version"]):
        return STALE
    membership = session.get(ClassMembership, student_id) or ClassMembership(student_id=student_id)
    membership.school_id = event.school_id
    membership.class_id = data.get("to_class_id") or data["class_id"]
    session.add(membership)
    return None


def on_student_left(session: Session, event: Event) -> str | None:
    data = event.data
    student_id = data["student_id"]
    if not ordering.accept_version(session, "enrolment", student_id, data["entity_version"]):
        return STALE
    session.execute(delete(ClassMembership).where(ClassMembership.student_id == student_id))
    return None


# --- questions the registry asks ------------------------------------------------------------


def person_in_school(session: Session, school_id: str, person_id: str, kind: str) -> bool:
    """A living person of that kind in that school; another school's, an erased or an unknown
    id are all alike False."""
    copy = session.get(PersonCopy, person_id)
    if copy is None or copy.school_id != school_id or copy.kind != kind:
        return False
    return not tombstones.is_erased(session, school_id, person_id)


def linked(session: Session, school_id: str, guardian_id: str, student_id: str) -> bool:
    found = select(GuardianshipCopy.guardianship_id).where(
        GuardianshipCopy.school_id == school_id,
        GuardianshipCopy.guardian_id == guardian_id,
        GuardianshipCopy.student_id == student_id,
    )
    return session.scalars(found.limit(1)).first() is not None


def class_teacher_of(session: Session, school_id: str, student_id: str) -> str | None:
    found = (
        select(ClassCopy.class_teacher_id)
        .join(ClassMembership, ClassMembership.class_id == ClassCopy.class_id)
        .where(
            ClassMembership.student_id == student_id,
            ClassMembership.school_id == school_id,
            ClassCopy.school_id == school_id,
        )
    )
    return session.scalars(found).first()


def students_led_by(school_id: str, teacher_id: str) -> Select[tuple[str]]:
    """The students of the classes `teacher_id` leads, as a subquery for the list endpoints."""
    return (
        select(ClassMembership.student_id)
        .join(ClassCopy, ClassCopy.class_id == ClassMembership.class_id)
        .where(
            ClassCopy.school_id == school_id,
            ClassCopy.class_teacher_id == teacher_id,
            ClassMembership.school_id == school_id,
        )
    )


# --- erasure ------------------------------------------------------------------------------


def forget_people(session: Session, school_id: str, people: list[str]) -> int:
    found = delete(PersonCopy).where(
        PersonCopy.school_id == school_id, PersonCopy.person_id.in_(people)
    )
    count = session.execute(found).rowcount or 0
    ordering.forget_versions(session, "person", people)
    return count


def forget_guardianships(session: Session, school_id: str, people: list[str]) -> int:
    links = or_(GuardianshipCopy.guardian_id.in_(people), GuardianshipCopy.student_id.in_(people))
    scoped = (GuardianshipCopy.school_id == school_id) & links
    ids = list(session.scalars(select(GuardianshipCopy.guardianship_id).where(scoped)))
    count = session.execute(delete(GuardianshipCopy).where(scoped)).rowcount or 0
    ordering.forget_versions(session, "guardianship", ids)
    return count


def forget_memberships(session: Session, school_id: str, people: list[str]) -> int:
    found = delete(ClassMembership).where(
        ClassMembership.school_id == school_id, ClassMembership.student_id.in_(people)
    )
    count = session.execute(found).rowcount or 0
    ordering.forget_versions(session, "enrolment", people)
    return count
