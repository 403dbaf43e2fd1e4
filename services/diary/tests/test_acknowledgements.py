"""A guardian acknowledges the diary; class teachers see who has and has not (R-DRY-5)."""

# Russian school data: Cyrillic letters that look Latin are meant.

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from diary.models import Acknowledgement
from diary.testing import SchoolEvents, covered_family, new_id
from schoolkit.auth import CLASS_TEACHER, DIRECTOR, GUARDIAN, STUDENT
from schoolkit.db import Database
from schoolkit.outbox import default_contracts
from schoolkit.tables import outbox

from .conftest import MONDAY, TODAY, Apply, Caller
from .scene import Scene, class_5a_this_week


@pytest.fixture
def scene(school: SchoolEvents, apply: Apply) -> Scene:
    return class_5a_this_week(school, apply)


def acknowledge(caller: Caller, scene: Scene, body: dict, user_id: str | None = None) -> object:
    return caller.post(
        f"/students/{scene.family.student_id}/acknowledgements",
        user_id or scene.family.guardian_id,
        GUARDIAN,
        json=body,
    )


def published(database: Database) -> list[dict]:
    """The acknowledgements in the outbox (the scene's agreement also asked for a backfill)."""
    acknowledged = outbox.c.event_type == "diary.acknowledged"
    with database.sessions() as session:
        return [json.loads(b) for b in session.scalars(select(outbox.c.body).where(acknowledged))]


def stored(database: Database) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count()).select_from(Acknowledgement)) or 0


def test_a_guardian_acknowledges_the_diary_up_to_yesterday_and_it_is_published(
    caller: Caller, scene: Scene, database: Database
) -> None:
    yesterday = TODAY - timedelta(days=1)
    answer = acknowledge(caller, scene, {"scope": "diary", "until": yesterday.isoformat()})
    assert answer.status_code == 201
    [event] = published(database)
    default_contracts().validate(event)
    assert event["type"] == "diary.acknowledged"
    assert event["subject"] == scene.family.student_id
    assert event["data"]["until"] == yesterday.isoformat()
    assert event["data"]["guardian_id"] == scene.family.guardian_id


def test_acknowledging_the_future_is_refused_and_nothing_is_stored(
    caller: Caller, scene: Scene, database: Database
) -> None:
    tomorrow = TODAY + timedelta(days=1)
    answer = acknowledge(caller, scene, {"scope": "diary", "until": tomorrow.isoformat()})
    assert answer.status_code == 422
    assert answer.get_json()["error"]["code"] == "acknowledging_the_future"
    assert stored(database) == 0
    assert published(database) == []


def test_a_guardian_acknowledges_a_teachers_message(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene, database: Database
) -> None:
    message = school.message(scene.class_id, scene.class_teacher_id, "Экскурсия в среду")
    apply(message)
    item = {"type": "message", "id": message.data["message_id"]}
    answer = acknowledge(caller, scene, {"scope": "item", "item": item})
    assert answer.status_code == 201
    assert published(database)[0]["data"]["item"] == item


def test_a_message_to_another_family_cannot_be_acknowledged(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene, database: Database
) -> None:
    other = new_id()
    message = school.message(scene.class_id, scene.class_teacher_id, "Не вам", student_ids=[other])
    apply(school.agreement(new_id(), other), message)
    item = {"type": "message", "id": message.data["message_id"]}
    answer = acknowledge(caller, scene, {"scope": "item", "item": item})
    assert answer.status_code == 404
    assert stored(database) == 0


def test_a_diary_acknowledgement_without_a_date_is_refused(caller: Caller, scene: Scene) -> None:
    answer = acknowledge(caller, scene, {"scope": "diary"})
    assert answer.status_code == 422
    assert "until" in answer.get_json()["error"]["fields"]


def test_a_student_cannot_acknowledge_for_their_guardian(caller: Caller, scene: Scene) -> None:
    answer = caller.post(
        f"/students/{scene.family.student_id}/acknowledgements",
        scene.family.student_id,
        STUDENT,
        json={"scope": "diary", "until": TODAY.isoformat()},
    )
    assert answer.status_code == 403


def test_the_class_teacher_sees_who_has_and_who_has_not_acknowledged(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    silent = covered_family(
        school, scene.class_id, MONDAY - timedelta(days=30), names=("Белов", "Олег")
    )
    apply(*silent.events)
    yesterday = TODAY - timedelta(days=1)
    acknowledge(caller, scene, {"scope": "diary", "until": yesterday.isoformat()})
    answer = caller.get(
        f"/classes/{scene.class_id}/acknowledgements?up_to={yesterday}",
        scene.class_teacher_id,
        CLASS_TEACHER,
    )
    assert answer.status_code == 200
    by_student = {s["student_id"]: s for s in answer.get_json()["students"]}
    assert by_student[scene.family.student_id]["acknowledged"] is True
    [guardian] = by_student[scene.family.student_id]["guardians"]
    assert guardian["acknowledged_until"] == yesterday.isoformat()
    assert guardian["acknowledged_at"] is not None
    assert by_student[silent.student_id]["acknowledged"] is False
    assert by_student[silent.student_id]["student"] == "Белов Олег"


def test_another_class_teacher_cannot_see_the_class_acknowledgements(
    caller: Caller, scene: Scene
) -> None:
    answer = caller.get(f"/classes/{scene.class_id}/acknowledgements", new_id(), CLASS_TEACHER)
    assert answer.status_code == 404


def test_the_director_gets_no_overview_of_a_class_the_school_does_not_have(
    caller: Caller, scene: Scene
) -> None:
    director = new_id()
    unknown = caller.get(f"/classes/{new_id()}/acknowledgements", director, DIRECTOR)
    elsewhere = caller.get(
        f"/classes/{scene.class_id}/acknowledgements", new_id(), DIRECTOR, school_id=new_id()
    )
    own = caller.get(f"/classes/{scene.class_id}/acknowledgements", director, DIRECTOR)
    # Not an empty overview: an unknown class and another school's answer alike, 404.
    assert (unknown.status_code, elsewhere.status_code, own.status_code) == (404, 404, 200)
    assert unknown.get_json() == elsewhere.get_json()
