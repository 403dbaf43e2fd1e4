"""The journal answers the diary's backfill request with the student's marks and attendance as
they stand now, in the request's school only (R-DRY-3: a late agreement's diary)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from journal.handlers import HANDLERS
from schoolkit.db import Database
from schoolkit.events import Event, iso_utc
from schoolkit.outbox import default_contracts

from . import test_lessons_and_marks
from .conftest import API, OTHER_SCHOOL, SCHOOL, new_id
from .test_lessons_and_marks import STUDENT, School, finalize, mark_for, open_lesson

school = test_lessons_and_marks.school  # the fixture: a year, a class, a teacher with a load


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    yield database
    database.dispose()


def backfill_requested(
    student_id: str = STUDENT, school_id: str = SCHOOL, *, people: list[str] | None = None
) -> Event:
    data = {
        "student_id": student_id,
        "guardian_id": new_id(),
        "agreement_id": new_id(),
        "person_ids": people or [student_id],
        "requested_at": iso_utc(datetime.now(UTC)),
    }
    event = Event("diary.backfill.requested", data, school_id, subject=student_id)
    default_contracts().validate(event.to_dict())
    return event


def handle(database: Database, event: Event) -> str | None:
    with database.transaction() as session:
        return HANDLERS[event.type](session, event)


def a_september(client: FlaskClient, school: School) -> dict[str, Any]:
    """A mark, corrected once, and an absence, in two lessons of September."""
    first, second = (
        open_lesson(client, school, "2025-09-02"),
        open_lesson(client, school, "2025-09-03"),
    )
    teacher = school.maths_teacher
    mark = client.post(f"{API}/marks", json=mark_for(first, STUDENT, school), headers=teacher)
    assert mark.status_code == 201, mark.json
    corrected = client.patch(
        f"{API}/marks/{mark.json['mark_id']}", json={"value": "4"}, headers=teacher
    )
    assert corrected.status_code == 200, corrected.json
    absent = {"lesson_id": second, "student_id": STUDENT, "status": "absent", "reason": "illness"}
    assert client.post(f"{API}/attendance", json=absent, headers=teacher).status_code == 200
    return {"mark_id": mark.json["mark_id"], "first": first, "second": second}


def test_the_answer_holds_each_mark_and_record_as_it_stands_now_for_the_diary_only(
    client: FlaskClient, school: School, database: Database, published: Any
) -> None:
    september = a_september(client, school)
    request = backfill_requested()
    assert handle(database, request) is None

    [snapshot] = published("journal.student.snapshot")
    assert snapshot["subject"] == STUDENT
    assert snapshot["data"]["request_id"] == request.id
    [mark] = snapshot["data"]["marks"]
    assert (mark["mark_id"], mark["lesson_id"], mark["lesson_date"]) == (
        september["mark_id"],
        september["first"],
        "2025-09-02",
    )
    assert (mark["value"], mark["work_type"], mark["weight"], mark["entity_version"]) == (
        4,
        "control_test",
        2.0,
        2,
    )
    [absence] = snapshot["data"]["attendance"]
    assert (absence["lesson_id"], absence["status"], absence["reason"]) == (
        september["second"],
        "absent",
        "illness",
    )
    assert snapshot["data"]["finals"] == []
    [enrolment] = snapshot["data"]["enrolments"]
    assert enrolment["spans"] == [
        {"class_id": school.class_id, "group_ids": [], "starts_on": "2025-09-01"}
    ]
    # The same state the journal's own events carry, item for item.
    [recorded] = published("journal.attendance.recorded")
    assert absence == recorded["data"]


def test_another_school_an_unknown_student_or_a_guardians_name_alone_get_no_answer(
    client: FlaskClient, school: School, database: Database, published: Any
) -> None:
    a_september(client, school)
    assert handle(database, backfill_requested(school_id=OTHER_SCHOOL)) == "ignored"
    assert handle(database, backfill_requested(new_id())) == "ignored"
    assert handle(database, backfill_requested(people=[new_id()])) == "ignored"
    assert published("journal.student.snapshot") == []


def test_a_transfer_and_a_leaving_end_the_spans_the_diary_is_given(
    client: FlaskClient, school: School, database: Database, published: Any, caller: Any
) -> None:
    deputy = caller("deputy_director")
    year_id = published("journal.class.changed")[0]["data"]["year_id"]
    other = client.post(
        f"{API}/classes", json={"year_id": year_id, "name": "5Б", "grade": 5}, headers=deputy
    ).json["class_id"]
    moves = [("transfer", {"to_class_id": other, "on": "2025-10-01"})]
    moves.append(("leave", {"reason": "transfer", "on": "2026-01-20"}))
    for path, body in moves:
        answer = client.post(f"{API}/students/{STUDENT}/{path}", json=body, headers=deputy)
        assert answer.status_code == 200, answer.json
    handle(database, backfill_requested())

    [enrolment] = published("journal.student.snapshot")[0]["data"]["enrolments"]
    assert enrolment["spans"] == [
        {
            "class_id": school.class_id,
            "group_ids": [],
            "starts_on": "2025-09-01",
            "ends_on": "2025-09-30",
        },
        {"class_id": other, "group_ids": [], "starts_on": "2025-10-01", "ends_on": "2026-01-20"},
    ]
    assert enrolment["entity_version"] == 3


def test_the_students_final_marks_come_as_the_finalization_lists_them_now(
    client: FlaskClient, school: School, database: Database, published: Any
) -> None:
    a_september(client, school)
    period_id = published("journal.calendar.changed")[-1]["data"]["periods"][0]["period_id"]
    assert finalize(client, school, school.maths_teacher, period_id, "4").status_code == 201
    handle(database, backfill_requested())

    [final] = published("journal.student.snapshot")[0]["data"]["finals"]
    [finalized] = published("journal.period.finalized")
    assert final == {
        "finalization_id": finalized["data"]["finalization_id"],
        "period_id": period_id,
        "school_subject_id": school.subject_id,
        "scale": "five_point",
        "value": 4,
        "entity_version": 1,
    }
