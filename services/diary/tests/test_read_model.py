"""The read model is built only from events, in entity-version order, gated by consent (R-DRY-1, R-DRY-3)."""

# Russian school data: Cyrillic letters that look Latin are meant.

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from diary.models import FinalMark, LoggedEvent, Mark, Person
from diary.rebuild import rebuild
from diary.testing import Family, SchoolEvents, covered_family, new_id
from schoolkit.auth import GUARDIAN
from schoolkit.db import Database

from .conftest import MONDAY, Apply, Caller


def a_school_week(school: SchoolEvents, apply: Apply, c: dict[str, str]) -> tuple[Family, Any]:
    """Class 5А with a class teacher, maths on Monday, a covered family; returns the family and lesson."""
    family = covered_family(school, c["class_id"], MONDAY - timedelta(days=60))
    maths = school.lesson(
        new_id(),
        c["class_id"],
        c["maths_id"],
        c["maths_teacher_id"],
        day=MONDAY,
        slot=1,
        topic="Дроби",
        homework="№ 12",
    )
    apply(
        school.calendar(MONDAY - timedelta(days=90), MONDAY + timedelta(days=90)),
        school.subject(c["maths_id"], "Математика"),
        school.school_class(c["class_id"], "5А", c["class_teacher_id"]),
        school.person(c["maths_teacher_id"], "staff", "Петров", "Пётр"),
        *family.events,
        maths,
    )
    return family, maths


def week_of(caller: Caller, family: Family) -> dict[str, Any]:
    answer = caller.get(
        f"/students/{family.student_id}/week?date={MONDAY}", family.guardian_id, GUARDIAN
    )
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def monday_lessons(week: dict[str, Any]) -> list[dict[str, Any]]:
    return week["days"][0]["lessons"]


def test_a_mark_shows_in_the_week_beside_its_lesson_subject_teacher_and_topic(
    school: SchoolEvents, apply: Apply, caller: Caller, class_5a: dict[str, str]
) -> None:
    family, maths = a_school_week(school, apply, class_5a)
    apply(school.mark(family.student_id, maths, 5, weight=2, work_type="control_test"))
    [lesson] = monday_lessons(week_of(caller, family))
    assert lesson["subject"] == "Математика"
    assert lesson["teacher"] == "Петров Пётр"
    assert lesson["topic"] == "Дроби"
    assert [(m["value"], m["work_type"], m["weight"]) for m in lesson["marks"]] == [
        ("5", "control_test", 2.0)
    ]


def test_an_older_lesson_version_arriving_late_does_not_overwrite_the_newer_topic(
    school: SchoolEvents, apply: Apply, caller: Caller, class_5a: dict[str, str]
) -> None:
    family, maths = a_school_week(school, apply, class_5a)
    data = maths.data
    newer = school.lesson(
        data["lesson_id"],
        data["class_id"],
        data["school_subject_id"],
        data["teacher_id"],
        day=MONDAY,
        slot=1,
        topic="Сложение дробей",
        version=3,
    )
    older = school.lesson(
        data["lesson_id"],
        data["class_id"],
        data["school_subject_id"],
        data["teacher_id"],
        day=MONDAY,
        slot=1,
        topic="Старая тема",
        version=2,
    )
    assert apply(newer, older) == [None, "stale"]
    [lesson] = monday_lessons(week_of(caller, family))
    assert lesson["topic"] == "Сложение дробей"


def test_a_corrected_mark_replaces_its_value_and_a_removed_one_disappears(
    school: SchoolEvents, apply: Apply, caller: Caller, class_5a: dict[str, str]
) -> None:
    family, maths = a_school_week(school, apply, class_5a)
    recorded = school.mark(family.student_id, maths, 3)
    kept = school.mark(family.student_id, maths, 4)
    apply(recorded, kept, school.mark_corrected(recorded, 5))
    [lesson] = monday_lessons(week_of(caller, family))
    assert sorted(m["value"] for m in lesson["marks"]) == ["4", "5"]
    apply(school.mark_removed(recorded))
    [lesson] = monday_lessons(week_of(caller, family))
    assert [m["value"] for m in lesson["marks"]] == ["4"]


def test_marks_and_names_of_a_student_without_a_diary_agreement_are_not_stored(
    school: SchoolEvents, apply: Apply, database: Database, class_5a: dict[str, str]
) -> None:
    _, maths = a_school_week(school, apply, class_5a)
    stranger = new_id()
    outcomes = apply(
        school.enrol(stranger, class_5a["class_id"], MONDAY),
        school.person(stranger, "student", "Сидоров", "Иван"),
        school.mark(stranger, maths, 2),
    )
    assert outcomes[1:] == ["ignored", "ignored"]
    with database.sessions() as session:
        assert session.scalar(select(func.count()).where(Mark.student_id == stranger)) == 0
        assert session.get(Person, (school.school_id, stranger)) is None
        logged = session.scalars(select(LoggedEvent.body)).all()
    assert not any("Сидоров" in body for body in logged)


def test_a_student_whose_agreement_comes_later_sees_the_class_timetable_at_once(
    school: SchoolEvents, apply: Apply, caller: Caller, class_5a: dict[str, str]
) -> None:
    """Class-level data is kept for every class: a late agreement still shows lessons and homework."""
    _, maths = a_school_week(school, apply, class_5a)
    student, guardian = new_id(), new_id()
    apply(
        school.enrol(student, class_5a["class_id"], MONDAY - timedelta(days=30)),
        school.guardian_linked(guardian, student),
        school.homework(maths, "§ 4, упр. 2", MONDAY + timedelta(days=2)),
    )
    late = Family(student, guardian, class_5a["class_id"], [])
    assert caller.get(f"/students/{student}/week", guardian, GUARDIAN).status_code == 404
    apply(school.agreement(guardian, student))
    [lesson] = monday_lessons(week_of(caller, late))
    assert lesson["topic"] == "Дроби"
    assert [h["text"] for h in lesson["homework"]] == ["§ 4, упр. 2"]


def test_after_the_agreement_ends_later_marks_about_the_student_are_dropped(
    school: SchoolEvents, apply: Apply, database: Database, class_5a: dict[str, str]
) -> None:
    family, maths = a_school_week(school, apply, class_5a)
    concluded = family.events[1]
    apply(school.termination(concluded, datetime.now(UTC) - timedelta(seconds=1)))
    assert apply(school.mark(family.student_id, maths, 5)) == ["ignored"]
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Mark)) == 0


def test_a_termination_that_takes_effect_later_lets_marks_in_until_then(
    school: SchoolEvents, apply: Apply, class_5a: dict[str, str]
) -> None:
    family, maths = a_school_week(school, apply, class_5a)
    apply(school.termination(family.events[1], datetime.now(UTC) + timedelta(days=14)))
    assert apply(school.mark(family.student_id, maths, 5)) == [None]


def test_a_revoked_consent_stops_processing_at_once(
    school: SchoolEvents, apply: Apply, caller: Caller, class_5a: dict[str, str]
) -> None:
    family, maths = a_school_week(school, apply, class_5a)
    apply(school.revocation(family.guardian_id, family.student_id))
    assert apply(school.mark(family.student_id, maths, 5)) == ["ignored"]
    answer = caller.get(f"/students/{family.student_id}/week", family.guardian_id, GUARDIAN)
    assert answer.status_code == 404


def test_finals_are_kept_only_for_students_with_an_agreement(
    school: SchoolEvents, apply: Apply, database: Database, class_5a: dict[str, str]
) -> None:
    family, _ = a_school_week(school, apply, class_5a)
    stranger = new_id()
    apply(
        school.finals(
            class_5a["class_id"], class_5a["maths_id"], {family.student_id: 5, stranger: 3}
        )
    )
    with database.sessions() as session:
        students = session.scalars(select(FinalMark.student_id)).all()
        logged = session.scalars(select(LoggedEvent.body)).all()
    assert students == [family.student_id]
    assert not any(stranger in body for body in logged)


def test_a_transfer_shows_the_new_class_lessons_from_the_day_of_the_transfer(
    school: SchoolEvents, apply: Apply, caller: Caller, class_5a: dict[str, str]
) -> None:
    family, _ = a_school_week(school, apply, class_5a)
    class_5b = new_id()
    wednesday = MONDAY + timedelta(days=2)
    old_class_wednesday = school.lesson(
        new_id(),
        class_5a["class_id"],
        class_5a["maths_id"],
        class_5a["maths_teacher_id"],
        day=wednesday,
        slot=1,
        topic="Не наш урок",
    )
    new_class_wednesday = school.lesson(
        new_id(),
        class_5b,
        class_5a["maths_id"],
        class_5a["maths_teacher_id"],
        day=wednesday,
        slot=2,
        topic="Наш новый урок",
    )
    enrolled = family.events[2]
    apply(old_class_wednesday, new_class_wednesday, school.transfer(enrolled, class_5b, wednesday))
    week = week_of(caller, family)
    assert [lesson["topic"] for lesson in week["days"][0]["lessons"]] == ["Дроби"]
    assert [lesson["topic"] for lesson in week["days"][2]["lessons"]] == ["Наш новый урок"]


def test_rebuilding_from_the_event_log_gives_back_the_same_diary(
    school: SchoolEvents, apply: Apply, caller: Caller, database: Database, class_5a: dict[str, str]
) -> None:
    family, maths = a_school_week(school, apply, class_5a)
    recorded = school.mark(family.student_id, maths, 3)
    apply(
        recorded,
        school.mark_corrected(recorded, 4),
        school.attendance(family.student_id, maths, "late"),
        school.homework(maths, "§ 5", MONDAY + timedelta(days=1)),
        school.transfer(family.events[2], class_5a["class_id"], MONDAY - timedelta(days=10)),
    )
    before = week_of(caller, family)
    with database.transaction() as session:
        replayed = rebuild(session)
    assert replayed >= 12
    after = week_of(caller, family)
    assert after == before
    [lesson] = monday_lessons(after)
    assert [m["value"] for m in lesson["marks"]] == ["4"]
    assert lesson["attendance"] == {"status": "late", "reason": None}
