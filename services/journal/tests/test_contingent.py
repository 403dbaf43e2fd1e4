"""The contingent: students enrolled, transferred with history, leaving (R-JRN-3)."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from .conftest import API, OTHER_SCHOOL, Caller, new_id


@pytest.fixture
def deputy(caller: Caller) -> dict[str, str]:
    return caller("deputy_director")


@pytest.fixture
def classes(client: FlaskClient, deputy: dict[str, str]) -> dict[str, str]:
    year = client.post(
        f"{API}/years",
        json={"name": "2025/2026", "starts_on": "2025-09-01", "ends_on": "2026-05-31"},
        headers=deputy,
    ).json
    made = {}
    for name in ("5А", "5Б"):
        body = {"year_id": year["year_id"], "name": name, "grade": 5, "class_teacher_id": new_id()}
        made[name] = client.post(f"{API}/classes", json=body, headers=deputy).json
    return {name: c["class_id"] for name, c in made.items()} | {
        f"{name} teacher": c["class_teacher_id"] for name, c in made.items()
    }


def enrol(client: FlaskClient, headers: dict[str, str], class_id: str, student: str) -> Any:
    body = {"student_id": student, "enrolled_on": "2025-09-01"}
    return client.post(f"{API}/classes/{class_id}/enrolments", json=body, headers=headers)


def test_a_student_is_enrolled_transferred_and_leaves_with_every_step_announced_and_kept(
    client: FlaskClient, deputy: dict[str, str], classes: dict[str, str], published: Any
) -> None:
    student = new_id()
    assert enrol(client, deputy, classes["5А"], student).status_code == 201
    move = {"to_class_id": classes["5Б"], "on": "2025-11-10"}
    assert (
        client.post(f"{API}/students/{student}/transfer", json=move, headers=deputy).status_code
        == 200
    )
    assert [
        e["student_id"]
        for e in client.get(f"{API}/classes/{classes['5Б']}/enrolments", headers=deputy).json
    ] == [student]
    assert client.get(f"{API}/classes/{classes['5А']}/enrolments", headers=deputy).json == []
    leaving = {"reason": "transfer", "on": "2026-01-20"}
    assert (
        client.post(f"{API}/students/{student}/leave", json=leaving, headers=deputy).status_code
        == 200
    )

    history = client.get(f"{API}/students/{student}/history", headers=deputy).json
    assert [(m["kind"], m["from_class_id"], m["to_class_id"]) for m in history] == [
        ("enrolled", None, classes["5А"]),
        ("transferred", classes["5А"], classes["5Б"]),
        ("left", classes["5Б"], None),
    ]
    transferred = published("journal.student.transferred")[0]["data"]
    assert (transferred["from_class_id"], transferred["entity_version"]) == (classes["5А"], 2)
    left = published("journal.student.left")[0]
    assert left["subject"] == student
    assert (left["data"]["reason"], left["data"]["entity_version"]) == ("transfer", 3)
    assert published("journal.student.enrolled")[0]["data"]["class_id"] == classes["5А"]


def test_a_student_already_in_a_class_is_not_enrolled_twice(
    client: FlaskClient, deputy: dict[str, str], classes: dict[str, str], published: Any
) -> None:
    student = new_id()
    enrol(client, deputy, classes["5А"], student)
    again = enrol(client, deputy, classes["5Б"], student)
    assert again.status_code == 409 and again.json["error"]["code"] == "already_enrolled"
    assert len(published("journal.student.enrolled")) == 1


def test_the_class_teacher_enrols_in_their_own_class_only(
    client: FlaskClient, caller: Caller, classes: dict[str, str]
) -> None:
    own = caller("class_teacher", person_id=classes["5А teacher"])
    assert enrol(client, own, classes["5А"], new_id()).status_code == 201
    student = new_id()
    other = enrol(client, own, classes["5Б"], student)
    unknown = enrol(client, own, new_id(), new_id())
    # Another class is answered as an unknown one, and the student is enrolled nowhere.
    assert (other.status_code, other.json) == (404, unknown.json)
    assert enrol(client, own, classes["5А"], student).status_code == 201


def test_a_class_teacher_cannot_transfer_a_student(
    client: FlaskClient, caller: Caller, deputy: dict[str, str], classes: dict[str, str]
) -> None:
    student = new_id()
    enrol(client, deputy, classes["5А"], student)
    own = caller("class_teacher", person_id=classes["5А teacher"])
    move = {"to_class_id": classes["5Б"], "on": "2025-11-10"}
    assert (
        client.post(f"{API}/students/{student}/transfer", json=move, headers=own).status_code == 403
    )


def test_leaving_needs_a_known_reason(
    client: FlaskClient, deputy: dict[str, str], classes: dict[str, str], published: Any
) -> None:
    student = new_id()
    enrol(client, deputy, classes["5А"], student)
    answer = client.post(
        f"{API}/students/{student}/leave",
        json={"reason": "bored", "on": "2026-01-20"},
        headers=deputy,
    )
    assert answer.status_code == 422 and "reason" in answer.json["error"]["fields"]
    assert published("journal.student.left") == []


def test_another_school_cannot_transfer_or_expel_this_schools_student(
    client: FlaskClient, caller: Caller, deputy: dict[str, str], classes: dict[str, str]
) -> None:
    student = new_id()
    enrol(client, deputy, classes["5А"], student)
    stranger = caller("deputy_director", school=OTHER_SCHOOL)
    leaving = {"reason": "other", "on": "2026-01-20"}
    assert (
        client.post(f"{API}/students/{student}/leave", json=leaving, headers=stranger).status_code
        == 404
    )
    assert len(client.get(f"{API}/classes/{classes['5А']}/enrolments", headers=deputy).json) == 1
    history = client.get(f"{API}/students/{student}/history", headers=stranger)
    assert (history.status_code, history.json["error"]["code"]) == (404, "student_not_found")
