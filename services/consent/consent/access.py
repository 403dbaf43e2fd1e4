"""Who may register, read and end which family's consents and agreements (issue 14).

A consent names a guardian and a student that identity links in the caller's school;
anything else — another school's people, staff, an id that exists nowhere, an erased
one — is refused alike, so an answer never tells whether a person exists elsewhere.
The school's administration reaches every family of the school; a class teacher only the
students of the classes they lead and those students' guardians (R-ROLE-3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from consent import copies
from schoolkit.auth import ADMINISTRATOR, DEPUTY_DIRECTOR, DIRECTOR
from schoolkit.errors import ApiError

# R-ROLE-1, R-ROLE-2: the administrator runs the registry, the director and deputy
# director control consent registration; they reach every family of their school.
ADMINISTRATION = frozenset({ADMINISTRATOR, DIRECTOR, DEPUTY_DIRECTOR})
# A registrar's device clock may run a little ahead of ours.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True)
class Staff:
    user_id: str
    school_id: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @property
    def administers(self) -> bool:
        return not self.roles.isdisjoint(ADMINISTRATION)


def reaches(session: Session, staff: Staff, student_id: str) -> bool:
    """The administration reaches the whole school; a class teacher their own class."""
    if staff.administers:
        return True
    return copies.class_teacher_of(session, staff.school_id, student_id) == staff.user_id


def reachable(query: Select[Any], staff: Staff, student_column: Any) -> Select[Any]:
    """`query` narrowed to the students `staff` reaches (for the list endpoints)."""
    if staff.administers:
        return query
    return query.where(student_column.in_(copies.students_led_by(staff.school_id, staff.user_id)))


def check_family(session: Session, staff: Staff, guardian_id: str, student_id: str) -> None:
    """Refuse, naming the field, unless identity links this guardian and student in the
    caller's school and the caller reaches the student."""
    school = staff.school_id
    if not copies.person_in_school(session, school, student_id, "student") or not reaches(
        session, staff, student_id
    ):
        raise ApiError(
            422,
            "unknown_student",
            "No student of this school that you may register for has this id.",
            {"student_id": "no such student in your reach"},
        )
    if not copies.person_in_school(session, school, guardian_id, "guardian"):
        raise ApiError(
            422,
            "unknown_guardian",
            "No guardian of this school has this id.",
            {"guardian_id": "no such guardian in this school"},
        )
    if not copies.linked(session, school, guardian_id, student_id):
        raise ApiError(
            422,
            "not_linked",
            "Identity does not link this guardian to this student: link them first.",
            {"guardian_id": "not linked to this student"},
        )


def check_day(name: str, day: date, earliest: date, today: date) -> None:
    """A document's date lies between its template's first day and today (school time)."""
    if day > today:
        raise ApiError(422, "date_in_future", f"{name} is after today.", {name: "in the future"})
    if day < earliest:
        raise ApiError(
            422,
            "date_too_early",
            f"{name} is before {earliest.isoformat()}, when this version of the document took effect.",
            {name: f"before {earliest.isoformat()}"},
        )


def check_received_at(received_at: datetime, signed_on: date, now: datetime, tz: Any) -> None:
    """A revocation arrives after the consent was signed and not after now (a small clock
    skew of the registrar's device allowed)."""
    if received_at > now + CLOCK_SKEW:
        raise ApiError(
            422,
            "date_in_future",
            "received_at is in the future.",
            {"received_at": "in the future"},
        )
    if received_at.astimezone(tz).date() < signed_on:
        raise ApiError(
            422,
            "date_too_early",
            f"received_at is before the consent was signed ({signed_on.isoformat()}).",
            {"received_at": "before the consent was signed"},
        )
