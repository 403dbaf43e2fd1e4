"""Substitutions, transfers, the control-test schedule and messages to guardians
(R-JRN-6…8, R-ROLE-2, R-ROLE-4, R-NTF-2): registered with who, when and why, sent to the
diary and notify, and refused with nothing changed when they name what is not there."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from journal import audit, erasure
from journal.models import AuditValues, GroupMember, LessonMessage
from schoolkit.db import Database
from schoolkit.erasure import ErasureRequest
from schoolkit.erasure import Subject as ErasureSubject

from .conftest import API, OTHER_SCHOOL, SCHOOL, new_id
from .timetable_setup import HOLIDAY, TimetableSchool, tt

__all__ = ["tt"]


@pytest.fixture
def lesson_id(tt: TimetableSchool, published: Any) -> str:
    """Maths in 5А on Mondays at lesson 1, generated for the quarter: the first Monday's."""
    tt.entry(class_id=tt.class_a, subject_id=tt.maths, teacher_id=tt.maths_teacher)
    tt.generate()
    return str(tt.lessons(published)[0]["lesson_id"])


def a_colleague(tt: TimetableSchool) -> str:
    """A teacher of this school: they teach maths in 5Б."""
    colleague = new_id()
    tt.load(colleague, tt.maths, class_id=tt.class_b)
    return colleague


def substitute(tt: TimetableSchool, lesson_id: str, teacher_id: str, **headers: Any) -> Any:
    body = {"teacher_id": teacher_id, "reason": "Учитель на больничном"}
    return tt.client.post(
        f"{API}/lessons/{lesson_id}/substitution", json=body, headers=headers.get("as", tt.deputy)
    )


def mark(tt: TimetableSchool, lesson_id: str, teacher_id: str) -> Any:
    work_type = tt.post("/work-types", {"code": f"w{new_id()[:8]}", "name": "Ответ", "weight": 1})
    body = {
        "lesson_id": lesson_id,
        "student_id": tt.students_a[0],
        "work_type_id": work_type["work_type_id"],
        "value": "4",
    }
    return tt.client.post(f"{API}/marks", json=body, headers=tt.as_teacher(teacher_id))


def test_a_substitution_is_registered_with_who_when_and_why_and_sent(
    tt: TimetableSchool, lesson_id: str, published: Any
) -> None:
    colleague = a_colleague(tt)
    answer = substitute(tt, lesson_id, colleague)
    assert answer.status_code == 201, answer.json

    history = tt.client.get(f"{API}/lessons/{lesson_id}/changes", headers=tt.deputy).json
    assert [(c["kind"], c["reason"]) for c in history] == [
        ("substitution", "Учитель на больничном")
    ]
    assert history[0]["by"] and history[0]["at"]
    assert history[0]["before"]["teacher_id"] == tt.maths_teacher
    sent = tt.lessons(published)[-1]
    assert (sent["change"], sent["teacher_id"], sent["substituted_teacher_id"]) == (
        "substitution",
        colleague,
        tt.maths_teacher,
    )
    assert sent["entity_version"] == 2


def test_the_substitute_writes_the_lesson_they_teach(tt: TimetableSchool, lesson_id: str) -> None:
    colleague = a_colleague(tt)
    # Not theirs yet, and of a class they do not teach: as if there were no such lesson.
    assert mark(tt, lesson_id, colleague).json["error"]["code"] == "lesson_not_found"
    substitute(tt, lesson_id, colleague)
    assert mark(tt, lesson_id, colleague).status_code == 201


def test_naming_the_regular_teacher_again_ends_the_substitution(
    tt: TimetableSchool, lesson_id: str, published: Any
) -> None:
    colleague = a_colleague(tt)
    substitute(tt, lesson_id, colleague)
    assert substitute(tt, lesson_id, tt.maths_teacher).status_code == 201
    sent = tt.lessons(published)[-1]
    assert sent["teacher_id"] == tt.maths_teacher
    assert "substituted_teacher_id" not in sent
    assert mark(tt, lesson_id, colleague).status_code == 404  # out of their reach again


def test_a_substitute_teacher_of_another_school_is_not_found(
    tt: TimetableSchool, lesson_id: str, published: Any
) -> None:
    other_deputy = tt.caller("deputy_director", school=OTHER_SCHOOL)

    def post(path: str, body: dict[str, Any]) -> Any:
        return tt.client.post(f"{API}{path}", json=body, headers=other_deputy).json

    year = post("/years", {"name": "2025/2026", "starts_on": "2025-09-01", "ends_on": "2026-05-31"})
    school_class = post("/classes", {"year_id": year["year_id"], "name": "7В", "grade": 7})
    subject = post("/subjects", {"name": "Физика"})
    elsewhere = new_id()
    post(
        "/assignments",
        {
            "teacher_id": elsewhere,
            "subject_id": subject["subject_id"],
            "class_id": school_class["class_id"],
        },
    )

    answer = substitute(tt, lesson_id, elsewhere)

    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "teacher_not_found"
    assert "teacher_id" in answer.json["error"]["fields"]
    assert len(tt.lessons(published)) == 7  # nothing sent beyond the generated lessons


def test_another_schools_deputy_cannot_substitute_in_this_schools_lesson(
    tt: TimetableSchool, lesson_id: str
) -> None:
    other_deputy = tt.caller("deputy_director", school=OTHER_SCHOOL)
    answer = substitute(tt, lesson_id, new_id(), **{"as": other_deputy})
    assert answer.status_code == 404 and answer.json["error"]["code"] == "lesson_not_found"


def test_a_subject_teacher_does_not_register_substitutions(
    tt: TimetableSchool, lesson_id: str
) -> None:
    # R-ROLE-2: the deputy director marks substitutions.
    answer = substitute(tt, lesson_id, a_colleague(tt), **{"as": tt.as_teacher(tt.maths_teacher)})
    assert answer.status_code == 403


def transfer(tt: TimetableSchool, lesson_id: str, day: str, slot: int) -> Any:
    body = {"date": day, "slot": slot, "reason": "Экскурсия класса"}
    return tt.client.post(f"{API}/lessons/{lesson_id}/transfer", json=body, headers=tt.deputy)


def test_a_transfer_moves_the_lesson_to_the_new_bell_and_says_where_it_was(
    tt: TimetableSchool, lesson_id: str, published: Any
) -> None:
    answer = transfer(tt, lesson_id, "2025-09-03", 3)
    assert answer.status_code == 201, answer.json
    assert answer.json["reason"] == "Экскурсия класса"

    sent = tt.lessons(published)[-1]
    assert sent["change"] == "transfer"
    assert (sent["date"], sent["slot"], sent["starts_at"]) == (
        "2025-09-03",
        3,
        "2025-09-03T07:30:00.000Z",
    )
    assert sent["transferred_from"] == {"date": "2025-09-01", "slot": 1}


def test_a_transfer_into_a_holiday_is_refused_and_the_lesson_stays(
    tt: TimetableSchool, lesson_id: str, published: Any
) -> None:
    answer = transfer(tt, lesson_id, HOLIDAY, 2)
    assert answer.status_code == 422
    assert answer.json["error"]["code"] == "lesson_on_holiday"
    assert tt.client.get(f"{API}/lessons/{lesson_id}/changes", headers=tt.deputy).json == []
    assert len(tt.lessons(published)) == 7


def test_a_transfer_to_a_lesson_number_without_a_bell_is_refused(
    tt: TimetableSchool, lesson_id: str
) -> None:
    answer = transfer(tt, lesson_id, "2025-09-03", 9)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "no_bell_for_slot"


def test_a_control_test_is_scheduled_with_its_form_and_sent(
    tt: TimetableSchool, lesson_id: str, published: Any
) -> None:
    answer = tt.client.put(
        f"{API}/lessons/{lesson_id}/control-test", json={"form": "dictation"}, headers=tt.deputy
    )
    assert answer.status_code == 200, answer.json

    sent = tt.lessons(published)[-1]
    assert (sent["change"], sent["control_form"]) == ("control_test", "dictation")
    schedule = tt.client.get(
        f"{API}/control-tests", query_string={"class_id": tt.class_a}, headers=tt.deputy
    ).json
    assert [(c["lesson_id"], c["control_form"]) for c in schedule] == [(lesson_id, "dictation")]


def test_a_control_test_of_an_unknown_form_is_refused_naming_the_field(
    tt: TimetableSchool, lesson_id: str
) -> None:
    answer = tt.client.put(
        f"{API}/lessons/{lesson_id}/control-test", json={"form": "quiz"}, headers=tt.deputy
    )
    assert answer.status_code == 422 and "form" in answer.json["error"]["fields"]


def test_a_subject_teacher_does_not_set_the_control_test_schedule(
    tt: TimetableSchool, lesson_id: str
) -> None:
    # R-ROLE-2: the control-test schedule is the deputy director's.
    answer = tt.client.put(
        f"{API}/lessons/{lesson_id}/control-test",
        json={"form": "test"},
        headers=tt.as_teacher(tt.maths_teacher),
    )
    assert answer.status_code == 403


def send_message(tt: TimetableSchool, lesson_id: str, teacher_id: str, **body: Any) -> Any:
    return tt.client.post(
        f"{API}/lessons/{lesson_id}/messages",
        json={"text": "Повторите таблицу умножения", **body},
        headers=tt.as_teacher(teacher_id),
    )


def test_the_teacher_recommends_something_to_the_guardians_of_the_class(
    tt: TimetableSchool, lesson_id: str, published: Any
) -> None:
    answer = send_message(tt, lesson_id, tt.maths_teacher, kind="recommendation")
    assert answer.status_code == 201, answer.json

    [sent] = published("journal.message.sent")
    assert "subject" not in sent  # about the whole class, no one person
    assert sent["data"]["kind"] == "recommendation"
    assert (sent["data"]["lesson_id"], sent["data"]["class_id"]) == (lesson_id, tt.class_a)
    assert sent["data"]["teacher_id"] == tt.maths_teacher
    assert "student_ids" not in sent["data"]


def test_a_message_to_one_student_names_that_student(
    tt: TimetableSchool, lesson_id: str, published: Any
) -> None:
    student = tt.students_a[1]
    assert send_message(tt, lesson_id, tt.maths_teacher, student_ids=[student]).status_code == 201
    [sent] = published("journal.message.sent")
    assert sent["data"]["student_ids"] == [student]
    assert sent["subject"] == student


def test_a_message_to_a_student_not_at_the_lesson_is_refused(
    tt: TimetableSchool, lesson_id: str, published: Any
) -> None:
    stranger = tt.enrol(tt.class_b)
    answer = send_message(tt, lesson_id, tt.maths_teacher, student_ids=[stranger])
    assert answer.status_code == 422 and answer.json["error"]["code"] == "not_in_lesson"
    assert "student_ids" in answer.json["error"]["fields"]
    assert published("journal.message.sent") == []


def test_a_teacher_writes_no_messages_about_lessons_they_do_not_teach(
    tt: TimetableSchool, lesson_id: str, published: Any
) -> None:
    # R-ROLE-4: messages to guardians only from the classes they teach; another class's
    # lesson is answered as an unknown one.
    answer = send_message(tt, lesson_id, a_colleague(tt))
    assert (answer.status_code, answer.json["error"]["code"]) == (404, "lesson_not_found")
    assert published("journal.message.sent") == []


def test_an_erasure_takes_the_student_out_of_groups_and_messages_addressed_to_them(
    tt: TimetableSchool, lesson_id: str, database_url: str
) -> None:
    erased, classmate = tt.students_a[0], tt.students_a[1]
    tt.post(
        "/groups",
        {
            "kind": "group",
            "name": "Группа 1",
            "class_ids": [tt.class_a],
            "student_ids": [erased, classmate],
        },
    )
    send_message(tt, lesson_id, tt.maths_teacher, student_ids=[erased])
    send_message(tt, lesson_id, tt.maths_teacher, student_ids=[erased, classmate])
    request = ErasureRequest(
        erasure_id=new_id(),
        school_id=SCHOOL,
        subjects=(ErasureSubject(erased, "student"),),
        reason="consent_revoked",
        categories=frozenset({"marks", "enrolments", "audit_values"}),
        retain=(),
        attempt=1,
    )

    database = Database(database_url)
    with database.transaction() as session:
        outcome = erasure.erase(session, request)
    with database.sessions() as session:
        members = set(session.scalars(select(GroupMember.student_id)))
        addressed = [m.student_ids for m in session.scalars(select(LessonMessage))]
        values = session.scalars(select(AuditValues).where(AuditValues.subject_id == erased)).all()
        everyones_values = [(row.before, row.after) for row in session.scalars(select(AuditValues))]
        verdict = audit.verify(session, SCHOOL)
    database.dispose()

    assert members == {classmate}
    assert addressed == [[classmate]]
    assert outcome.counts["marks"] == 2  # no marks, two messages
    assert values == []
    assert erased not in str(everyones_values)  # not in a classmate's values either
    assert verdict.intact


def test_the_change_history_is_the_director_and_deputys(
    tt: TimetableSchool, lesson_id: str
) -> None:
    # R-ROLE-2: the director and deputy mark substitutions and keep their history; the
    # class teacher and the lesson's teacher see the substitution in the lesson itself.
    substitute(tt, lesson_id, a_colleague(tt))
    class_teacher = tt.caller("class_teacher", person_id=tt.class_teacher_a)
    for teacher in (class_teacher, tt.as_teacher(tt.maths_teacher)):
        answer = tt.client.get(f"{API}/lessons/{lesson_id}/changes", headers=teacher)
        assert answer.status_code == 403
    director = tt.caller("director")
    answer = tt.client.get(f"{API}/lessons/{lesson_id}/changes", headers=director)
    assert answer.status_code == 200 and len(answer.json) == 1


def test_a_teacher_of_another_class_reads_neither_changes_nor_messages_of_this_lesson(
    tt: TimetableSchool, lesson_id: str
) -> None:
    # R-ROLE-4: a subject teacher reads only the classes they teach.
    send_message(tt, lesson_id, tt.maths_teacher)
    outsider = tt.as_teacher(a_colleague(tt))
    answer = tt.client.get(f"{API}/lessons/{lesson_id}/changes", headers=outsider)
    assert answer.status_code == 403  # the role, whatever the lesson (R-ROLE-2)
    answer = tt.client.get(f"{API}/lessons/{lesson_id}/messages", headers=outsider)
    unknown = tt.client.get(f"{API}/lessons/{new_id()}/messages", headers=outsider)
    # Another class's lesson is answered as an unknown one: nobody learns it exists.
    assert (answer.status_code, answer.json) == (404, unknown.json)
    own = tt.client.get(
        f"{API}/lessons/{lesson_id}/messages", headers=tt.as_teacher(tt.maths_teacher)
    )
    assert [m["text"] for m in own.json] == ["Повторите таблицу умножения"]


def test_a_substitute_busy_with_their_own_lesson_then_is_refused(
    tt: TimetableSchool, lesson_id: str, published: Any
) -> None:
    colleague = a_colleague(tt)  # teaches maths in 5Б…
    tt.entry(class_id=tt.class_b, subject_id=tt.maths, teacher_id=colleague)  # …on Mondays first
    tt.generate()
    answer = substitute(tt, lesson_id, colleague)
    assert answer.status_code == 409 and answer.json["error"]["code"] == "teacher_busy"
    assert tt.client.get(f"{API}/lessons/{lesson_id}/changes", headers=tt.deputy).json == []


def test_a_transfer_onto_the_teachers_other_lesson_is_refused(
    tt: TimetableSchool, lesson_id: str
) -> None:
    tt.load(tt.maths_teacher, tt.maths, class_id=tt.class_b)
    tt.entry(class_id=tt.class_b, subject_id=tt.maths, teacher_id=tt.maths_teacher, slot=2)
    tt.generate()
    answer = transfer(tt, lesson_id, "2025-09-01", 2)
    assert answer.status_code == 409 and answer.json["error"]["code"] == "teacher_busy"
