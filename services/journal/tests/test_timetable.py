"""The deputy director builds the weekly timetable and generates a quarter's lessons
(R-JRN-6, R-ROLE-2): holidays are skipped, generating twice makes nothing twice, and a
template that names what the school does not have is refused with nothing stored."""

from __future__ import annotations

from typing import Any

import pytest

from .conftest import API, OTHER_SCHOOL, new_id
from .timetable_setup import HOLIDAY, TimetableSchool, tt

__all__ = ["tt"]

MONDAYS_BUT_THE_HOLIDAY = [
    "2025-09-01",
    "2025-09-08",
    "2025-09-15",
    "2025-09-22",
    "2025-09-29",
    "2025-10-13",
    "2025-10-20",
]


def maths_on_monday_first(tt: TimetableSchool, **extra: Any) -> Any:
    line = {
        "class_id": tt.class_a,
        "subject_id": tt.maths,
        "teacher_id": tt.maths_teacher,
        "room_id": tt.room,
    }
    return tt.entry(**{**line, **extra})


def timetable_of(tt: TimetableSchool) -> list[Any]:
    answer = tt.client.get(f"{API}/timetable", headers=tt.deputy)
    assert answer.status_code == 200
    return answer.json


def test_a_weekly_template_gives_every_monday_of_the_quarter_a_lesson_but_the_holiday(
    tt: TimetableSchool, published: Any
) -> None:
    maths_on_monday_first(tt)

    outcome = tt.generate()

    assert outcome["created"] == 7
    assert outcome["skipped_holidays"] == [HOLIDAY]
    lessons = tt.lessons(published)
    assert [lesson["date"] for lesson in lessons] == MONDAYS_BUT_THE_HOLIDAY
    first = lessons[0]
    assert first["change"] == "scheduled"
    assert (first["teacher_id"], first["room_id"], first["slot"]) == (
        tt.maths_teacher,
        tt.room,
        1,
    )
    # 08:30 by the bell in Moscow is 05:30 UTC.
    assert (first["starts_at"], first["ends_at"]) == (
        "2025-09-01T05:30:00.000Z",
        "2025-09-01T06:15:00.000Z",
    )


def test_generating_the_same_quarter_again_creates_no_second_lesson(
    tt: TimetableSchool, published: Any
) -> None:
    maths_on_monday_first(tt)
    tt.generate()

    assert tt.generate()["created"] == 0
    assert len(tt.lessons(published)) == 7


def test_a_line_added_later_is_generated_alone_the_next_time(
    tt: TimetableSchool, published: Any
) -> None:
    maths_on_monday_first(tt)
    tt.generate()
    maths_on_monday_first(tt, weekday=2, slot=2)

    assert tt.generate()["created"] == 8  # every Tuesday of the quarter
    assert len(tt.lessons(published)) == 15


def test_generated_lessons_are_the_teachers_to_write(tt: TimetableSchool, published: Any) -> None:
    maths_on_monday_first(tt)
    tt.generate()
    lesson_id = tt.lessons(published)[0]["lesson_id"]
    work_type = tt.post("/work-types", {"code": "oral", "name": "Устный ответ", "weight": 1})

    body = {
        "lesson_id": lesson_id,
        "student_id": tt.students_a[0],
        "work_type_id": work_type["work_type_id"],
        "value": "5",
    }
    answer = tt.client.post(f"{API}/marks", json=body, headers=tt.as_teacher(tt.maths_teacher))
    assert answer.status_code == 201, answer.json


def test_a_template_in_a_room_the_school_does_not_have_is_refused_and_nothing_stored(
    tt: TimetableSchool,
) -> None:
    answer = maths_on_monday_first(tt, room_id=new_id(), status=404)
    assert answer["error"]["code"] == "room_not_found"
    assert "room_id" in answer["error"]["fields"]
    assert timetable_of(tt) == []


def test_a_template_in_another_schools_room_is_refused(tt: TimetableSchool) -> None:
    other_deputy = tt.caller("deputy_director", school=OTHER_SCHOOL)
    foreign = tt.client.post(f"{API}/rooms", json={"name": "101"}, headers=other_deputy).json
    answer = maths_on_monday_first(tt, room_id=foreign["room_id"], status=404)
    assert answer["error"]["code"] == "room_not_found"


def test_a_removed_room_comes_back_when_its_name_is_added_again(tt: TimetableSchool) -> None:
    """Issue 14 §11a: adding a removed room's name again was a 500 (the kept row holds the
    name); now the same room is back in the list, and a name in use is still a 409."""
    first = tt.client.post(f"{API}/rooms", json={"name": "303"}, headers=tt.deputy).json
    removed = tt.client.delete(f"{API}/rooms/{first['room_id']}", headers=tt.deputy)
    assert removed.status_code == 204

    again = tt.client.post(f"{API}/rooms", json={"name": "303", "capacity": 12}, headers=tt.deputy)

    assert again.status_code == 201, again.json
    assert again.json == {"room_id": first["room_id"], "name": "303", "capacity": 12}
    listed = tt.client.get(f"{API}/rooms", headers=tt.deputy).json
    assert [room["room_id"] for room in listed if room["name"] == "303"] == [first["room_id"]]
    taken = tt.client.post(f"{API}/rooms", json={"name": "303"}, headers=tt.deputy)
    assert taken.status_code == 409
    assert taken.json["error"]["code"] == "room_exists"


def test_a_lesson_number_without_a_bell_is_refused(tt: TimetableSchool) -> None:
    answer = maths_on_monday_first(tt, slot=7, status=422)
    assert answer["error"]["code"] == "no_bell_for_slot"
    assert "slot" in answer["error"]["fields"]


def test_a_teacher_without_that_teaching_load_is_refused(tt: TimetableSchool) -> None:
    answer = tt.entry(
        class_id=tt.class_b, subject_id=tt.maths, teacher_id=tt.maths_teacher, status=422
    )
    assert answer["error"]["code"] == "not_in_teaching_load"
    assert timetable_of(tt) == []


def test_one_teacher_in_two_places_at_once_is_refused(tt: TimetableSchool) -> None:
    tt.load(tt.maths_teacher, tt.maths, class_id=tt.class_b)
    maths_on_monday_first(tt)
    answer = tt.entry(
        class_id=tt.class_b, subject_id=tt.maths, teacher_id=tt.maths_teacher, status=409
    )
    assert answer["error"]["code"] == "teacher_busy"


def test_one_room_for_two_classes_at_once_is_refused(tt: TimetableSchool) -> None:
    tt.load(tt.english_teacher, tt.english, class_id=tt.class_b)
    maths_on_monday_first(tt)
    answer = tt.entry(
        class_id=tt.class_b,
        subject_id=tt.english,
        teacher_id=tt.english_teacher,
        room_id=tt.room,
        status=409,
    )
    assert answer["error"]["code"] == "room_busy"


def test_a_bell_that_ends_before_it_starts_is_refused_naming_it(tt: TimetableSchool) -> None:
    bells = {"bells": [{"slot": 1, "starts": "09:00", "ends": "08:15"}]}
    answer = tt.client.put(f"{API}/bells", json=bells, headers=tt.deputy)
    assert answer.status_code == 422
    assert "bells.0.ends" in answer.json["error"]["fields"]
    assert tt.client.get(f"{API}/bells", headers=tt.deputy).json["bells"][0]["starts"] == "08:30"


def test_a_subject_teacher_does_not_set_up_the_timetable(tt: TimetableSchool) -> None:
    # R-ROLE-2: the timetable is the deputy director's.
    body = {
        "class_id": tt.class_a,
        "subject_id": tt.maths,
        "teacher_id": tt.maths_teacher,
        "weekday": 1,
        "slot": 1,
    }
    answer = tt.client.post(f"{API}/timetable", json=body, headers=tt.as_teacher(tt.maths_teacher))
    assert answer.status_code == 403
    assert timetable_of(tt) == []


def test_generating_another_schools_period_is_not_found(tt: TimetableSchool) -> None:
    maths_on_monday_first(tt)
    other_deputy = tt.caller("deputy_director", school=OTHER_SCHOOL)
    answer = tt.client.post(
        f"{API}/timetable/generate", json={"period_id": tt.quarter_id}, headers=other_deputy
    )
    assert answer.status_code == 404
    assert answer.json["error"]["code"] == "period_not_found"


def test_every_template_line_and_generated_lesson_is_in_the_audit_chain(
    tt: TimetableSchool,
) -> None:
    maths_on_monday_first(tt)
    tt.generate()
    verdict = tt.client.get(f"{API}/audit/verify", headers=tt.deputy).json
    # The fixture's year, quarter, holiday, two classes, two subjects, the maths load and
    # three enrolments (11, recorded since the whole year's set-up is audited); then bells,
    # room, template line, seven lessons.
    assert verdict == {"intact": True, "entries": 21, "first_broken_seq": None}


SET_UP_BY_THE_DEPUTY = [
    ("POST", "/rooms", {"name": "202"}),
    ("PUT", "/bells", {"bells": [{"slot": 1, "starts": "08:00", "ends": "08:45"}]}),
    ("POST", "/timetable/generate", {}),
    ("POST", "/lessons/{lesson}/transfer", {"date": "2025-09-03", "slot": 2, "reason": "Нужно"}),
    ("PUT", "/lessons/{lesson}/control-test", {"form": "test"}),
    ("PUT", "/students/{student}/individual-plan", {"individual_plan": True}),
]


@pytest.mark.parametrize("call", SET_UP_BY_THE_DEPUTY, ids=lambda call: call[1])
@pytest.mark.parametrize("role", ["subject_teacher", "class_teacher", "administrator"])
def test_only_the_director_and_deputy_set_up_the_timetable(
    tt: TimetableSchool, published: Any, call: tuple[str, str, dict[str, Any]], role: str
) -> None:
    # R-ROLE-2: rooms, bells, timetable, transfers, control tests and individual plans.
    method, path, body = call
    maths_on_monday_first(tt)
    tt.generate()
    lesson = tt.lessons(published)[0]["lesson_id"]
    before = len(published("journal.lesson.changed"))
    body = {**body, "period_id": tt.quarter_id} if path.endswith("generate") else body
    url = API + path.format(lesson=lesson, student=tt.students_a[0])
    answer = tt.client.open(url, method=method, json=body, headers=tt.caller(role))
    assert answer.status_code == 403
    assert len(published("journal.lesson.changed")) == before


def test_a_load_for_another_schools_group_is_not_found(tt: TimetableSchool) -> None:
    other_deputy = tt.caller("deputy_director", school=OTHER_SCHOOL)
    answer = tt.client.post(
        f"{API}/assignments",
        json={"teacher_id": new_id(), "subject_id": tt.maths, "class_id": tt.class_a},
        headers=other_deputy,
    )
    assert answer.status_code == 404
    group = tt.post("/groups", {"kind": "group", "name": "Группа", "class_ids": [tt.class_a]})
    members = tt.client.put(
        f"{API}/groups/{group['group_id']}/members",
        json={"student_ids": []},
        headers=other_deputy,
    )
    assert members.status_code == 404 and members.json["error"]["code"] == "group_not_found"


def test_a_generation_for_one_class_leaves_the_other_classes_for_later(
    tt: TimetableSchool, published: Any
) -> None:
    tt.load(tt.english_teacher, tt.english, class_id=tt.class_b)
    maths_on_monday_first(tt)
    tt.entry(class_id=tt.class_b, subject_id=tt.english, teacher_id=tt.english_teacher)

    first = tt.post(
        "/timetable/generate", {"period_id": tt.quarter_id, "class_id": tt.class_b}, 200
    )
    assert first["created"] == 7
    assert {lesson["class_id"] for lesson in tt.lessons(published)} == {tt.class_b}
    assert tt.generate()["created"] == 7  # now 5А's, and 5Б's are not made twice
