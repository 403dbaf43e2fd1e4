"""Calendar-thematic plans: the topic planned per lesson number, set against the lessons
held; written by the subject's teacher there or the deputy director (R-JRN-5, R-ROLE-2…4)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

from . import test_lessons_and_marks
from .conftest import API, Caller, new_id
from .test_audit_coverage import links_of
from .test_groups_and_load import group_lessons
from .test_lessons_and_marks import School, answers_to, lesson_on
from .timetable_setup import TimetableSchool, tt

school = test_lessons_and_marks.school  # the fixture: a year, a class, a teacher with a load
__all__ = ["tt"]

TOPICS = [
    {"lesson_number": 1, "topic": "Натуральные числа"},
    {"lesson_number": 2, "topic": "Сложение"},
    {"lesson_number": 3, "topic": "Вычитание"},
]


def period_of(client: FlaskClient, headers: dict[str, str]) -> str:
    year = client.get(f"{API}/years", headers=headers).json[0]["year_id"]
    return client.get(f"{API}/years/{year}/calendar", headers=headers).json["periods"][0][
        "period_id"
    ]


def plan_body(client: FlaskClient, school: School) -> dict[str, Any]:
    return {
        "subject_id": school.subject_id,
        "class_id": school.class_id,
        "period_id": period_of(client, school.maths_teacher),
        "topics": TOPICS,
    }


def make_plan(client: FlaskClient, school: School, headers: dict[str, str]) -> dict[str, Any]:
    answer = client.post(f"{API}/plans", json=plan_body(client, school), headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def open_lesson(client: FlaskClient, school: School, day: str, **fields: Any) -> Any:
    body = {**lesson_on(day, school), "topic": None, **fields}
    body = {name: value for name, value in body.items() if value is not None}
    return client.post(f"{API}/lessons", json=body, headers=school.maths_teacher)


def test_the_subject_teacher_plans_topics_and_sees_them_against_the_lessons_held(
    client: FlaskClient, school: School
) -> None:
    plan = make_plan(client, school, school.maths_teacher)
    open_lesson(client, school, "2025-09-02", plan_lesson_number=1)
    open_lesson(client, school, "2025-09-03", topic="Повторение")
    rows = client.get(f"{API}/plans/{plan['plan_id']}", headers=school.maths_teacher).json["rows"]
    assert [(r["planned_topic"], r["held"] and r["held"]["topic"]) for r in rows] == [
        ("Натуральные числа", "Натуральные числа"),
        ("Сложение", "Повторение"),
        ("Вычитание", None),
    ]
    assert [r["held"]["date"] for r in rows[:2]] == ["2025-09-02", "2025-09-03"]


def test_a_lesson_takes_its_topic_from_the_plan_by_lesson_number(
    client: FlaskClient, school: School, published: Any
) -> None:
    make_plan(client, school, school.maths_teacher)
    assert open_lesson(client, school, "2025-09-02", plan_lesson_number=2).status_code == 201
    assert published("journal.lesson.changed")[-1]["data"]["topic"] == "Сложение"


def test_a_lesson_number_the_plan_lacks_is_refused_and_no_lesson_opens(
    client: FlaskClient, school: School, published: Any
) -> None:
    make_plan(client, school, school.maths_teacher)
    answer = open_lesson(client, school, "2025-09-02", plan_lesson_number=9)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "not_in_plan"
    assert "plan_lesson_number" in answer.json["error"]["fields"]
    assert published("journal.lesson.changed") == []


def test_a_lesson_given_both_a_topic_and_a_plan_number_is_refused_naming_the_topic(
    client: FlaskClient, school: School
) -> None:
    answer = open_lesson(client, school, "2025-09-02", topic="Своя", plan_lesson_number=1)
    assert answer.status_code == 422 and "topic" in answer.json["error"]["fields"]


def test_a_teacher_without_that_load_cannot_plan_it_and_nothing_is_stored(
    client: FlaskClient, school: School, caller: Caller
) -> None:
    answer = client.post(
        f"{API}/plans", json=plan_body(client, school), headers=caller("subject_teacher")
    )
    # A class out of the caller's reach is answered as an unknown one (issue 14).
    assert (answer.status_code, answer.json["error"]["code"]) == (404, "class_not_found")
    assert client.get(f"{API}/plans", headers=caller("deputy_director")).json == []


def test_another_class_with_a_bad_subject_or_period_answers_as_an_unknown_class(
    client: FlaskClient, school: School, caller: Caller
) -> None:
    """Issue 14: reach of the class comes before the subject and period, whose own 404
    would tell a stranger that the class exists."""
    for stranger in (caller("subject_teacher"), caller("class_teacher")):
        for bad in ("subject_id", "period_id"):
            body = {**plan_body(client, school), bad: new_id()}
            theirs, unknown = answers_to(
                client, "/plans", body, stranger, (school.class_id, new_id())
            )
            assert theirs == unknown and unknown[0] == 404, bad
            assert unknown[1]["error"]["code"] == "class_not_found"
    assert client.get(f"{API}/plans", headers=caller("deputy_director")).json == []


def test_another_classs_group_with_a_bad_subject_answers_as_an_unknown_group(
    tt: TimetableSchool,
) -> None:
    group = tt.post("/groups", {"kind": "group", "name": "Группа 5Б", "class_ids": [tt.class_b]})
    body = {"subject_id": new_id(), "period_id": tt.quarter_id, "topics": TOPICS}
    teacher = tt.as_teacher(tt.maths_teacher)  # teaches 5А, not 5Б
    theirs, unknown = (
        tt.client.post(f"{API}/plans", json={**body, "group_id": g}, headers=teacher)
        for g in (group["group_id"], new_id())
    )
    assert (theirs.status_code, theirs.json) == (404, unknown.json)
    assert unknown.json["error"]["code"] == "group_not_found"


def test_another_classs_plan_is_answered_as_an_unknown_one_and_stays_as_it_was(
    client: FlaskClient, school: School, caller: Caller
) -> None:
    plan = make_plan(client, school, school.maths_teacher)
    stranger = caller("subject_teacher")
    for plan_id in (plan["plan_id"], new_id()):
        read = client.get(f"{API}/plans/{plan_id}", headers=stranger)
        body = {"topics": TOPICS[:1]}
        written = client.put(f"{API}/plans/{plan_id}/topics", json=body, headers=stranger)
        assert (read.status_code, read.json["error"]["code"]) == (404, "plan_not_found")
        assert (written.status_code, written.json["error"]["code"]) == (404, "plan_not_found")
    kept = client.get(f"{API}/plans/{plan['plan_id']}", headers=school.maths_teacher).json
    assert kept["version"] == plan["version"]


def test_a_second_plan_of_the_subject_for_the_same_period_is_refused(
    client: FlaskClient, school: School, caller: Caller
) -> None:
    make_plan(client, school, caller("deputy_director"))
    answer = client.post(
        f"{API}/plans", json=plan_body(client, school), headers=school.maths_teacher
    )
    assert answer.status_code == 409 and answer.json["error"]["code"] == "plan_exists"


def test_a_lesson_number_given_twice_is_refused_naming_the_topics(
    client: FlaskClient, school: School
) -> None:
    body = {**plan_body(client, school), "topics": [TOPICS[0], {**TOPICS[1], "lesson_number": 1}]}
    answer = client.post(f"{API}/plans", json=body, headers=school.maths_teacher)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "duplicate_lesson_numbers"
    assert "topics" in answer.json["error"]["fields"]


def test_the_deputys_plan_changed_by_the_teacher_is_in_the_chain_with_before_and_after(
    client: FlaskClient, school: School, caller: Caller, database_url: str
) -> None:
    plan = make_plan(client, school, caller("deputy_director"))
    changed = client.put(
        f"{API}/plans/{plan['plan_id']}/topics",
        json={"topics": TOPICS[:1]},
        headers=school.maths_teacher,
    )
    assert changed.status_code == 200 and changed.json["version"] == 2
    link = links_of(database_url, "thematic_plan")[-1]
    assert (link.author_id, link.action) == (school.maths_teacher_id, "changed")
    assert (link.before, link.after) == ({"topics": TOPICS}, {"topics": TOPICS[:1]})


def test_the_class_teacher_reads_their_classs_plan_but_does_not_change_it(
    client: FlaskClient, school: School, caller: Caller
) -> None:
    leader = new_id()
    client.patch(
        f"{API}/classes/{school.class_id}",
        json={"class_teacher_id": leader},
        headers=caller("deputy_director"),
    )
    plan = make_plan(client, school, school.maths_teacher)
    class_teacher = caller("class_teacher", person_id=leader)
    assert client.get(f"{API}/plans/{plan['plan_id']}", headers=class_teacher).status_code == 200
    answer = client.put(
        f"{API}/plans/{plan['plan_id']}/topics", json={"topics": TOPICS}, headers=class_teacher
    )
    assert answer.status_code == 403


def test_a_group_teacher_plans_their_group_and_sees_only_its_lessons_held(
    tt: TimetableSchool, published: Any
) -> None:
    group_one_lesson, _ = group_lessons(tt, published)
    group = tt.client.get(f"{API}/groups", headers=tt.deputy).json[0]["group_id"]
    body = {
        "subject_id": tt.english,
        "group_id": group,
        "period_id": tt.quarter_id,
        "topics": TOPICS,
    }
    teacher = tt.as_teacher(tt.english_teacher)
    plan = tt.client.post(f"{API}/plans", json=body, headers=teacher)
    assert plan.status_code == 201, plan.json
    rows = tt.client.get(f"{API}/plans/{plan.json['plan_id']}", headers=teacher).json["rows"]
    held = [row["held"]["lesson_id"] for row in rows if row["held"]]
    assert held[0] == group_one_lesson and len(held) == 7  # the group's Mondays of the quarter


def test_a_period_with_a_plan_cannot_be_removed_and_stays(
    client: FlaskClient, school: School, caller: Caller
) -> None:
    deputy = caller("deputy_director")
    plan = make_plan(client, school, deputy)
    answer = client.delete(f"{API}/periods/{plan['period_id']}", headers=deputy)
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "period_in_use"
    assert "thematic plans" in answer.json["error"]["message"]
    assert period_of(client, deputy) == plan["period_id"]
