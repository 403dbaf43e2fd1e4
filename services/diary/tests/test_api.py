"""The diary API for web and mobile clients: what a guardian sees, and bad input refused."""

# Russian school data: Cyrillic letters that look Latin are meant.

from __future__ import annotations

from datetime import timedelta

import pytest

from diary.schemas import WeekSchema
from diary.testing import SchoolEvents, new_id
from schoolkit.auth import CLASS_TEACHER, DEPUTY_DIRECTOR, GUARDIAN, STUDENT

from .conftest import MONDAY, TODAY, Apply, Caller
from .scene import Scene, class_5a_this_week


@pytest.fixture
def scene(school: SchoolEvents, apply: Apply) -> Scene:
    return class_5a_this_week(school, apply)


def as_guardian(caller: Caller, scene: Scene, path: str, **kwargs: object) -> object:
    student = scene.family.student_id
    return caller.get(f"/students/{student}{path}", scene.family.guardian_id, GUARDIAN, **kwargs)


def test_marks_by_subject_come_with_the_weighted_average_of_the_period(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    student = scene.family.student_id
    apply(
        school.mark(student, scene.maths, 5, weight=2, work_type="control_test"),
        school.mark(student, scene.maths, 3, weight=1),
        school.mark(student, scene.maths, "pass", weight=1),
    )
    answer = as_guardian(caller, scene, f"/marks?period_id={school.period_id}")
    assert answer.status_code == 200
    [maths] = answer.get_json()["subjects"]
    assert maths["subject"] == "Математика"
    assert maths["weighted_average"] == round((5 * 2 + 3) / 3, 2)
    assert len(maths["marks"]) == 3


def test_attendance_summary_counts_absences_by_reason(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    student = scene.family.student_id
    apply(school.attendance(student, scene.maths, "absent", "illness"))
    answer = as_guardian(caller, scene, f"/attendance?from={MONDAY}&to={MONDAY}")
    body = answer.get_json()
    assert body["totals"] == {"present": 0, "absent": 1, "late": 0}
    assert body["absences_by_reason"] == {"illness": 1}
    assert body["missed"][0]["subject"] == "Математика"


def test_homework_due_lists_the_class_homework_and_not_another_students_individual_task(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    due = TODAY + timedelta(days=3)
    other = new_id()
    apply(
        school.agreement(new_id(), other),
        school.homework(scene.maths, "§ 7, № 1–5", due),
        school.homework(scene.maths, "Индивидуально: реферат", due, student_ids=[other]),
    )
    answer = as_guardian(caller, scene, "/homework")
    assert [h["text"] for h in answer.get_json()] == ["§ 7, № 1–5"]


def test_the_timetable_shows_a_substitute_teacher(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    data = scene.maths.data
    substitute = new_id()
    apply(
        school.person(substitute, "staff", "Кузнецова", "Елена"),
        school.lesson(
            data["lesson_id"],
            scene.class_id,
            data["school_subject_id"],
            substitute,
            day=MONDAY,
            slot=1,
            substituted_teacher_id=scene.maths_teacher_id,
            version=2,
        ),
    )
    answer = as_guardian(caller, scene, f"/timetable?date={MONDAY}")
    [lesson] = answer.get_json()["lessons"]
    assert (lesson["teacher"], lesson["substitution"]) == ("Кузнецова Елена", True)


def test_lesson_times_read_on_the_schools_clock_with_its_offset(
    caller: Caller, scene: Scene
) -> None:
    """Issue 14 §12: lesson times came out as UTC without an offset, so a lesson at 11:00
    in Moscow (08:00 UTC, as the journal announces it) read 08:00 on a guardian's phone."""
    week = as_guardian(caller, scene, f"/week?date={MONDAY}").get_json()
    [maths] = [lesson for day in week["days"] for lesson in day["lessons"]]
    timetable = as_guardian(caller, scene, f"/timetable?date={MONDAY}").get_json()
    [listed] = timetable["lessons"]

    for lesson in (maths, listed):
        assert (lesson["starts_at"], lesson["ends_at"]) == (
            f"{MONDAY}T11:00:00+03:00",
            f"{MONDAY}T11:45:00+03:00",
        )


def test_teachers_list_the_class_teacher_first_and_who_teaches_what(
    caller: Caller, scene: Scene
) -> None:
    teachers = as_guardian(caller, scene, "/teachers").get_json()
    assert teachers[0]["name"] == "Смирнова Анна"
    assert teachers[0]["class_teacher"] is True
    assert {"name": "Петров Пётр", "subjects": ["Математика"]}.items() <= teachers[1].items()
    assert scene.history_teacher_id not in [t["teacher_id"] for t in teachers]


def test_messages_show_the_class_ones_and_those_to_this_student_only(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    other = new_id()
    apply(
        school.agreement(new_id(), other),
        school.message(scene.class_id, scene.class_teacher_id, "Родительское собрание в пятницу"),
        school.message(
            scene.class_id,
            scene.class_teacher_id,
            "Лично вам",
            student_ids=[scene.family.student_id],
        ),
        school.message(scene.class_id, scene.class_teacher_id, "Не вам", student_ids=[other]),
    )
    texts = {m["text"] for m in as_guardian(caller, scene, "/messages").get_json()}
    assert texts == {"Родительское собрание в пятницу", "Лично вам"}


def test_a_mobile_client_polling_with_the_etag_gets_304_until_a_new_mark_arrives(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    first = as_guardian(caller, scene, f"/week?date={MONDAY}")
    etag = first.headers["ETag"]
    again = as_guardian(caller, scene, f"/week?date={MONDAY}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    apply(school.mark(scene.family.student_id, scene.maths, 4))
    changed = as_guardian(caller, scene, f"/week?date={MONDAY}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_a_lesson_change_of_the_class_also_changes_the_etag(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    etag = as_guardian(caller, scene, "/week").headers["ETag"]
    data = scene.maths.data
    apply(
        school.lesson(
            data["lesson_id"],
            scene.class_id,
            data["school_subject_id"],
            scene.maths_teacher_id,
            day=MONDAY,
            slot=1,
            topic="Новая тема",
            version=2,
        )
    )
    assert as_guardian(caller, scene, "/week", headers={"If-None-Match": etag}).status_code == 200


def test_a_guardian_gets_the_same_etag_as_the_deputy_director_and_it_follows_the_calendar(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    # The guardian's diary is opened by one combined query that also reads the counters;
    # the deputy director's goes the general way. Both must describe the same diary.
    student = scene.family.student_id
    deputy = caller.get(f"/students/{student}/week", new_id(), DEPUTY_DIRECTOR)
    etag = as_guardian(caller, scene, "/week").headers["ETag"]
    assert etag == deputy.headers["ETag"]
    apply(school.calendar(MONDAY - timedelta(days=40), MONDAY + timedelta(days=91), version=2))
    changed = as_guardian(caller, scene, "/week", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert (
        changed.headers["ETag"]
        == caller.get(f"/students/{student}/week", new_id(), DEPUTY_DIRECTOR).headers["ETag"]
    )


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (f"from={MONDAY}&to={MONDAY - timedelta(days=1)}", "to"),
        (f"from={MONDAY}&to={MONDAY + timedelta(days=400)}", "to"),
        ("from=yesterday", "from"),
    ],
    ids=["inverted", "longer-than-a-school-year", "not-a-date"],
)
def test_a_bad_date_range_is_refused_with_the_field_named(
    caller: Caller, scene: Scene, query: str, field: str
) -> None:
    answer = as_guardian(caller, scene, f"/attendance?{query}")
    assert answer.status_code == 422
    assert field in answer.get_json()["error"]["fields"]


@pytest.mark.parametrize("path", ["/week?date=9999-12-31", "/timetable?date=9999-12-31"])
def test_a_day_beyond_any_school_year_is_a_422_naming_it(
    caller: Caller, scene: Scene, path: str
) -> None:
    answer = as_guardian(caller, scene, path)
    assert answer.status_code == 422
    assert "date" in answer.get_json()["error"]["fields"]


def test_an_unknown_period_is_a_clear_404(caller: Caller, scene: Scene) -> None:
    answer = as_guardian(caller, scene, f"/marks?period_id={new_id()}")
    assert answer.status_code == 404
    assert answer.get_json()["error"]["code"] == "period_not_found"


def test_the_openapi_document_describes_the_diary_paths(caller: Caller) -> None:
    document = caller.client.get("/api/diary/openapi.json").get_json()
    paths = document["paths"]
    for path in ("week", "marks", "attendance", "homework", "timetable", "teachers", "messages"):
        assert f"/api/diary/v1/students/{{student_id}}/{path}" in paths
    assert "/api/diary/v1/classes/{class_id}/acknowledgements" in paths
    assert "Week" in document["components"]["schemas"]


def test_the_week_answers_in_the_shape_its_openapi_schema_documents(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    apply(school.mark(scene.family.student_id, scene.maths, 5))
    body = as_guardian(caller, scene, f"/week?date={MONDAY}").get_json()
    documented = WeekSchema().dump(WeekSchema().load(body))
    assert documented == body
    assert body["days"][0]["date"] == MONDAY.isoformat()


def test_a_week_served_from_the_body_cache_still_shows_a_mark_recorded_since(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    def monday_marks() -> list[str]:
        body = as_guardian(caller, scene, f"/week?date={MONDAY}").get_json()
        return [m["value"] for lesson in body["days"][0]["lessons"] for m in lesson["marks"]]

    assert monday_marks() == []
    assert monday_marks() == []  # now from the cache
    apply(school.mark(scene.family.student_id, scene.maths, 5))
    assert monday_marks() == ["5"]


def test_a_warm_body_cache_opens_nothing_to_a_stranger(caller: Caller, scene: Scene) -> None:
    path = f"/students/{scene.family.student_id}/week?date={MONDAY}"
    assert caller.get(path, scene.family.guardian_id, GUARDIAN).status_code == 200
    assert caller.get(path, new_id(), GUARDIAN).status_code == 404


def test_the_academic_calendar_shows_periods_and_holidays_of_the_callers_school_only(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    apply(
        school.calendar(
            MONDAY, MONDAY + timedelta(days=120), [("Осенние каникулы", MONDAY, MONDAY)], version=2
        )
    )
    [year] = caller.get("/calendar", scene.family.guardian_id, GUARDIAN).get_json()
    assert [p["name"] for p in year["periods"]] == ["1 полугодие"]
    assert year["holidays"] == [
        {"name": "Осенние каникулы", "starts_on": MONDAY.isoformat(), "ends_on": MONDAY.isoformat()}
    ]
    other_school = caller.get("/calendar", new_id(), GUARDIAN, school_id="school-other")
    assert other_school.get_json() == []


def test_a_guardian_lists_own_children_and_a_child_without_own_agreement_has_no_name(
    school: SchoolEvents, apply: Apply, caller: Caller, scene: Scene
) -> None:
    """The web app's child switcher: named children under the guardian's own agreement; a
    linked child without it (covered by another guardian's agreement) shows only that."""
    family = scene.family
    second = new_id()
    other_guardian = new_id()
    apply(
        school.guardian_linked(family.guardian_id, second),
        school.guardian_linked(other_guardian, second),
        school.agreement(other_guardian, second),
        school.enrol(second, scene.class_id, MONDAY - timedelta(days=60)),
        school.person(second, "student", "Иванов", "Пётр"),
    )
    answer = caller.get("/me/students", family.guardian_id, GUARDIAN)
    assert answer.status_code == 200
    by_id = {entry["student_id"]: entry for entry in answer.get_json()}
    assert by_id[family.student_id]["name"] == "Иванова Мария"
    assert by_id[family.student_id]["agreement"]["concluded_at"]
    assert by_id[second] == {"student_id": second, "name": None, "agreement": None}
    assert caller.get("/me/students", new_id(), GUARDIAN).get_json() == []


def test_a_student_lists_only_themself_and_staff_are_refused(caller: Caller, scene: Scene) -> None:
    student = scene.family.student_id
    [me] = caller.get("/me/students", student, STUDENT).get_json()
    assert me["student_id"] == student and me["name"] == "Иванова Мария"
    assert caller.get("/me/students", scene.class_teacher_id, CLASS_TEACHER).status_code == 403
