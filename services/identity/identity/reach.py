"""Whom a member of staff may look up in the register of people (R-ROLE, R-PD-1).

- administrators (R-ROLE-1), the director and deputies (R-ROLE-2): everyone of their school;
- a class teacher (R-ROLE-3): the students of their own classes and those students'
  guardians, whom they hand credentials to; no other student, guardian or member of staff;
- anyone else (subject teachers, guardians, students, operations): nobody. Their own
  account is `/v1/me`; the routes refuse them with 403 before this is asked.

Roles add up: a deputy who is also a class teacher reaches the whole school. Someone out
of reach is answered exactly like someone who does not exist (404), so the answer tells
nothing about who is on the register. The class teacher's classes are identity's copy of
the journal's (identity/classes.py).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.orm import Session

from identity.models import ClassCopy, ClassMembership, Guardianship, Person
from schoolkit.auth import ADMINISTRATOR, CLASS_TEACHER, DEPUTY_DIRECTOR, DIRECTOR, Principal

WHOLE_SCHOOL = (ADMINISTRATOR, DIRECTOR, DEPUTY_DIRECTOR)


def reachable(caller: Principal) -> ColumnElement[bool]:
    """The condition on `Person` that keeps exactly the people `caller` may look up."""
    in_school = Person.school_id == caller.school_id
    if caller.has_any_role(*WHOLE_SCHOOL):
        return in_school
    if caller.has_any_role(CLASS_TEACHER):
        return and_(in_school, _own_classes_people(caller))
    return false()


def person_in_reach(session: Session, caller: Principal, person_id: str) -> Person | None:
    query = select(Person).where(Person.id == person_id, reachable(caller))
    return session.scalars(query).first()


def _own_classes_people(caller: Principal) -> ColumnElement[bool]:
    own_classes = select(ClassCopy.class_id).where(
        ClassCopy.school_id == caller.school_id, ClassCopy.class_teacher_id == caller.user_id
    )
    students = select(ClassMembership.student_id).where(ClassMembership.class_id.in_(own_classes))
    guardians = select(Guardianship.guardian_id).where(
        Guardianship.school_id == caller.school_id, Guardianship.student_id.in_(students)
    )
    return or_(Person.id.in_(students), Person.id.in_(guardians))
