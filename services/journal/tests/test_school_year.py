"""The deputy director sets up the school year: periods, holidays, subjects, classes, load.

R-JRN-1, R-JRN-2, R-ROLE-2. Each change the diary must learn of is in the outbox, in the
shape of its contract (publish validates it) and with a rising entity_version.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from .conftest import API, OTHER_SCHOOL, Caller, new_id

YEAR = {"name": "2025/2026", "starts_on": "2025-09-01", "ends_on": "2026-05-31"}


@pytest.fixture
def deputy(caller: Caller) -> dict[str, str]:
    return caller("deputy_director")


def open_year(client: FlaskClient, headers: dict[str, str]) -> dict[str, Any]:
    answer = client.post(f"{API}/years", json=YEAR, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def add_quarter(
    client: FlaskClient, headers: dict[str, str], year_id: str, name: str, days: tuple[str, str]
) -> Any:
    starts, ends = days
    body = {
        "year_id": year_id,
        "kind": "quarter",
        "name": name,
        "starts_on": starts,
        "ends_on": ends,
    }
    return client.post(f"{API}/periods", json=body, headers=headers)


def test_the_deputy_director_sets_up_quarters_and_holidays_and_the_diary_gets_the_whole_calendar(
    client: FlaskClient, deputy: dict[str, str], published: Any
) -> None:
    year = open_year(client, deputy)
    assert (
        add_quarter(
            client, deputy, year["year_id"], "1 четверть", ("2025-09-01", "2025-10-24")
        ).status_code
        == 201
    )
    assert (
        add_quarter(
            client, deputy, year["year_id"], "2 четверть", ("2025-11-05", "2025-12-28")
        ).status_code
        == 201
    )
    holiday = {
        "year_id": year["year_id"],
        "name": "Осенние каникулы",
        "starts_on": "2025-10-25",
        "ends_on": "2025-11-04",
    }
    assert client.post(f"{API}/holidays", json=holiday, headers=deputy).status_code == 201

    calendar = client.get(f"{API}/years/{year['year_id']}/calendar", headers=deputy).json
    assert [p["name"] for p in calendar["periods"]] == ["1 четверть", "2 четверть"]
    assert [h["name"] for h in calendar["holidays"]] == ["Осенние каникулы"]

    sent = published("journal.calendar.changed")
    assert [e["data"]["entity_version"] for e in sent] == [1, 2, 3, 4]
    last = sent[-1]["data"]
    assert [p["name"] for p in last["periods"]] == ["1 четверть", "2 четверть"]
    assert last["holidays"][0]["starts_on"] == "2025-10-25"


def test_a_quarter_that_overlaps_another_quarter_is_refused_and_nothing_changes(
    client: FlaskClient, deputy: dict[str, str], published: Any
) -> None:
    year = open_year(client, deputy)
    add_quarter(client, deputy, year["year_id"], "1 четверть", ("2025-09-01", "2025-10-24"))
    answer = add_quarter(
        client, deputy, year["year_id"], "2 четверть", ("2025-10-20", "2025-12-28")
    )
    assert answer.status_code == 409
    assert answer.json["error"]["code"] == "periods_overlap"
    calendar = client.get(f"{API}/years/{year['year_id']}/calendar", headers=deputy).json
    assert [p["name"] for p in calendar["periods"]] == ["1 четверть"]
    assert len(published("journal.calendar.changed")) == 2


def test_the_year_period_may_span_the_quarters_for_annual_finals(
    client: FlaskClient, deputy: dict[str, str]
) -> None:
    year = open_year(client, deputy)
    add_quarter(client, deputy, year["year_id"], "1 четверть", ("2025-09-01", "2025-10-24"))
    body = {**YEAR, "year_id": year["year_id"], "kind": "year", "name": "Год"}
    assert client.post(f"{API}/periods", json=body, headers=deputy).status_code == 201


def test_a_period_outside_the_year_or_ending_before_it_starts_is_refused_by_field(
    client: FlaskClient, deputy: dict[str, str]
) -> None:
    year = open_year(client, deputy)
    outside = add_quarter(
        client, deputy, year["year_id"], "4 четверть", ("2026-04-01", "2026-06-30")
    )
    assert outside.status_code == 422
    assert outside.json["error"]["code"] == "outside_year"
    backwards = add_quarter(
        client, deputy, year["year_id"], "1 четверть", ("2025-10-01", "2025-09-01")
    )
    assert backwards.status_code == 422
    assert "ends_on" in backwards.json["error"]["fields"]


def test_two_years_of_one_school_cannot_overlap(
    client: FlaskClient, deputy: dict[str, str]
) -> None:
    open_year(client, deputy)
    again = client.post(f"{API}/years", json={**YEAR, "name": "дубль"}, headers=deputy)
    assert again.status_code == 409
    assert again.json["error"]["code"] == "years_overlap"


def test_removing_a_holiday_sends_the_calendar_without_it(
    client: FlaskClient, deputy: dict[str, str], published: Any
) -> None:
    year = open_year(client, deputy)
    holiday = {
        "year_id": year["year_id"],
        "name": "День народного единства",
        "starts_on": "2025-11-04",
        "ends_on": "2025-11-04",
    }
    holiday_id = client.post(f"{API}/holidays", json=holiday, headers=deputy).json["holiday_id"]
    assert client.delete(f"{API}/holidays/{holiday_id}", headers=deputy).status_code == 204
    last = published("journal.calendar.changed")[-1]["data"]
    assert last["holidays"] == [] and last["entity_version"] == 3


def test_subjects_classes_and_the_teaching_load_are_set_up_and_announced(
    client: FlaskClient, deputy: dict[str, str], published: Any
) -> None:
    year = open_year(client, deputy)
    subject = client.post(
        f"{API}/subjects", json={"name": "Математика", "short_name": "Мат"}, headers=deputy
    ).json
    class_teacher, maths_teacher = new_id(), new_id()
    school_class = client.post(
        f"{API}/classes",
        json={
            "year_id": year["year_id"],
            "name": "5А",
            "grade": 5,
            "class_teacher_id": class_teacher,
        },
        headers=deputy,
    ).json
    load = {
        "teacher_id": maths_teacher,
        "subject_id": subject["subject_id"],
        "class_id": school_class["class_id"],
        "hours_per_week": 5,
    }
    assert client.post(f"{API}/assignments", json=load, headers=deputy).status_code == 201

    assert (
        client.get(f"{API}/assignments?teacher_id={maths_teacher}", headers=deputy).json[0][
            "class_id"
        ]
        == school_class["class_id"]
    )
    assert published("journal.subject.changed")[0]["data"]["name"] == "Математика"
    class_event = published("journal.class.changed")[0]["data"]
    assert class_event["class_teacher_id"] == class_teacher
    assert class_event["change"] == "created" and class_event["entity_version"] == 1


def test_appointing_another_class_teacher_raises_the_class_version(
    client: FlaskClient, deputy: dict[str, str], published: Any
) -> None:
    year = open_year(client, deputy)
    class_id = client.post(
        f"{API}/classes",
        json={"year_id": year["year_id"], "name": "7Б", "grade": 7},
        headers=deputy,
    ).json["class_id"]
    new_teacher = new_id()
    answer = client.patch(
        f"{API}/classes/{class_id}", json={"class_teacher_id": new_teacher}, headers=deputy
    )
    assert answer.status_code == 200 and answer.json["class_teacher_id"] == new_teacher
    last = published("journal.class.changed")[-1]["data"]
    assert (last["change"], last["entity_version"], last["class_teacher_id"]) == (
        "updated",
        2,
        new_teacher,
    )


def test_a_teaching_load_naming_an_unknown_class_is_refused(
    client: FlaskClient, deputy: dict[str, str]
) -> None:
    subject = client.post(f"{API}/subjects", json={"name": "Физика"}, headers=deputy).json
    load = {"teacher_id": new_id(), "subject_id": subject["subject_id"], "class_id": new_id()}
    answer = client.post(f"{API}/assignments", json=load, headers=deputy)
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "class_not_found"
    assert client.get(f"{API}/assignments", headers=deputy).json == []


# Who may do what (R-ROLE-2, R-ROLE-4, R-ROLE-5..7), never across schools.


@pytest.mark.parametrize("role", ["subject_teacher", "class_teacher", "administrator"])
def test_only_the_director_and_deputy_director_set_up_the_year(
    client: FlaskClient, caller: Caller, role: str
) -> None:
    answer = client.post(f"{API}/years", json=YEAR, headers=caller(role))
    assert answer.status_code == 403
    assert client.get(f"{API}/years", headers=caller("director")).json == []


@pytest.mark.parametrize("role", ["guardian", "student", "operations"])
def test_guardians_students_and_operations_have_no_access_to_the_journal(
    client: FlaskClient, caller: Caller, deputy: dict[str, str], role: str
) -> None:
    open_year(client, deputy)
    for path in ("/years", "/subjects", "/classes", "/assignments"):
        assert client.get(f"{API}{path}", headers=caller(role)).status_code == 403


def test_teachers_read_the_year_set_up_by_their_deputy_director(
    client: FlaskClient, caller: Caller, deputy: dict[str, str]
) -> None:
    open_year(client, deputy)
    assert [
        y["name"] for y in client.get(f"{API}/years", headers=caller("subject_teacher")).json
    ] == ["2025/2026"]


def test_another_school_neither_sees_nor_changes_this_schools_year(
    client: FlaskClient, caller: Caller, deputy: dict[str, str]
) -> None:
    year = open_year(client, deputy)
    stranger = caller("deputy_director", school=OTHER_SCHOOL)
    assert client.get(f"{API}/years", headers=stranger).json == []
    answer = add_quarter(
        client, stranger, year["year_id"], "1 четверть", ("2025-09-01", "2025-10-24")
    )
    assert answer.status_code == 404
    assert (
        client.get(f"{API}/years/{year['year_id']}/calendar", headers=stranger).status_code == 404
    )
    assert (
        client.get(f"{API}/years/{year['year_id']}/calendar", headers=deputy).json["periods"] == []
    )
