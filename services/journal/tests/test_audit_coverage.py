"""Every kind of change of journal data is a link of the chain naming its author, the
action and the values before and after (R-SEC-4, R-JRN-11, issue 4 §5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, select

from journal.models import AuditEntry, AuditValues

from . import test_lessons_and_marks
from .conftest import API, Caller, new_id
from .test_lessons_and_marks import School, give_mark, open_lesson

school = test_lessons_and_marks.school  # the fixture: a year, a class, a teacher with a load


@dataclass(frozen=True)
class Link:
    author_id: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def links_of(database_url: str, entity: str) -> list[Link]:
    """The chain's entries about one kind of entity, oldest first, with their values."""
    query = (
        select(AuditEntry, AuditValues)
        .join(AuditValues, AuditValues.entry_id == AuditEntry.entry_id)
        .where(AuditEntry.entity == entity)
        .order_by(AuditEntry.seq)
    )
    engine = create_engine(database_url)
    with engine.connect() as connection:
        rows = connection.execute(query).all()
    engine.dispose()
    return [
        Link(row.author_id, row.action, row.entity, row.entity_id, row.before, row.after)
        for row in rows
    ]


@pytest.fixture
def deputy(caller: Caller) -> tuple[str, dict[str, str]]:
    person = new_id()
    return person, caller("deputy_director", person_id=person)


def send(
    client: FlaskClient, method: str, path: str, headers: dict[str, str], body: Any = None
) -> Any:
    answer = client.open(f"{API}{path}", method=method, json=body, headers=headers)
    assert answer.status_code in {200, 201, 204}, answer.json
    return answer.json


@pytest.fixture(autouse=True)
def chain_stays_intact(client: FlaskClient, caller: Caller) -> Any:
    yield
    verdict = client.get(f"{API}/audit/verify", headers=caller("deputy_director")).json
    assert verdict["intact"], verdict


def test_a_year_and_its_period_and_holiday_added_then_removed_are_each_in_the_chain(
    client: FlaskClient, deputy: tuple[str, dict[str, str]], database_url: str
) -> None:
    person, headers = deputy
    year = send(
        client,
        "POST",
        "/years",
        headers,
        {"name": "2030/2031", "starts_on": "2030-09-01", "ends_on": "2031-05-31"},
    )
    dates = {"starts_on": "2030-11-04", "ends_on": "2030-11-04"}
    period_body = {"year_id": year["year_id"], "kind": "quarter", "name": "2 четверть", **dates}
    period = send(client, "POST", "/periods", headers, period_body)
    holiday_body = {"year_id": year["year_id"], "name": "День народного единства", **dates}
    holiday = send(client, "POST", "/holidays", headers, holiday_body)
    send(client, "DELETE", f"/periods/{period['period_id']}", headers)
    send(client, "DELETE", f"/holidays/{holiday['holiday_id']}", headers)

    assert links_of(database_url, "year")[-1] == Link(
        person,
        "added",
        "year",
        year["year_id"],
        None,
        {"name": "2030/2031", "starts_on": "2030-09-01", "ends_on": "2031-05-31"},
    )
    period_links = [
        (link.action, link.before, link.after) for link in links_of(database_url, "period")
    ]
    assert period_links == [("added", None, period_body), ("removed", period_body, None)]
    holiday_links = [
        (link.author_id, link.action, link.before, link.after)
        for link in links_of(database_url, "holiday")
    ]
    holiday_values = {key: holiday_body[key] for key in ("name", "starts_on", "ends_on")}
    assert holiday_links == [
        (person, "added", None, holiday_body),
        (person, "removed", holiday_values, None),
    ]


def test_a_subject_added_and_removed_is_in_the_chain(
    client: FlaskClient, deputy: tuple[str, dict[str, str]], database_url: str
) -> None:
    person, headers = deputy
    subject = send(client, "POST", "/subjects", headers, {"name": "Черчение", "short_name": "Черч"})
    send(client, "DELETE", f"/subjects/{subject['subject_id']}", headers)
    values = {"name": "Черчение", "short_name": "Черч"}
    assert links_of(database_url, "subject")[-2:] == [
        Link(person, "added", "subject", subject["subject_id"], None, values),
        Link(person, "removed", "subject", subject["subject_id"], values, None),
    ]


def test_a_class_teacher_appointed_to_a_class_shows_before_and_after(
    client: FlaskClient, school: School, deputy: tuple[str, dict[str, str]], database_url: str
) -> None:
    person, headers = deputy
    teacher = new_id()
    send(client, "PATCH", f"/classes/{school.class_id}", headers, {"class_teacher_id": teacher})
    link = links_of(database_url, "class")[-1]
    assert (link.author_id, link.action, link.entity_id) == (person, "changed", school.class_id)
    assert (link.before["class_teacher_id"], link.after["class_teacher_id"]) == (None, teacher)
    assert link.before["name"] == link.after["name"] == "5А"


def test_a_work_type_and_a_grading_scale_added_are_in_the_chain(
    client: FlaskClient, deputy: tuple[str, dict[str, str]], database_url: str
) -> None:
    person, headers = deputy
    marks = [
        {"mark": "a", "score": 5, "passing": True},
        {"mark": "f", "score": 1, "passing": False},
    ]
    send(
        client,
        "POST",
        "/grading-scales",
        headers,
        {"code": "letters", "name": "Буквы", "marks": marks},
    )
    body = {"code": "essay", "name": "Сочинение", "weight": 3, "scale": "letters"}
    work_type = send(client, "POST", "/work-types", headers, body)

    scale_link = links_of(database_url, "grading_scale")[-1]
    assert (scale_link.author_id, scale_link.action, scale_link.before) == (person, "added", None)
    assert [mark["mark"] for mark in scale_link.after["marks"]] == ["a", "f"]
    link = links_of(database_url, "work_type")[-1]
    assert (link.author_id, link.action, link.entity_id) == (
        person,
        "added",
        work_type["work_type_id"],
    )
    assert (link.before, link.after["code"], link.after["weight"]) == (None, "essay", 3.0)


def test_the_whole_class_teaching_load_is_in_the_chain(
    client: FlaskClient, school: School, deputy: tuple[str, dict[str, str]], database_url: str
) -> None:
    person, headers = deputy
    teacher = new_id()
    body = {"teacher_id": teacher, "subject_id": school.subject_id, "class_id": school.class_id}
    assignment = send(client, "POST", "/assignments", headers, body)
    assert links_of(database_url, "assignment")[-1] == Link(
        person,
        "added",
        "assignment",
        assignment["assignment_id"],
        None,
        {**body, "group_id": None},
    )


def test_a_lesson_opened_by_hand_and_its_homework_are_in_the_chain(
    client: FlaskClient, school: School, database_url: str
) -> None:
    lesson_id = open_lesson(client, school)
    homework = {"text": "№ 12, 14", "due_on": "2025-09-04"}
    send(client, "POST", f"/lessons/{lesson_id}/homework", school.maths_teacher, homework)

    lesson = links_of(database_url, "lesson")[-1]
    assert (lesson.author_id, lesson.action, lesson.entity_id) == (
        school.maths_teacher_id,
        "added",
        lesson_id,
    )
    assert (lesson.before, lesson.after["topic"], lesson.after["date"]) == (
        None,
        "Натуральные числа",
        "2025-09-02",
    )
    link = links_of(database_url, "homework")[-1]
    assert (link.author_id, link.action, link.before) == (school.maths_teacher_id, "added", None)
    assert link.after == {"lesson_id": lesson_id, **homework}


def test_an_enrolment_a_transfer_and_leaving_are_links_about_the_student(
    client: FlaskClient, school: School, deputy: tuple[str, dict[str, str]], database_url: str
) -> None:
    person, headers = deputy
    other = send(
        client,
        "POST",
        "/classes",
        headers,
        {"year_id": year_of(client, headers), "name": "5Б", "grade": 5},
    )
    student = new_id()
    send(
        client,
        "POST",
        f"/classes/{school.class_id}/enrolments",
        headers,
        {"student_id": student, "enrolled_on": "2025-09-01"},
    )
    send(
        client,
        "POST",
        f"/students/{student}/transfer",
        headers,
        {"to_class_id": other["class_id"], "on": "2025-10-01"},
    )
    send(
        client,
        "POST",
        f"/students/{student}/leave",
        headers,
        {"reason": "transfer", "on": "2025-11-01"},
    )

    links = [
        (link.author_id, link.action, link.before, link.after)
        for link in links_of(database_url, "enrolment")[-3:]  # after the fixture's own student
    ]
    move = {"individual_plan": False, "reason": None}
    assert links == [
        (
            person,
            "added",
            None,
            {**move, "move": "enrolled", "class_id": school.class_id, "on": "2025-09-01"},
        ),
        (
            person,
            "changed",
            {"class_id": school.class_id},
            {**move, "move": "transferred", "class_id": other["class_id"], "on": "2025-10-01"},
        ),
        (
            person,
            "changed",
            {"class_id": other["class_id"]},
            {**move, "move": "left", "class_id": None, "on": "2025-11-01", "reason": "transfer"},
        ),
    ]


def year_of(client: FlaskClient, headers: dict[str, str]) -> str:
    return send(client, "GET", "/years", headers)[0]["year_id"]


def test_final_marks_set_and_set_again_show_each_students_before_and_after(
    client: FlaskClient, school: School, deputy: tuple[str, dict[str, str]], database_url: str
) -> None:
    person, headers = deputy
    period_id = send(client, "GET", f"/years/{year_of(client, headers)}/calendar", headers)[
        "periods"
    ][0]["period_id"]
    first, second = new_id(), new_id()
    for student in (first, second):  # a class's finals are for its students
        enrolment = {"student_id": student, "enrolled_on": "2025-09-01"}
        send(client, "POST", f"/classes/{school.class_id}/enrolments", headers, enrolment)
    finals = {"period_id": period_id, "class_id": school.class_id, "subject_id": school.subject_id}
    send(
        client,
        "POST",
        "/finals",
        school.maths_teacher,
        {
            **finals,
            "finals": [{"student_id": first, "value": "4"}, {"student_id": second, "value": "3"}],
        },
    )
    again = send(
        client,
        "POST",
        "/finals",
        headers,
        {
            **finals,
            "finals": [{"student_id": first, "value": "5"}, {"student_id": second, "value": "3"}],
        },
    )

    finalization = links_of(database_url, "finalization")
    assert [(link.author_id, link.action, link.entity_id) for link in finalization] == [
        (school.maths_teacher_id, "added", again["finalization_id"]),
        (person, "changed", again["finalization_id"]),
    ]
    assert (finalization[1].before["version"], finalization[1].after["version"]) == (1, 2)
    marks = [
        (link.author_id, link.action, link.before, link.after)
        for link in links_of(database_url, "final_mark")
    ]
    assert sorted(marks[:2], key=str) == sorted(
        [
            (school.maths_teacher_id, "added", None, {"student_id": first, "value": "4"}),
            (school.maths_teacher_id, "added", None, {"student_id": second, "value": "3"}),
        ],
        key=str,
    )
    # The second setting changed one student's mark only: one link, not two.
    assert marks[2:] == [
        (
            person,
            "changed",
            {"student_id": first, "value": "4"},
            {"student_id": first, "value": "5"},
        )
    ]


def test_a_correction_request_and_its_approval_are_in_the_chain(
    client: FlaskClient, school: School, deputy: tuple[str, dict[str, str]], database_url: str
) -> None:
    person, headers = deputy
    mark_id = give_mark(client, school, open_lesson(client, school), "3")
    body = {"mark_id": mark_id, "value": "4", "reason": "Ошибка при вводе"}
    request = send(client, "POST", "/corrections", school.maths_teacher, body)
    send(client, "POST", f"/corrections/{request['request_id']}/approve", headers)

    links = [
        (link.author_id, link.action, link.before, link.after)
        for link in links_of(database_url, "correction_request")
    ]
    assert links == [
        (school.maths_teacher_id, "added", None, {**body, "status": "pending"}),
        (person, "changed", {"status": "pending"}, {"status": "approved"}),
    ]
    assert links_of(database_url, "mark")[-1].after["value"] == "4"
