"""Grading scales are data: built-in ones and a school's own; work types carry weights (R-JRN-4)."""

from __future__ import annotations

from flask.testing import FlaskClient

from .conftest import API, OTHER_SCHOOL, Caller

LETTERS = {
    "code": "letters",
    "name": "Буквенная",
    "marks": [
        {"mark": "a", "score": 5, "passing": True},
        {"mark": "b", "score": 4, "passing": True},
        {"mark": "f", "score": 2, "passing": False},
    ],
}


def test_the_four_built_in_scales_are_offered_with_their_passing_marks(
    client: FlaskClient, caller: Caller
) -> None:
    scales = {
        s["code"]: s
        for s in client.get(f"{API}/grading-scales", headers=caller("subject_teacher")).json
    }
    assert set(scales) == {"five_point", "pass_fail", "ten_point", "hundred_point"}
    five = {m["mark"]: m["passing"] for m in scales["five_point"]["marks"]}
    assert five == {"1": False, "2": False, "3": True, "4": True, "5": True}
    assert len(scales["hundred_point"]["marks"]) == 101


def test_a_school_adds_its_own_scale_and_a_work_type_marked_on_it(
    client: FlaskClient, caller: Caller
) -> None:
    deputy = caller("deputy_director")
    assert client.post(f"{API}/grading-scales", json=LETTERS, headers=deputy).status_code == 201
    work_type = {"code": "essay", "name": "Эссе", "weight": 1.5, "scale": "letters"}
    assert client.post(f"{API}/work-types", json=work_type, headers=deputy).status_code == 201
    listed = client.get(f"{API}/work-types", headers=deputy).json
    assert [(w["name"], w["weight"], w["scale"]) for w in listed] == [("Эссе", 1.5, "letters")]


def test_a_scale_may_not_take_a_built_in_code_or_list_a_mark_twice(
    client: FlaskClient, caller: Caller
) -> None:
    deputy = caller("deputy_director")
    taken = client.post(
        f"{API}/grading-scales", json={**LETTERS, "code": "five_point"}, headers=deputy
    )
    assert taken.status_code == 409 and taken.json["error"]["code"] == "scale_exists"
    twice = {**LETTERS, "marks": [LETTERS["marks"][0], LETTERS["marks"][0]]}
    repeated = client.post(f"{API}/grading-scales", json=twice, headers=deputy)
    assert repeated.status_code == 422 and repeated.json["error"]["code"] == "duplicate_marks"
    assert [
        s["code"]
        for s in client.get(f"{API}/grading-scales", headers=deputy).json
        if not s["built_in"]
    ] == []


def test_a_work_type_on_another_schools_scale_is_refused(
    client: FlaskClient, caller: Caller
) -> None:
    client.post(
        f"{API}/grading-scales",
        json=LETTERS,
        headers=caller("deputy_director", school=OTHER_SCHOOL),
    )
    answer = client.post(
        f"{API}/work-types",
        json={"code": "essay", "name": "Эссе", "weight": 1, "scale": "letters"},
        headers=caller("deputy_director"),
    )
    assert answer.status_code == 404 and answer.json["error"]["code"] == "scale_not_found"


def test_a_weight_outside_0_1_to_10_is_refused_by_field(
    client: FlaskClient, caller: Caller
) -> None:
    answer = client.post(
        f"{API}/work-types",
        json={"code": "test", "name": "Тест", "weight": 0},
        headers=caller("director"),
    )
    assert answer.status_code == 422 and "weight" in answer.json["error"]["fields"]
