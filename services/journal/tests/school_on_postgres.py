"""A journal app on a fresh PostgreSQL database and a small school built through its API,
for the reports' and the exchange's tests: every number they assert is set here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask.testing import FlaskClient

from journal.app import create_app
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from schoolkit.testing import TokenIssuer

from .conftest import API, SCHOOL, new_id


def journal_on_postgres(postgres_url: str, token_issuer: TokenIssuer) -> FlaskClient:
    upgrade("journal", postgres_url)
    settings = Settings.from_env(
        "journal",
        database_url=postgres_url,
        deny_list_refresh_seconds=0.0,
        **token_issuer.settings_overrides(),
    )
    return create_app(settings).test_client()


@dataclass
class Builder:
    """Posts as the deputy director; each call returns the created record's JSON."""

    client: FlaskClient
    issuer: TokenIssuer
    school: str = SCHOOL
    deputy_id: str = field(default_factory=new_id)

    def as_role(self, person_id: str, *roles: str) -> dict[str, str]:
        return self.issuer.bearer(sub=person_id, school_id=self.school, roles=list(roles))

    @property
    def deputy(self) -> dict[str, str]:
        return self.as_role(self.deputy_id, "deputy_director")

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
        answer = self.client.post(f"{API}{path}", json=body, headers=headers or self.deputy)
        assert answer.status_code in {200, 201}, (path, answer.json)
        return answer.json

    def get(self, path: str, headers: dict[str, str] | None = None, **query: Any) -> Any:
        return self.client.get(f"{API}{path}", query_string=query, headers=headers or self.deputy)

    def lesson(
        self, class_id: str, subject_id: str, teacher_id: str, day: str, topic: str | None
    ) -> str:
        body = {
            "class_id": class_id,
            "subject_id": subject_id,
            "teacher_id": teacher_id,
            "date": day,
            "slot": 1,
            "starts_at": f"{day}T09:00:00+03:00",
            "ends_at": f"{day}T09:45:00+03:00",
            "topic": topic,
        }
        return str(self.post("/lessons", body)["lesson_id"])

    def mark(self, lesson_id: str, student_id: str, work_type_id: str, value: str) -> None:
        body = {
            "lesson_id": lesson_id,
            "student_id": student_id,
            "work_type_id": work_type_id,
            "value": value,
        }
        self.post("/marks", body)

    def attendance(self, lesson_id: str, student_id: str, status: str, reason: str | None) -> None:
        body = {"lesson_id": lesson_id, "student_id": student_id, "status": status}
        if reason:
            body["reason"] = reason
        self.post("/attendance", body)


@dataclass
class SmallSchool:
    """5А of 2025/2026: two students, mathematics (2 h/week) and Russian (3 h/week)."""

    build: Builder
    year_id: str
    quarter_id: str
    second_quarter_id: str
    year_period_id: str
    class_id: str
    maths_id: str
    russian_id: str
    maths_teacher_id: str
    russian_teacher_id: str
    substitute_id: str
    answer_id: str
    control_id: str
    first: str
    second: str
    lessons: dict[str, str]


def small_school(build: Builder) -> SmallSchool:
    year = build.post(
        "/years", {"name": "2025/2026", "starts_on": "2025-09-01", "ends_on": "2026-05-31"}
    )
    periods = {
        name: build.post(
            "/periods",
            {
                "year_id": year["year_id"],
                "kind": kind,
                "name": name,
                "starts_on": starts,
                "ends_on": ends,
            },
        )["period_id"]
        for name, kind, starts, ends in (
            ("1 четверть", "quarter", "2025-09-01", "2025-10-24"),
            ("2 четверть", "quarter", "2025-11-05", "2025-12-26"),
            ("Год", "year", "2025-09-01", "2026-05-31"),
        )
    }
    maths = build.post("/subjects", {"name": "Математика"})["subject_id"]
    russian = build.post("/subjects", {"name": "Русский язык", "short_name": "Рус. яз."})
    school_class = build.post("/classes", {"year_id": year["year_id"], "name": "5А", "grade": 5})
    class_id = school_class["class_id"]
    maths_teacher, russian_teacher = new_id(), new_id()
    for teacher, subject, hours in (
        (maths_teacher, maths, 2),
        (russian_teacher, russian["subject_id"], 3),
    ):
        build.post(
            "/assignments",
            {
                "teacher_id": teacher,
                "subject_id": subject,
                "class_id": class_id,
                "hours_per_week": hours,
            },
        )
    answer = build.post("/work-types", {"code": "answer", "name": "Ответ на уроке", "weight": 1})
    control = build.post(
        "/work-types",
        {"code": "control", "name": "Контрольная работа", "weight": 2, "control": True},
    )
    first, second = new_id(), new_id()
    for student in (first, second):
        build.post(
            f"/classes/{class_id}/enrolments", {"student_id": student, "enrolled_on": "2025-09-01"}
        )
    substitute = new_id()
    lessons = {
        "maths_1": build.lesson(class_id, maths, maths_teacher, "2025-09-02", "Дроби"),
        "maths_2": build.lesson(class_id, maths, maths_teacher, "2025-09-03", None),
        "russian_1": build.lesson(
            class_id, russian["subject_id"], russian_teacher, "2025-09-02", "Фонетика"
        ),
        "russian_2": build.lesson(
            class_id, russian["subject_id"], substitute, "2025-09-04", "Орфоэпия"
        ),
    }
    return SmallSchool(
        build=build,
        year_id=year["year_id"],
        quarter_id=periods["1 четверть"],
        second_quarter_id=periods["2 четверть"],
        year_period_id=periods["Год"],
        class_id=class_id,
        maths_id=maths,
        russian_id=russian["subject_id"],
        maths_teacher_id=maths_teacher,
        russian_teacher_id=russian_teacher,
        substitute_id=substitute,
        answer_id=answer["work_type_id"],
        control_id=control["work_type_id"],
        first=first,
        second=second,
        lessons=lessons,
    )


def with_marks_and_attendance(school: SmallSchool) -> SmallSchool:
    """Maths: the first student 5 (answer) and 3 (control), the second 4 (answer);
    Russian: the first student 2. The second student missed maths 1 ill; the first came
    late to maths 2. Homework was set at maths 1 only."""
    build, lessons = school.build, school.lessons
    build.mark(lessons["maths_1"], school.first, school.answer_id, "5")
    build.mark(lessons["maths_2"], school.first, school.control_id, "3")
    build.mark(lessons["maths_1"], school.second, school.answer_id, "4")
    build.mark(lessons["russian_1"], school.first, school.answer_id, "2")
    build.attendance(lessons["maths_1"], school.first, "present", None)
    build.attendance(lessons["maths_1"], school.second, "absent", "illness")
    build.attendance(lessons["maths_2"], school.first, "late", None)
    build.attendance(lessons["russian_1"], school.first, "present", None)
    build.post(
        f"/lessons/{lessons['maths_1']}/homework", {"text": "№ 12, 13", "due_on": "2025-09-03"}
    )
    return school
