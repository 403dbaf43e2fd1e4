"""Identity's answer to `diary.backfill.requested`: the names the diary had to drop.

The diary drops a student's or guardian's name until a diary agreement covers them
(R-DRY-3). When one does, it asks; identity answers with one `identity.person.snapshot` per
person asked for who is, in the request's school, that student or a guardian linked to
them. Anyone else (an unknown or erased id, another school's person, a guardian not
linked to the student) gets no answer: the request is no way to look names up.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from identity.models import Guardianship, Person
from schoolkit.events import Event
from schoolkit.outbox import publish

SNAPSHOT = "identity.person.snapshot"


def on_backfill_requested(session: Session, event: Event) -> str | None:
    school, student_id = event.school_id, event.data["student_id"]
    answered = 0
    for person_id in event.data["person_ids"]:
        person = _asked_for(session, school, student_id, person_id)
        if person is not None:
            publish(session, person_snapshot(person, request_id=event.id))
            answered += 1
    return None if answered else "ignored"


def _asked_for(session: Session, school: str, student_id: str, person_id: str) -> Person | None:
    person = session.get(Person, person_id)
    if person is None or person.school_id != school:
        return None
    if person_id == student_id:
        return person if person.kind == "student" else None
    if person.kind != "guardian" or not _linked(session, school, person_id, student_id):
        return None
    return person


def _linked(session: Session, school: str, guardian_id: str, student_id: str) -> bool:
    link = select(Guardianship.id).where(
        Guardianship.school_id == school,
        Guardianship.guardian_id == guardian_id,
        Guardianship.student_id == student_id,
    )
    return session.execute(link).first() is not None


def person_snapshot(person: Person, request_id: str) -> Event:
    """Only what the diary shows: the name, and a student's birth date (R-DRY-2)."""
    data: dict[str, Any] = {
        "person_id": person.id,
        "kind": person.kind,
        "last_name": person.last_name,
        "first_name": person.first_name,
        "entity_version": person.version,
        "request_id": request_id,
    }
    if person.middle_name:
        data["middle_name"] = person.middle_name
    if person.birth_date and person.kind == "student":
        data["birth_date"] = person.birth_date.isoformat()
    return Event(SNAPSHOT, data, person.school_id, subject=person.id)
