"""Erasure leaves nothing of the person, not even in the event log; diary-rebuild on PostgreSQL."""

# Russian school data: Cyrillic letters that look Latin are meant.

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import delete, select

from diary.handlers import HANDLERS
from diary.models import (
    Acknowledgement,
    Homework,
    Lesson,
    LoggedEvent,
    Mark,
    Message,
    MessageRecipient,
)
from diary.rebuild import main as rebuild_main
from diary.testing import SchoolEvents, covered_family, new_id
from schoolkit import tombstones
from schoolkit.auth import GUARDIAN
from schoolkit.db import Database
from schoolkit.migrate import upgrade

from .conftest import MONDAY, Apply, Caller
from .scene import Scene, class_5a_this_week


@pytest.fixture
def scene(school: SchoolEvents, apply: Apply) -> Scene:
    return class_5a_this_week(school, apply)


def test_erasing_one_of_two_addressees_keeps_the_message_for_the_other_and_forgets_the_first(
    school: SchoolEvents, apply: Apply, database: Database, scene: Scene
) -> None:
    sibling = covered_family(school, scene.class_id, MONDAY - timedelta(days=10))
    apply(*sibling.events)
    erased, kept = scene.family.student_id, sibling.student_id
    message = school.message(
        scene.class_id, scene.class_teacher_id, "Вам обоим", student_ids=[erased, kept]
    )
    apply(message, school.erasure(students=[erased]))
    with database.sessions() as session:
        recipients = session.scalars(select(MessageRecipient.student_id)).all()
        assert recipients == [kept]
        assert session.get(Message, (school.school_id, message.data["message_id"])) is not None
        logged = session.scalars(select(LoggedEvent.body)).all()
    assert not any(erased in body for body in logged)
    logged_message = next(json.loads(b) for b in logged if "Вам обоим" in b)
    assert logged_message["data"]["student_ids"] == [kept]


def test_an_erased_guardian_loses_access_and_their_acknowledgements(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    family = scene.family
    caller.post(
        f"/students/{family.student_id}/acknowledgements",
        family.guardian_id,
        GUARDIAN,
        json={"scope": "diary", "until": MONDAY.isoformat()},
    )
    apply(school.erasure(guardians=[family.guardian_id]))
    answer = caller.get(f"/students/{family.student_id}/week", family.guardian_id, GUARDIAN)
    assert answer.status_code == 404


def test_diary_rebuild_brings_back_a_damaged_read_model_on_postgres(
    postgres_url: str, school: SchoolEvents, monkeypatch: pytest.MonkeyPatch
) -> None:
    upgrade("diary", postgres_url)
    database = Database(postgres_url)
    class_id, teacher = new_id(), new_id()
    family = covered_family(school, class_id, MONDAY - timedelta(days=10))
    lesson = school.lesson(new_id(), class_id, new_id(), teacher, day=MONDAY, slot=1, topic="Тема")
    mark = school.mark(family.student_id, lesson, 4)
    for event in [*family.events, lesson, mark]:
        with database.transaction() as session:
            HANDLERS[event.type](session, event)
    with database.transaction() as session:
        session.execute(delete(Mark))
        session.execute(delete(Lesson))
    monkeypatch.setenv("DIARY_DATABASE_URL", postgres_url)
    assert rebuild_main([]) == 0
    with database.sessions() as session:
        assert session.scalars(select(Mark.value)).all() == ["4"]
        assert session.scalars(select(Lesson.topic)).all() == ["Тема"]
    database.dispose()


def test_a_late_link_or_agreement_of_an_erased_guardian_brings_nothing_back(
    school: SchoolEvents, apply: Apply, scene: Scene
) -> None:
    guardian = scene.family.guardian_id
    apply(school.erasure(guardians=[guardian]))
    student = new_id()
    outcomes = apply(school.guardian_linked(guardian, student), school.agreement(guardian, student))
    assert outcomes == ["tombstoned", "tombstoned"]


def test_individual_homework_set_for_an_erased_student_alone_goes_with_them(
    school: SchoolEvents, apply: Apply, database: Database, scene: Scene
) -> None:
    student = scene.family.student_id
    apply(
        school.homework(scene.maths, "Только для неё", MONDAY, student_ids=[student]),
        school.erasure(students=[student]),
    )
    with database.sessions() as session:
        assert session.scalars(select(Homework.text)).all() == []


def test_a_family_that_signs_again_after_ending_the_agreement_gets_a_new_diary(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    family = scene.family
    concluded = next(e for e in family.events if e.type == "consent.agreement.concluded")
    apply(
        school.termination(concluded),
        school.erasure(
            students=[family.student_id],
            guardians=[family.guardian_id],
            reason="agreement_terminated",
            categories=["diary", "acknowledgements"],  # the policy's list for this trigger
        ),
    )
    week = f"/students/{family.student_id}/week?date={MONDAY.isoformat()}"
    assert caller.get(week, family.guardian_id, GUARDIAN).status_code == 404
    # A late mark under the ended agreement brings nothing back.
    assert apply(school.mark(family.student_id, scene.maths, 2)) == ["ignored"]

    # Months later the guardian signs a new agreement: the diary starts again, empty of
    # what was erased, with what the journal sends from now on.
    outcomes = apply(
        school.agreement(family.guardian_id, family.student_id),
        school.enrol(family.student_id, family.class_id, MONDAY - timedelta(days=1)),
        school.mark(family.student_id, scene.maths, 5),
    )
    assert "tombstoned" not in outcomes
    answer = caller.get(week, family.guardian_id, GUARDIAN)
    assert answer.status_code == 200
    values = [
        m["value"]
        for day in answer.json["days"]
        for lesson in day["lessons"]
        for m in lesson["marks"]
    ]
    assert values == ["5"]


def test_another_schools_erasure_naming_our_family_erases_and_buries_nothing_here(
    school: SchoolEvents, apply: Apply, caller: Caller, database: Database, scene: Scene
) -> None:
    family = scene.family
    other_school = SchoolEvents(school_id="school-255")
    apply(other_school.erasure(students=[family.student_id], guardians=[family.guardian_id]))

    week = f"/students/{family.student_id}/week?date={MONDAY.isoformat()}"
    assert caller.get(week, family.guardian_id, GUARDIAN).status_code == 200
    # A later link of ours about the same people is still ours to apply.
    assert apply(school.guardian_linked(family.guardian_id, new_id())) == [None]
    with database.sessions() as session:
        assert not tombstones.is_erased(
            session, school.school_id, family.student_id, family.guardian_id
        )


def test_an_erased_guardians_still_valid_token_acknowledges_nothing(
    school: SchoolEvents, apply: Apply, caller: Caller, database: Database, scene: Scene
) -> None:
    family = scene.family
    apply(school.erasure(guardians=[family.guardian_id]))
    answer = caller.post(
        f"/students/{family.student_id}/acknowledgements",
        family.guardian_id,
        GUARDIAN,
        json={"scope": "diary", "until": MONDAY.isoformat()},
    )
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "not_found"
    with database.sessions() as session:
        assert session.scalars(select(Acknowledgement)).all() == []
