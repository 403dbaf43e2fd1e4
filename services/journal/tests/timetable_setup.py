"""A school set up for timetable stories: a year with its first quarter and a holiday on a
Monday, two classes of grade 5, two subjects with their teachers, bells, a room, and
students enrolled in 5А. Tests take the `tt` fixture from here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient

from .conftest import API, Caller, new_id

HOLIDAY = "2025-10-06"  # a Monday: День учителя
BELLS = [
    {"slot": 1, "starts": "08:30", "ends": "09:15"},
    {"slot": 2, "starts": "09:25", "ends": "10:10"},
    {"slot": 3, "starts": "10:30", "ends": "11:15"},
]


@dataclass
class TimetableSchool:
    client: FlaskClient
    caller: Caller
    deputy: dict[str, str]
    year_id: str
    quarter_id: str
    class_a: str
    class_b: str
    class_teacher_a: str
    maths: str
    english: str
    maths_teacher: str
    english_teacher: str
    room: str
    students_a: list[str] = field(default_factory=list)

    def post(self, path: str, body: dict[str, Any], status: int = 201) -> Any:
        answer = self.client.post(f"{API}{path}", json=body, headers=self.deputy)
        assert answer.status_code == status, answer.json
        return answer.json

    def as_teacher(self, teacher_id: str) -> dict[str, str]:
        return self.caller("subject_teacher", person_id=teacher_id)

    def enrol(self, class_id: str, *, individual_plan: bool = False) -> str:
        student = new_id()
        body = {"student_id": student, "enrolled_on": "2025-09-01"}
        body["individual_plan"] = individual_plan  # type: ignore[assignment]
        self.post(f"/classes/{class_id}/enrolments", body)
        return student

    def load(self, teacher_id: str, subject_id: str, **target: str) -> Any:
        return self.post(
            "/assignments", {"teacher_id": teacher_id, "subject_id": subject_id, **target}
        )

    def entry(self, **fields: Any) -> Any:
        status = fields.pop("status", 201)
        return self.post("/timetable", {"weekday": 1, "slot": 1, **fields}, status)

    def generate(self) -> Any:
        return self.post("/timetable/generate", {"period_id": self.quarter_id}, 200)

    def lessons(self, published: Any) -> list[dict[str, Any]]:
        return [e["data"] for e in published("journal.lesson.changed")]


@pytest.fixture
def tt(client: FlaskClient, caller: Caller) -> TimetableSchool:
    deputy = caller("deputy_director")

    def post(path: str, body: dict[str, Any]) -> Any:
        answer = client.post(f"{API}{path}", json=body, headers=deputy)
        assert answer.status_code == 201, answer.json
        return answer.json

    year = post("/years", {"name": "2025/2026", "starts_on": "2025-09-01", "ends_on": "2026-05-31"})
    quarter = post(
        "/periods",
        {
            "year_id": year["year_id"],
            "kind": "quarter",
            "name": "1 четверть",
            "starts_on": "2025-09-01",
            "ends_on": "2025-10-24",
        },
    )
    holiday = {"year_id": year["year_id"], "name": "День учителя"}
    post("/holidays", {**holiday, "starts_on": HOLIDAY, "ends_on": HOLIDAY})
    class_teacher_a = new_id()
    class_a = post(
        "/classes",
        {"year_id": year["year_id"], "name": "5А", "grade": 5, "class_teacher_id": class_teacher_a},
    )
    class_b = post("/classes", {"year_id": year["year_id"], "name": "5Б", "grade": 5})
    maths = post("/subjects", {"name": "Математика"})
    english = post("/subjects", {"name": "Английский язык"})
    bells = client.put(f"{API}/bells", json={"bells": BELLS}, headers=deputy)
    assert bells.status_code == 200, bells.json
    room = post("/rooms", {"name": "101", "capacity": 30})
    school = TimetableSchool(
        client=client,
        caller=caller,
        deputy=deputy,
        year_id=year["year_id"],
        quarter_id=quarter["period_id"],
        class_a=class_a["class_id"],
        class_b=class_b["class_id"],
        class_teacher_a=class_teacher_a,
        maths=maths["subject_id"],
        english=english["subject_id"],
        maths_teacher=new_id(),
        english_teacher=new_id(),
        room=room["room_id"],
    )
    school.load(school.maths_teacher, school.maths, class_id=school.class_a)
    school.students_a = [school.enrol(school.class_a) for _ in range(3)]
    return school
