"""iCalendar (RFC 5545) feeds of the timetable per class, teacher and student (R-JRN-6):
what a calendar application reads, behind the same authentication as the rest of the API."""

from __future__ import annotations

from typing import Any

import pytest
from icalendar import Calendar

from .conftest import API, OTHER_SCHOOL, new_id
from .timetable_setup import TimetableSchool, tt

__all__ = ["tt"]

QUARTER = {"from": "2025-09-01", "to": "2025-10-24"}
LONG_TOPIC = "Сложение и вычитание обыкновенных дробей с разными знаменателями, " * 3


@pytest.fixture
def timetable(tt: TimetableSchool, published: Any) -> dict[str, str]:
    """Maths for 5А on Mondays and English for one group of 5А on Tuesdays."""
    group = tt.post(
        "/groups",
        {
            "kind": "group",
            "name": "Английский, группа 1",
            "class_ids": [tt.class_a],
            "student_ids": [tt.students_a[0]],
        },
    )["group_id"]
    tt.load(tt.english_teacher, tt.english, group_id=group)
    tt.entry(class_id=tt.class_a, subject_id=tt.maths, teacher_id=tt.maths_teacher, room_id=tt.room)
    tt.entry(group_id=group, subject_id=tt.english, teacher_id=tt.english_teacher, weekday=2)
    tt.generate()
    first = tt.lessons(published)[0]["lesson_id"]
    return {"group": group, "first_maths": first}


def feed(tt: TimetableSchool, path: str, headers: dict[str, str]) -> Any:
    return tt.client.get(f"{API}/calendar/{path}", query_string=QUARTER, headers=headers)


def events_of(answer: Any) -> list[Any]:
    assert answer.status_code == 200, answer.data
    return [c for c in Calendar.from_ical(answer.data).walk("VEVENT")]


def test_a_class_feed_is_an_rfc_5545_calendar_of_the_classs_lessons(
    tt: TimetableSchool, timetable: dict[str, str]
) -> None:
    answer = feed(tt, f"classes/{tt.class_a}.ics", tt.deputy)

    assert answer.mimetype == "text/calendar"
    assert answer.data.startswith(b"BEGIN:VCALENDAR\r\n")
    events = events_of(answer)
    assert len(events) == 7 + 8  # maths on Mondays but the holiday, English on Tuesdays
    first = next(e for e in events if str(e["uid"]).startswith(timetable["first_maths"]))
    assert first["summary"] == "Математика, 5А"
    assert first["location"] == "101"
    assert first.decoded("dtstart").isoformat() == "2025-09-01T05:30:00+00:00"
    assert "DTSTAMP" in first
    assert b"DTSTART:20250901T053000Z" in answer.data


def test_long_lines_are_folded_at_75_octets_and_read_back_whole(
    tt: TimetableSchool, timetable: dict[str, str]
) -> None:
    lesson = {
        "class_id": tt.class_a,
        "subject_id": tt.maths,
        "date": "2025-09-02",
        "slot": 3,
        "starts_at": "2025-09-02T10:30:00+03:00",
        "ends_at": "2025-09-02T11:15:00+03:00",
        "topic": LONG_TOPIC,
    }
    opened = tt.client.post(f"{API}/lessons", json=lesson, headers=tt.as_teacher(tt.maths_teacher))
    assert opened.status_code == 201, opened.json
    tt.client.put(
        f"{API}/lessons/{timetable['first_maths']}/control-test",
        json={"form": "control_work"},
        headers=tt.deputy,
    )

    answer = feed(tt, f"classes/{tt.class_a}.ics", tt.deputy)

    lines = answer.data.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    assert any(line.startswith(b" ") for line in lines)  # a folded continuation
    events = events_of(answer)
    assert LONG_TOPIC.strip() in [str(e.get("description", "")).strip() for e in events]
    assert "Математика, 5А — Контрольная работа" in [str(e["summary"]) for e in events]


def test_a_teachers_feed_holds_their_lessons_and_a_substitution_they_take(
    tt: TimetableSchool, timetable: dict[str, str]
) -> None:
    tt.post(
        f"/lessons/{timetable['first_maths']}/substitution",
        {"teacher_id": tt.english_teacher, "reason": "Курсы повышения квалификации"},
    )
    teacher = tt.as_teacher(tt.english_teacher)
    events = events_of(feed(tt, f"teachers/{tt.english_teacher}.ics", teacher))
    summaries = sorted(str(e["summary"]) for e in events)
    assert summaries.count("Математика, 5А") == 1
    assert summaries.count("Английский язык, 5А") == 8
    substituted = next(e for e in events if str(e["summary"]) == "Математика, 5А")
    assert substituted["sequence"] == 1  # the calendar replaces the earlier version


def test_a_student_feed_holds_their_groups_lessons_but_not_the_other_groups(
    tt: TimetableSchool, timetable: dict[str, str]
) -> None:
    in_group, not_in_group = tt.students_a[0], tt.students_a[1]
    mine = events_of(feed(tt, f"students/{in_group}.ics", tt.deputy))
    theirs = events_of(feed(tt, f"students/{not_in_group}.ics", tt.deputy))
    assert len(mine) == 15
    assert len(theirs) == 7


def test_a_teacher_does_not_read_another_teachers_feed(
    tt: TimetableSchool, timetable: dict[str, str]
) -> None:
    answer = feed(tt, f"teachers/{tt.maths_teacher}.ics", tt.as_teacher(tt.english_teacher))
    unknown = feed(tt, f"teachers/{new_id()}.ics", tt.as_teacher(tt.english_teacher))
    # Another teacher's feed is answered as a teacher the school does not have.
    assert (answer.status_code, answer.json) == (404, unknown.json)
    assert answer.json["error"]["code"] == "teacher_not_found"


def test_the_deputy_finds_no_feed_of_a_teacher_the_school_does_not_have(
    tt: TimetableSchool, timetable: dict[str, str]
) -> None:
    unknown = feed(tt, f"teachers/{new_id()}.ics", tt.deputy)
    other_deputy = tt.caller("deputy_director", school=OTHER_SCHOOL)
    elsewhere = feed(tt, f"teachers/{tt.maths_teacher}.ics", other_deputy)
    assert (unknown.status_code, elsewhere.status_code) == (404, 404)
    assert events_of(feed(tt, f"teachers/{tt.maths_teacher}.ics", tt.deputy))


def test_a_teacher_does_not_read_the_feed_of_a_class_they_do_not_teach(
    tt: TimetableSchool, timetable: dict[str, str]
) -> None:
    answer = feed(tt, f"classes/{tt.class_b}.ics", tt.as_teacher(tt.maths_teacher))
    unknown = feed(tt, f"classes/{new_id()}.ics", tt.as_teacher(tt.maths_teacher))
    # Another class's feed is answered as an unknown class's: nobody learns it exists.
    assert (answer.status_code, answer.json) == (404, unknown.json)


def test_the_administrator_keeps_no_timetable_feeds(
    tt: TimetableSchool, timetable: dict[str, str]
) -> None:
    admin = tt.caller("administrator")
    # The role is refused before any id is looked up: the same 403 for an unknown class.
    for path in (f"classes/{tt.class_a}.ics", f"classes/{new_id()}.ics"):
        assert feed(tt, path, admin).status_code == 403


def test_the_feed_needs_a_token_like_the_rest_of_the_api(
    tt: TimetableSchool, timetable: dict[str, str]
) -> None:
    assert feed(tt, f"classes/{tt.class_a}.ics", {}).status_code == 401


@pytest.mark.parametrize("role", ["guardian", "student"])
def test_guardians_and_students_read_the_diary_not_these_feeds(
    tt: TimetableSchool, timetable: dict[str, str], role: str
) -> None:
    answer = feed(tt, f"students/{tt.students_a[0]}.ics", tt.caller(role))
    assert answer.status_code == 403


def test_another_schools_deputy_finds_no_such_class(
    tt: TimetableSchool, timetable: dict[str, str]
) -> None:
    other_deputy = tt.caller("deputy_director", school=OTHER_SCHOOL)
    assert feed(tt, f"classes/{tt.class_a}.ics", other_deputy).status_code == 404
    assert feed(tt, f"students/{tt.students_a[0]}.ics", other_deputy).status_code == 404


def test_a_range_ending_before_it_starts_is_refused_naming_the_field(
    tt: TimetableSchool,
) -> None:
    answer = tt.client.get(
        f"{API}/calendar/teachers/{new_id()}.ics",
        query_string={"from": "2025-10-01", "to": "2025-09-01"},
        headers=tt.deputy,
    )
    assert answer.status_code == 422 and "to" in answer.json["error"]["fields"]
