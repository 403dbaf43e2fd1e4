"""A late agreement's diary is filled from the journal's and identity's answers (R-DRY-3).

Until an agreement covers a student, the diary drops their marks, attendance and name.
When one does, the diary asks (`diary.backfill.requested`, in its outbox) and applies the
answers (`journal.student.snapshot`, `identity.person.snapshot`) like the events they stand
for: idempotently, and never over a newer version of a mark, record or name.
"""

# Russian school data: Cyrillic letters that look Latin are meant.

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from diary.models import FinalMark, LoggedEvent, Mark, Person
from diary.rebuild import rebuild
from diary.testing import SchoolEvents, new_id
from schoolkit.auth import GUARDIAN
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.tables import outbox

from .conftest import MONDAY, Apply, Caller


@dataclass
class LateFamily:
    """A student of 5А whose September the journal recorded before any agreement."""

    student_id: str
    guardian_id: str
    maths: Event
    enrolled: Event
    mark: Event
    absence: Event
    student: Event
    guardian: Event


@pytest.fixture
def late(school: SchoolEvents, apply: Apply) -> LateFamily:
    class_id, maths_id, teacher = new_id(), new_id(), new_id()
    student_id, guardian_id = new_id(), new_id()
    maths = school.lesson(
        new_id(), class_id, maths_id, teacher, day=MONDAY, slot=1, topic="Дроби", homework="№ 7"
    )
    family = LateFamily(
        student_id,
        guardian_id,
        maths,
        enrolled=school.enrol(student_id, class_id, MONDAY - timedelta(days=30)),
        mark=school.mark(student_id, maths, 5, work_type="test", weight=2),
        absence=school.attendance(student_id, maths, "absent", "illness"),
        student=school.person(student_id, "student", "Кузнецова", "Дарья"),
        guardian=school.person(guardian_id, "guardian", "Кузнецова", "Елена"),
    )
    uncovered = apply(
        school.calendar(MONDAY - timedelta(days=40), MONDAY + timedelta(days=90)),
        school.subject(maths_id, "Математика"),
        school.school_class(class_id, "5А", None),
        school.person(teacher, "staff", "Петров", "Пётр"),
        school.guardian_linked(guardian_id, student_id),
        family.enrolled,
        maths,
        family.mark,
        family.absence,
        family.student,
        family.guardian,
    )
    assert uncovered[-4:] == ["ignored"] * 4  # the gate dropped them: no agreement yet
    return family


def requests_in_outbox(database: Database) -> list[dict[str, Any]]:
    with database.sessions() as session:
        bodies = session.scalars(
            select(outbox.c.body)
            .where(outbox.c.event_type == "diary.backfill.requested")
            .order_by(outbox.c.id)
        )
        return [json.loads(body) for body in bodies]


def week(caller: Caller, family: LateFamily) -> dict[str, Any]:
    answer = caller.get(
        f"/students/{family.student_id}/week?date={MONDAY}", family.guardian_id, GUARDIAN
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def monday_lesson(caller: Caller, family: LateFamily) -> dict[str, Any]:
    [lesson] = week(caller, family)["days"][0]["lessons"]
    return lesson


def answers(school: SchoolEvents, family: LateFamily, request_id: str) -> list[Event]:
    return [
        school.student_snapshot(
            family.student_id,
            [family.mark],
            [family.absence],
            request_id,
            enrolments=[family.enrolled],
        ),
        school.person_snapshot(family.student, request_id),
        school.person_snapshot(family.guardian, request_id),
    ]


def test_an_agreement_for_an_uncovered_student_asks_the_journal_and_identity(
    school: SchoolEvents, apply: Apply, database: Database, late: LateFamily
) -> None:
    apply(school.agreement(late.guardian_id, late.student_id))
    [request] = requests_in_outbox(database)
    assert request["subject"] == late.student_id
    assert request["data"]["person_ids"] == [late.student_id, late.guardian_id]

    # A second guardian's agreement: the student is covered already, only the name is missing.
    other_guardian = new_id()
    apply(school.agreement(other_guardian, late.student_id))
    assert requests_in_outbox(database)[-1]["data"]["person_ids"] == [other_guardian]
    # The first guardian's agreement again (a redelivery, a new version): nothing to ask.
    apply(school.agreement(late.guardian_id, late.student_id))
    assert len(requests_in_outbox(database)) == 2


def test_a_family_that_signs_in_october_sees_september_with_marks_attendance_and_name(
    school: SchoolEvents, apply: Apply, database: Database, caller: Caller, late: LateFamily
) -> None:
    apply(school.agreement(late.guardian_id, late.student_id))
    before = monday_lesson(caller, late)
    assert (before["topic"], before["marks"], before["attendance"]) == ("Дроби", [], None)
    assert week(caller, late)["student_name"] is None

    [request] = requests_in_outbox(database)
    assert apply(*answers(school, late, request["id"])) == [None, None, None]

    lesson = monday_lesson(caller, late)
    assert [(m["value"], m["work_type"], m["weight"]) for m in lesson["marks"]] == [
        ("5", "test", 2.0)
    ]
    assert lesson["attendance"] == {"status": "absent", "reason": "illness"}
    assert week(caller, late)["student_name"] == "Кузнецова Дарья"


def test_the_same_answer_applied_twice_changes_nothing(
    school: SchoolEvents, apply: Apply, caller: Caller, late: LateFamily
) -> None:
    apply(school.agreement(late.guardian_id, late.student_id))
    request_id = new_id()
    apply(*answers(school, late, request_id))
    first = monday_lesson(caller, late)
    apply(*answers(school, late, request_id))  # a second answer to the same request
    assert monday_lesson(caller, late) == first
    assert len(first["marks"]) == 1


def test_an_event_newer_than_the_answer_wins_whichever_arrives_first(
    school: SchoolEvents, apply: Apply, caller: Caller, late: LateFamily
) -> None:
    apply(school.agreement(late.guardian_id, late.student_id))
    corrected = school.mark_corrected(late.mark, 3)
    renamed = school.person(late.student_id, "student", "Кузнецова", "Дарина", version=2)
    # The teacher corrects the mark and identity renames the student before the answers,
    # which hold the older state, arrive: the answers lose.
    apply(corrected, renamed)
    apply(*answers(school, late, new_id()))
    assert [m["value"] for m in monday_lesson(caller, late)["marks"]] == ["3"]
    assert week(caller, late)["student_name"] == "Кузнецова Дарина"


def test_a_later_event_overrides_what_the_answer_brought(
    school: SchoolEvents, apply: Apply, caller: Caller, late: LateFamily
) -> None:
    apply(school.agreement(late.guardian_id, late.student_id))
    apply(*answers(school, late, new_id()))
    apply(school.mark_removed(late.mark, version=2))
    assert monday_lesson(caller, late)["marks"] == []
    # A mark the journal removed before answering is not brought back by an older copy.
    apply(*answers(school, late, new_id()))
    assert monday_lesson(caller, late)["marks"] == []


def test_an_answer_arriving_after_the_agreement_ended_is_dropped(
    school: SchoolEvents, apply: Apply, database: Database, late: LateFamily
) -> None:
    concluded = school.agreement(late.guardian_id, late.student_id)
    apply(concluded, school.termination(concluded))
    assert apply(*answers(school, late, new_id())) == ["ignored"] * 3
    with database.sessions() as session:
        assert session.scalars(select(Mark.mark_id)).all() == []
        assert session.get(Person, (school.school_id, late.student_id)) is None


def test_diary_rebuild_keeps_what_the_answers_brought(
    school: SchoolEvents, apply: Apply, database: Database, caller: Caller, late: LateFamily
) -> None:
    apply(school.agreement(late.guardian_id, late.student_id))
    apply(*answers(school, late, new_id()))
    before = week(caller, late)
    with database.transaction() as session:
        rebuild(session)
    after = week(caller, late)
    assert after["days"] == before["days"]
    assert after["student_name"] == "Кузнецова Дарья"


def test_a_family_that_signs_again_after_an_ended_agreement_gets_the_year_back(
    school: SchoolEvents, apply: Apply, database: Database, caller: Caller, late: LateFamily
) -> None:
    concluded = school.agreement(late.guardian_id, late.student_id)
    apply(concluded, *answers(school, late, new_id()))
    ended = school.erasure(
        students=[late.student_id],
        guardians=[late.guardian_id],
        reason="agreement_terminated",
        categories=["diary", "acknowledgements"],
    )
    apply(school.termination(concluded), ended)
    # The erasure took the marks and the enrolment spans but kept their versions: the answer
    # at the same versions brings them back all the same.
    apply(school.agreement(late.guardian_id, late.student_id))
    assert requests_in_outbox(database)[-1]["data"]["person_ids"] == [
        late.student_id,
        late.guardian_id,
    ]
    apply(*answers(school, late, new_id()))
    assert [m["value"] for m in monday_lesson(caller, late)["marks"]] == ["5"]
    assert week(caller, late)["student_name"] == "Кузнецова Дарья"


def finals_in_diary(database: Database) -> dict[str, str]:
    with database.sessions() as session:
        rows = session.execute(select(FinalMark.student_id, FinalMark.value)).all()
        return {student_id: value for student_id, value in rows}


def test_final_marks_come_back_and_the_classs_finalization_still_reaches_the_others(
    school: SchoolEvents, apply: Apply, database: Database, late: LateFamily
) -> None:
    classmate, classmates_guardian = new_id(), new_id()
    apply(school.agreement(classmates_guardian, classmate))
    class_id, subject_id = late.maths.data["class_id"], late.maths.data["school_subject_id"]
    finalized = school.finals(class_id, subject_id, {late.student_id: 4, classmate: 5})
    apply(school.agreement(late.guardian_id, late.student_id))
    answer = school.student_snapshot(late.student_id, [], [], new_id(), finalizations=[finalized])
    # The answer overtakes the class's own event, which then still counts for the classmate.
    assert apply(answer, finalized) == [None, None]
    assert finals_in_diary(database) == {late.student_id: "4", classmate: "5"}


def test_a_newer_finalization_wins_over_the_answers_final_mark(
    school: SchoolEvents, apply: Apply, database: Database, late: LateFamily
) -> None:
    class_id, subject_id = late.maths.data["class_id"], late.maths.data["school_subject_id"]
    finalized = school.finals(class_id, subject_id, {late.student_id: 4})
    apply(school.agreement(late.guardian_id, late.student_id))
    answer = school.student_snapshot(late.student_id, [], [], new_id(), finalizations=[finalized])
    again = {**finalized.data, "finals": [{**finalized.data["finals"][0], "value": 5}]}
    apply(school.event("journal.period.finalized", **{**again, "entity_version": 2}), answer)
    assert finals_in_diary(database) == {late.student_id: "5"}


def test_an_erasure_takes_every_logged_copy_of_what_the_answers_brought(
    school: SchoolEvents, apply: Apply, database: Database, late: LateFamily
) -> None:
    class_id, subject_id = late.maths.data["class_id"], late.maths.data["school_subject_id"]
    finalized = school.finals(class_id, subject_id, {late.student_id: 4})
    apply(school.agreement(late.guardian_id, late.student_id))
    request_id = new_id()
    answer = school.student_snapshot(
        late.student_id,
        [late.mark],
        [late.absence],
        request_id,
        enrolments=[late.enrolled],
        finalizations=[finalized],
    )
    apply(answer, school.person_snapshot(late.student, request_id))
    apply(school.erasure(students=[late.student_id], guardians=[late.guardian_id]))
    with database.sessions() as session:
        bodies = session.scalars(select(LoggedEvent.body)).all()
    assert not [body for body in bodies if late.student_id in body]
    assert finals_in_diary(database) == {}
