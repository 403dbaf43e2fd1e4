"""A student leaves (R-PD-3): their consents end, and the erasure names whom it concerns."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from consent import registry
from consent.coordinator import Coordinator
from consent.models import Consent, Erasure
from consent.policy import load_policy
from consent.settings import ErasureSettings
from schoolkit.db import Database
from schoolkit.events import Event

from .conftest import SCHOOL, new_id
from .families import Family, World


def give_consent(database: Database, family: Family) -> None:
    form = {
        "guardian_id": family.guardian_id,
        "student_id": family.student_id,
        "representation": "parent",
        "decision": "given",
        "signed_on": date(2025, 9, 1),
    }
    staff = registry.Staff(family.class_teacher_id, SCHOOL, frozenset({"class_teacher"}))
    with database.transaction() as session:
        registry.register_consent(session, staff, form)


def leave(database: Database, student_id: str) -> list[dict[str, str]]:
    """The subjects of the erasure opened when the journal said the student left."""
    data = {
        "enrolment_id": new_id(),
        "student_id": student_id,
        "class_id": new_id(),
        "reason": "graduation",
        "left_on": "2026-06-25",
        "entity_version": 3,
    }
    event = Event("journal.student.left", data, SCHOOL, subject=student_id)
    coordinator = Coordinator(ErasureSettings(policy=load_policy()))
    with database.transaction() as session:
        registry.student_left(session, coordinator, event)
    with database.sessions() as session:
        erasure = session.scalars(select(Erasure).where(Erasure.trigger_event_id == event.id)).one()
        return sorted(erasure.subjects, key=lambda subject: subject["kind"])


def test_a_leaving_students_guardians_are_erased_unless_another_child_is_under_consent(
    database_url: str, world: World
) -> None:
    database = Database(database_url)
    with_mother = world.a_family(SCHOOL)
    student, mother = with_mother.student_id, with_mother.guardian_id
    with_father = world.a_family(SCHOOL, class_id=with_mother.class_id, student_id=student)
    father = with_father.guardian_id
    other_child = world.a_family(SCHOOL, guardian_id=father)
    sibling = other_child.student_id
    give_consent(database, with_mother)
    give_consent(database, with_father)
    give_consent(database, other_child)  # the father's other child stays at school

    subjects = leave(database, student)

    assert subjects == [
        {"subject_id": mother, "kind": "guardian"},
        {"subject_id": student, "kind": "student"},
    ]
    with database.sessions() as session:
        statuses = {
            (consent.student_id, consent.status) for consent in session.scalars(select(Consent))
        }
    assert statuses == {(student, "ended"), (sibling, "given")}

    # When the sibling leaves too, nothing holds the father's data any longer.
    assert {"subject_id": father, "kind": "guardian"} in leave(database, sibling)
    database.dispose()
