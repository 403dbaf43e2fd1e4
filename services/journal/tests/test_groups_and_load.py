"""Study groups, streams and individual plans: who is in them, who teaches them, and what
the diary is told (R-JRN-2…4, R-ROLE-3, R-ROLE-4). The diary decides access by the
`group_ids` of the enrolment events and the `group_id` of lessons, so both must be real."""

from __future__ import annotations

from typing import Any

from .conftest import API, new_id
from .timetable_setup import TimetableSchool, tt

__all__ = ["tt"]


def english_groups(tt: TimetableSchool) -> tuple[str, str]:
    first, second, third = tt.students_a
    one = tt.post(
        "/groups",
        {
            "kind": "group",
            "name": "Английский, группа 1",
            "class_ids": [tt.class_a],
            "student_ids": [first, second],
        },
    )
    two = tt.post(
        "/groups",
        {"kind": "group", "name": "Английский, группа 2", "class_ids": [tt.class_a]},
    )
    tt.client.put(
        f"{API}/groups/{two['group_id']}/members", json={"student_ids": [third]}, headers=tt.deputy
    )
    return one["group_id"], two["group_id"]


def latest_enrolment_of(published: Any, student: str) -> dict[str, Any]:
    events = [
        e["data"]
        for kind in ("journal.student.enrolled", "journal.student.transferred")
        for e in published(kind)
        if e["data"]["student_id"] == student
    ]
    return max(events, key=lambda data: data["entity_version"])


def test_joining_a_group_tells_the_diary_the_students_groups(
    tt: TimetableSchool, published: Any
) -> None:
    one, two = english_groups(tt)
    first, _, third = tt.students_a

    assert latest_enrolment_of(published, first)["group_ids"] == [one]
    assert latest_enrolment_of(published, first)["entity_version"] == 2
    assert latest_enrolment_of(published, third)["group_ids"] == [two]


def test_leaving_a_group_tells_the_diary_again(tt: TimetableSchool, published: Any) -> None:
    one, _ = english_groups(tt)
    first, second, _ = tt.students_a
    tt.client.put(f"{API}/groups/{one}/members", json={"student_ids": [second]}, headers=tt.deputy)

    assert latest_enrolment_of(published, first)["group_ids"] == []
    assert latest_enrolment_of(published, second)["group_ids"] == [one]


def test_a_student_transferred_to_another_class_leaves_the_old_classs_groups(
    tt: TimetableSchool, published: Any
) -> None:
    english_groups(tt)
    first = tt.students_a[0]
    tt.post(f"/students/{first}/transfer", {"to_class_id": tt.class_b, "on": "2025-10-01"}, 200)

    moved = latest_enrolment_of(published, first)
    assert (moved["to_class_id"], moved["group_ids"]) == (tt.class_b, [])


def test_a_stream_keeps_its_students_across_a_transfer_between_its_classes(
    tt: TimetableSchool, published: Any
) -> None:
    first = tt.students_a[0]
    stream = tt.post(
        "/groups",
        {
            "kind": "stream",
            "name": "Профильная математика",
            "class_ids": [tt.class_a, tt.class_b],
            "student_ids": [first],
        },
    )
    tt.post(f"/students/{first}/transfer", {"to_class_id": tt.class_b, "on": "2025-10-01"}, 200)

    assert latest_enrolment_of(published, first)["group_ids"] == [stream["group_id"]]


def test_a_group_takes_only_students_of_its_class(tt: TimetableSchool) -> None:
    stranger = tt.enrol(tt.class_b)
    body = {"kind": "group", "name": "Группа", "class_ids": [tt.class_a], "student_ids": [stranger]}
    answer = tt.post("/groups", body, 422)
    assert answer["error"]["code"] == "not_in_class"
    assert "student_ids" in answer["error"]["fields"]
    assert tt.client.get(f"{API}/groups", headers=tt.deputy).json == []


def test_a_stream_of_one_class_is_refused_naming_the_field(tt: TimetableSchool) -> None:
    body = {"kind": "stream", "name": "Поток", "class_ids": [tt.class_a]}
    assert "class_ids" in tt.post("/groups", body, 422)["error"]["fields"]


def test_a_class_teacher_keeps_the_groups_of_their_own_class(tt: TimetableSchool) -> None:
    # R-ROLE-3: "edit own class's roster data and study groups".
    class_teacher = tt.caller("class_teacher", person_id=tt.class_teacher_a)
    body = {"kind": "group", "name": "Группа 1", "class_ids": [tt.class_a]}
    assert tt.client.post(f"{API}/groups", json=body, headers=class_teacher).status_code == 201


def test_a_class_teacher_does_not_keep_another_classs_groups(tt: TimetableSchool) -> None:
    class_teacher = tt.caller("class_teacher", person_id=tt.class_teacher_a)
    body = {"kind": "group", "name": "Группа 1", "class_ids": [tt.class_b]}
    answer = tt.client.post(f"{API}/groups", json=body, headers=class_teacher)
    # Another class is answered as an unknown one: nobody learns by probing that it exists.
    assert (answer.status_code, answer.json["error"]["code"]) == (404, "class_not_found")
    theirs = tt.post("/groups", {**body, "student_ids": []})["group_id"]
    members = {"student_ids": []}
    answer = tt.client.put(f"{API}/groups/{theirs}/members", json=members, headers=class_teacher)
    unknown = tt.client.put(f"{API}/groups/{new_id()}/members", json=members, headers=class_teacher)
    assert (answer.status_code, answer.json) == (404, unknown.json)


def test_a_stream_of_their_class_and_another_answers_as_one_with_an_unknown_class(
    tt: TimetableSchool,
) -> None:
    """Issue 14: every class of the body is asked for reach; a 403 for their own class and
    another would tell the class teacher that the other exists."""
    class_teacher = tt.caller("class_teacher", person_id=tt.class_teacher_a)
    answers = [
        tt.client.post(
            f"{API}/groups",
            json={"kind": "stream", "name": "Поток", "class_ids": [tt.class_a, other]},
            headers=class_teacher,
        )
        for other in (tt.class_b, new_id())
    ]
    theirs, unknown = ((answer.status_code, answer.json) for answer in answers)
    assert theirs == unknown and unknown[0] == 404
    assert unknown[1]["error"]["code"] == "class_not_found"
    assert tt.client.get(f"{API}/groups", headers=tt.deputy).json == []


def test_a_subject_teacher_keeps_no_groups(tt: TimetableSchool) -> None:
    body = {"kind": "group", "name": "Группа 1", "class_ids": [tt.class_a]}
    answer = tt.client.post(f"{API}/groups", json=body, headers=tt.as_teacher(tt.maths_teacher))
    assert answer.status_code == 403


def group_lessons(tt: TimetableSchool, published: Any) -> tuple[str, str]:
    """Both English groups on Monday at lesson 2, each with its own teacher and room."""
    one, two = english_groups(tt)
    other_teacher, other_room = new_id(), tt.post("/rooms", {"name": "102"})["room_id"]
    tt.load(tt.english_teacher, tt.english, group_id=one)
    tt.load(other_teacher, tt.english, group_id=two)
    for group, teacher, room in (
        (one, tt.english_teacher, tt.room),
        (two, other_teacher, other_room),
    ):
        tt.entry(group_id=group, subject_id=tt.english, teacher_id=teacher, room_id=room, slot=2)
    tt.generate()
    first_monday = [lesson for lesson in tt.lessons(published) if lesson["date"] == "2025-09-01"]
    by_group = {lesson["group_id"]: lesson["lesson_id"] for lesson in first_monday}
    assert len(first_monday) == 2
    return by_group[one], by_group[two]


def english_groups_lessons_sent(
    tt: TimetableSchool, published: Any
) -> tuple[dict[str, Any], dict[str, Any]]:
    one, two = group_lessons(tt, published)
    sent = {lesson["lesson_id"]: lesson for lesson in tt.lessons(published)}
    return sent[one], sent[two]


def mark_body(tt: TimetableSchool, lesson_id: str, student: str) -> dict[str, Any]:
    work_type = tt.post(
        "/work-types", {"code": f"oral_{new_id()[:8]}", "name": "Ответ", "weight": 1}
    )
    return {
        "lesson_id": lesson_id,
        "student_id": student,
        "work_type_id": work_type["work_type_id"],
        "value": "5",
    }


def test_group_lessons_carry_the_group_and_run_side_by_side(
    tt: TimetableSchool, published: Any
) -> None:
    one, two = english_groups_lessons_sent(tt, published)
    assert one["group_id"] != two["group_id"]
    assert (one["slot"], one["date"]) == (two["slot"], two["date"])
    assert one["room_id"] != two["room_id"]


def test_a_group_teacher_writes_in_their_groups_lessons(
    tt: TimetableSchool, published: Any
) -> None:
    group_one_lesson, _ = group_lessons(tt, published)
    body = mark_body(tt, group_one_lesson, tt.students_a[0])
    answer = tt.client.post(f"{API}/marks", json=body, headers=tt.as_teacher(tt.english_teacher))
    assert answer.status_code == 201, answer.json


def test_a_mark_in_a_group_lesson_for_a_classmate_of_the_other_group_is_refused(
    tt: TimetableSchool, published: Any
) -> None:
    group_one_lesson, _ = group_lessons(tt, published)
    body = mark_body(tt, group_one_lesson, tt.students_a[2])  # in group two
    answer = tt.client.post(f"{API}/marks", json=body, headers=tt.as_teacher(tt.english_teacher))
    assert answer.status_code == 422 and answer.json["error"]["code"] == "not_in_lesson"
    assert "student_id" in answer.json["error"]["fields"]
    assert published("journal.mark.recorded") == []


def test_a_group_teacher_does_not_write_in_the_other_groups_lessons(
    tt: TimetableSchool, published: Any
) -> None:
    # R-ROLE-4: only the classes/groups they teach.
    _, group_two_lesson = group_lessons(tt, published)
    body = mark_body(tt, group_two_lesson, tt.students_a[2])
    answer = tt.client.post(f"{API}/marks", json=body, headers=tt.as_teacher(tt.english_teacher))
    assert answer.status_code == 403 and answer.json["error"]["code"] == "not_your_class"
    assert published("journal.mark.recorded") == []


def test_a_group_teacher_does_not_open_lessons_for_the_whole_class(
    tt: TimetableSchool, published: Any
) -> None:
    one, _ = english_groups(tt)
    tt.load(tt.english_teacher, tt.english, group_id=one)
    lesson = {
        "class_id": tt.class_a,
        "subject_id": tt.english,
        "date": "2025-09-02",
        "slot": 3,
        "starts_at": "2025-09-02T10:30:00+03:00",
        "ends_at": "2025-09-02T11:15:00+03:00",
    }
    teacher = tt.as_teacher(tt.english_teacher)
    whole_class = tt.client.post(f"{API}/lessons", json=lesson, headers=teacher)
    assert whole_class.status_code == 403
    own_group = tt.client.post(f"{API}/lessons", json={**lesson, "group_id": one}, headers=teacher)
    assert own_group.status_code == 201, own_group.json
    assert tt.lessons(published)[-1]["group_id"] == one


def test_a_stream_gives_each_of_its_classes_a_lesson_of_the_stream(
    tt: TimetableSchool, published: Any
) -> None:
    stream = tt.post(
        "/groups", {"kind": "stream", "name": "Поток", "class_ids": [tt.class_a, tt.class_b]}
    )["group_id"]
    tt.load(tt.maths_teacher, tt.maths, group_id=stream)
    tt.entry(group_id=stream, subject_id=tt.maths, teacher_id=tt.maths_teacher, weekday=3)
    tt.generate()

    first_wednesday = [lesson for lesson in tt.lessons(published) if lesson["date"] == "2025-09-03"]
    assert sorted(lesson["class_id"] for lesson in first_wednesday) == sorted(
        [tt.class_a, tt.class_b]
    )
    assert {lesson["group_id"] for lesson in first_wednesday} == {stream}


def test_an_individual_plan_student_has_their_own_load_and_lessons(
    tt: TimetableSchool, published: Any
) -> None:
    student = tt.enrol(tt.class_a, individual_plan=True)
    tutor = new_id()
    load = tt.load(tutor, tt.maths, student_id=student)
    tt.entry(student_id=student, subject_id=tt.maths, teacher_id=tutor, weekday=4, slot=3)
    tt.generate()

    individual = load["group_id"]
    assert latest_enrolment_of(published, student)["group_ids"] == [individual]
    own = [lesson for lesson in tt.lessons(published) if lesson["teacher_id"] == tutor]
    assert own and {lesson["group_id"] for lesson in own} == {individual}
    assert {lesson["class_id"] for lesson in own} == {tt.class_a}


def test_a_load_for_a_student_not_on_an_individual_plan_is_refused(tt: TimetableSchool) -> None:
    answer = tt.post(
        "/assignments",
        {"teacher_id": new_id(), "subject_id": tt.maths, "student_id": tt.students_a[0]},
        422,
    )
    assert answer["error"]["code"] == "not_on_individual_plan"
    assert "student_id" in answer["error"]["fields"]


def test_a_load_naming_both_a_class_and_a_group_is_refused(tt: TimetableSchool) -> None:
    one, _ = english_groups(tt)
    body = {
        "teacher_id": new_id(),
        "subject_id": tt.english,
        "class_id": tt.class_a,
        "group_id": one,
    }
    fields = tt.post("/assignments", body, 422)["error"]["fields"]
    assert {"class_id", "group_id"} <= set(fields)


def test_a_group_teacher_reads_only_their_groups_lessons_on_the_class_journal_page(
    tt: TimetableSchool, published: Any
) -> None:
    # R-ROLE-4: a subject teacher reads only the classes/groups they teach.
    group_one_lesson, _ = group_lessons(tt, published)
    query = {"subject_id": tt.english, "period_id": tt.quarter_id}
    page = tt.client.get(
        f"{API}/classes/{tt.class_a}/grid",
        query_string=query,
        headers=tt.as_teacher(tt.english_teacher),
    )
    assert page.status_code == 200, page.json
    first_monday = [lesson for lesson in page.json["lessons"] if lesson["date"] == "2025-09-01"]
    assert [lesson["lesson_id"] for lesson in first_monday] == [group_one_lesson]

    deputy_page = tt.client.get(
        f"{API}/classes/{tt.class_a}/grid", query_string=query, headers=tt.deputy
    ).json
    assert len([lesson for lesson in deputy_page["lessons"] if lesson["date"] == "2025-09-01"]) == 2


def test_a_group_teacher_reads_nothing_of_another_subject_in_the_class(
    tt: TimetableSchool, published: Any
) -> None:
    group_lessons(tt, published)
    query = {"subject_id": tt.maths, "period_id": tt.quarter_id}
    page = tt.client.get(
        f"{API}/classes/{tt.class_a}/grid",
        query_string=query,
        headers=tt.as_teacher(tt.english_teacher),
    )
    assert page.status_code == 403


def test_a_student_put_on_an_individual_plan_later_gets_their_own_load(
    tt: TimetableSchool, published: Any
) -> None:
    student = tt.students_a[0]
    answer = tt.client.put(
        f"{API}/students/{student}/individual-plan",
        json={"individual_plan": True},
        headers=tt.deputy,
    )
    assert answer.status_code == 200, answer.json
    assert latest_enrolment_of(published, student)["individual_plan"] is True

    load = tt.load(new_id(), tt.maths, student_id=student)
    assert latest_enrolment_of(published, student)["group_ids"] == [load["group_id"]]


def test_an_individual_plans_group_takes_no_other_students(
    tt: TimetableSchool, published: Any
) -> None:
    student = tt.enrol(tt.class_a, individual_plan=True)
    group = tt.load(new_id(), tt.maths, student_id=student)["group_id"]
    answer = tt.client.put(
        f"{API}/groups/{group}/members",
        json={"student_ids": [student, tt.students_a[0]]},
        headers=tt.deputy,
    )
    assert answer.status_code == 422 and answer.json["error"]["code"] == "individual_group"
    assert latest_enrolment_of(published, tt.students_a[0])["group_ids"] == []


def test_homework_set_at_a_group_lesson_names_the_group(
    tt: TimetableSchool, published: Any
) -> None:
    group_one_lesson, _ = group_lessons(tt, published)
    answer = tt.client.post(
        f"{API}/lessons/{group_one_lesson}/homework",
        json={"text": "Выучить слова урока 3", "due_on": "2025-09-08"},
        headers=tt.as_teacher(tt.english_teacher),
    )
    assert answer.status_code == 201, answer.json
    [homework] = published("journal.homework.assigned")
    assert (
        homework["data"]["group_id"] == latest_lesson(tt, published, group_one_lesson)["group_id"]
    )


def latest_lesson(tt: TimetableSchool, published: Any, lesson_id: str) -> dict[str, Any]:
    return [lesson for lesson in tt.lessons(published) if lesson["lesson_id"] == lesson_id][-1]


def test_a_lesson_for_a_group_of_another_class_is_refused_naming_the_field(
    tt: TimetableSchool, published: Any
) -> None:
    other_class_group = tt.post(
        "/groups", {"kind": "group", "name": "Группа 5Б", "class_ids": [tt.class_b]}
    )["group_id"]
    lesson = {
        "class_id": tt.class_a,
        "subject_id": tt.maths,
        "group_id": other_class_group,
        "date": "2025-09-02",
        "slot": 3,
        "starts_at": "2025-09-02T10:30:00+03:00",
        "ends_at": "2025-09-02T11:15:00+03:00",
    }
    answer = tt.client.post(f"{API}/lessons", json=lesson, headers=tt.deputy)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "group_not_of_class"
    assert "group_id" in answer.json["error"]["fields"]
    # 5А's maths teacher does not reach 5Б: its group is answered as an unknown one, in a
    # lesson's body as in a final marks' (issue 14).
    teacher = tt.as_teacher(tt.maths_teacher)
    finals = {"period_id": tt.quarter_id, "class_id": tt.class_a, "subject_id": tt.maths}
    finals["finals"] = [{"student_id": tt.students_a[0], "value": "4"}]  # type: ignore[assignment]
    for path, body in (("/lessons", lesson), ("/finals", finals)):
        theirs, unknown = (
            tt.client.post(f"{API}{path}", json={**body, "group_id": g}, headers=teacher)
            for g in (other_class_group, new_id())
        )
        assert (theirs.status_code, theirs.json) == (404, unknown.json), path
        assert unknown.json["error"]["code"] == "group_not_found"
    assert tt.lessons(published) == []


# A group's teacher sets the group's final marks (R-JRN-10, R-ROLE-4).


def group_finals(tt: TimetableSchool, group_id: str, students: list[str], teacher: str) -> Any:
    body = {
        "period_id": tt.quarter_id,
        "class_id": tt.class_a,
        "subject_id": tt.english,
        "group_id": group_id,
        "finals": [{"student_id": student, "value": "5"} for student in students],
    }
    return tt.client.post(f"{API}/finals", json=body, headers=tt.as_teacher(teacher))


def test_a_group_teacher_sets_their_groups_finals_and_then_its_lessons_are_locked(
    tt: TimetableSchool, published: Any
) -> None:
    group_one_lesson, _ = group_lessons(tt, published)
    one = latest_lesson(tt, published, group_one_lesson)["group_id"]
    first, second, _ = tt.students_a
    answer = group_finals(tt, one, [first, second], tt.english_teacher)
    assert answer.status_code == 201, answer.json
    event = published("journal.period.finalized")[-1]["data"]
    assert (event["group_id"], len(event["finals"])) == (one, 2)

    body = mark_body(tt, group_one_lesson, first)
    late = tt.client.post(f"{API}/marks", json=body, headers=tt.as_teacher(tt.english_teacher))
    assert late.status_code == 409 and late.json["error"]["code"] == "period_locked"
    again = group_finals(tt, one, [first, second], tt.english_teacher)
    assert again.status_code == 409 and again.json["error"]["code"] == "period_locked"


def test_the_other_groups_teacher_still_sets_their_groups_finals(
    tt: TimetableSchool, published: Any
) -> None:
    group_one_lesson, group_two_lesson = group_lessons(tt, published)
    one = latest_lesson(tt, published, group_one_lesson)["group_id"]
    two_lesson = latest_lesson(tt, published, group_two_lesson)
    first, second, third = tt.students_a
    group_finals(tt, one, [first, second], tt.english_teacher)
    answer = group_finals(tt, two_lesson["group_id"], [third], two_lesson["teacher_id"])
    assert answer.status_code == 201, answer.json


def test_a_group_teacher_cannot_set_the_other_groups_finals(
    tt: TimetableSchool, published: Any
) -> None:
    _, group_two_lesson = group_lessons(tt, published)
    two = latest_lesson(tt, published, group_two_lesson)["group_id"]
    answer = group_finals(tt, two, [tt.students_a[2]], tt.english_teacher)
    assert answer.status_code == 403 and answer.json["error"]["code"] == "not_your_class"
    assert published("journal.period.finalized") == []


def test_a_groups_finals_for_a_student_outside_the_group_are_refused_naming_them(
    tt: TimetableSchool, published: Any
) -> None:
    group_one_lesson, _ = group_lessons(tt, published)
    one = latest_lesson(tt, published, group_one_lesson)["group_id"]
    answer = group_finals(tt, one, [tt.students_a[0], tt.students_a[2]], tt.english_teacher)
    assert answer.status_code == 422 and answer.json["error"]["code"] == "not_in_group"
    assert list(answer.json["error"]["fields"]) == ["finals.1.student_id"]
    assert published("journal.period.finalized") == []


def test_a_group_teacher_asks_to_correct_a_mark_of_their_locked_group(
    tt: TimetableSchool, published: Any
) -> None:
    group_one_lesson, _ = group_lessons(tt, published)
    one = latest_lesson(tt, published, group_one_lesson)["group_id"]
    teacher = tt.as_teacher(tt.english_teacher)
    body = mark_body(tt, group_one_lesson, tt.students_a[0])
    mark = tt.client.post(f"{API}/marks", json=body, headers=teacher).json
    group_finals(tt, one, tt.students_a[:2], tt.english_teacher)
    ask = {"mark_id": mark["mark_id"], "value": "4", "reason": "Ошибка при вводе"}
    answer = tt.client.post(f"{API}/corrections", json=ask, headers=teacher)
    assert answer.status_code == 201, answer.json
    assert answer.json["status"] == "pending"
