"""`journal-announce`: a school's classes and enrolments, told again to whoever copies them."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import delete, select, update

from journal.announce import announce
from journal.generator import Size, generate
from journal.models import Enrolment
from schoolkit.db import Database
from schoolkit.migrate import upgrade
from schoolkit.tables import outbox


def test_an_upgraded_school_announces_its_classes_and_who_is_in_them_now(
    postgres_url: str,
) -> None:
    upgrade("journal", postgres_url)
    school = generate(postgres_url, Size.for_students(50), seed=3)
    [first_class, second_class] = school.class_ids
    gone = school.students_by_class[first_class][0]
    database = Database(postgres_url)
    with database.transaction() as session:
        session.execute(
            update(Enrolment)
            .where(Enrolment.student_id == gone)
            .values(left_on=date(2025, 10, 1), leave_reason="moved", version=2)
        )
        session.execute(delete(outbox))

    with database.transaction() as session:
        done = announce(session, school.school_id)
    with database.transaction() as session:
        events = [json.loads(body) for body in session.scalars(select(outbox.c.body))]
    database.dispose()

    classes = [e for e in events if e["type"] == "journal.class.changed"]
    enrolled = {
        e["data"]["student_id"]: e for e in events if e["type"] == "journal.student.enrolled"
    }
    assert {e["data"]["class_id"] for e in classes} == {first_class, second_class}
    assert done.students == len(enrolled) == 49  # not the student who has left
    assert gone not in enrolled
    someone = school.students_by_class[second_class][0]
    assert enrolled[someone]["data"]["class_id"] == second_class
    assert {e["school_id"] for e in events} == {school.school_id}
