"""The journal's timetable events, as its outbox holds them, build the right diaries: a
group's lessons and a teacher's message to the group reach the guardians of the group's
students and no one else's (R-JRN-6, R-JRN-8, R-DRY-3). The diary decides by the
`group_ids` of the enrolment events and the `group_id` of lessons and messages.

Both services run in-process on their own databases; the events pass through the diary's
own handler table exactly as its worker would apply them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import uuid4

from sqlalchemy import create_engine, select

from diary.app import create_app as create_diary
from diary.handlers import HANDLERS
from diary.testing import SchoolEvents
from journal.app import create_app as create_journal
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from schoolkit.tables import outbox
from schoolkit.testing import TokenIssuer

FIRST_MONDAY = "2025-09-01"


def new_id() -> str:
    return str(uuid4())


def journal_outbox(url: str) -> list[Event]:
    engine = create_engine(url)
    with engine.connect() as connection:
        bodies = list(connection.scalars(select(outbox.c.body).order_by(outbox.c.id)))
    engine.dispose()
    return [Event.from_dict(json.loads(body)) for body in bodies]


def build_journal(url: str, issuer: TokenIssuer, school_id: str, students: list[str]) -> str:
    """A class with an English group of the first student, its Monday lesson generated and
    a message to the group; the lesson's id."""
    settings = Settings.from_env("journal", database_url=url, **issuer.settings_overrides())
    client = create_journal(settings).test_client()
    deputy = issuer.bearer(sub=new_id(), school_id=school_id, roles=["deputy_director"])

    def send(method: str, path: str, body: dict[str, Any], headers: Any = deputy) -> Any:
        answer = client.open(f"/api/journal/v1{path}", method=method, json=body, headers=headers)
        assert answer.status_code in {200, 201}, answer.json
        return answer.json

    year = send(
        "POST", "/years", {"name": "2025/26", "starts_on": "2025-09-01", "ends_on": "2026-05-31"}
    )
    quarter = {"year_id": year["year_id"], "kind": "quarter", "name": "1 четверть"}
    period = send(
        "POST", "/periods", {**quarter, "starts_on": "2025-09-01", "ends_on": "2025-09-07"}
    )
    school_class = send("POST", "/classes", {"year_id": year["year_id"], "name": "5А", "grade": 5})
    subject = send("POST", "/subjects", {"name": "Английский язык"})
    for student in students:
        send(
            "POST",
            f"/classes/{school_class['class_id']}/enrolments",
            {"student_id": student, "enrolled_on": "2025-09-01"},
        )
    group = send(
        "POST",
        "/groups",
        {
            "kind": "group",
            "name": "Группа 1",
            "class_ids": [school_class["class_id"]],
            "student_ids": students[:1],
        },
    )
    teacher = new_id()
    send(
        "POST",
        "/assignments",
        {"teacher_id": teacher, "subject_id": subject["subject_id"], "group_id": group["group_id"]},
    )
    send("PUT", "/bells", {"bells": [{"slot": 1, "starts": "08:30", "ends": "09:15"}]})
    line = {
        "group_id": group["group_id"],
        "weekday": 1,
        "slot": 1,
        "subject_id": subject["subject_id"],
        "teacher_id": teacher,
    }
    send("POST", "/timetable", line)
    send("POST", "/timetable/generate", {"period_id": period["period_id"]})
    lesson_id = next(
        e.data["lesson_id"] for e in journal_outbox(url) if e.type == "journal.lesson.changed"
    )
    as_teacher = issuer.bearer(sub=teacher, school_id=school_id, roles=["subject_teacher"])
    send("POST", f"/lessons/{lesson_id}/messages", {"text": "Принесите словари"}, as_teacher)
    return str(lesson_id)


def test_a_groups_lesson_and_message_reach_only_the_groups_families(
    tmp_path: Path, token_issuer: TokenIssuer
) -> None:
    school = SchoolEvents()
    in_group, not_in_group = new_id(), new_id()
    guardians = {in_group: new_id(), not_in_group: new_id()}
    journal_url, diary_url = (
        f"sqlite:///{tmp_path / 'journal.db'}",
        f"sqlite:///{tmp_path / 'diary.db'}",
    )
    upgrade("journal", journal_url)
    upgrade("diary", diary_url)
    lesson_id = build_journal(journal_url, token_issuer, school.school_id, [in_group, not_in_group])

    families = [
        event
        for student, guardian in guardians.items()
        for event in (
            school.guardian_linked(guardian, student),
            school.agreement(guardian, student),
            school.person(student, "student", "Иванов", "Иван"),
        )
    ]
    database = Database(diary_url)
    for event in [*families, *journal_outbox(journal_url)]:
        if event.type in HANDLERS:
            with database.transaction() as session:
                HANDLERS[event.type](session, event)
    database.dispose()

    settings = Settings.from_env(
        "diary", database_url=diary_url, **token_issuer.settings_overrides()
    )
    diary = create_diary(settings).test_client()

    def read(student: str, what: str) -> str:
        headers = token_issuer.bearer(
            sub=guardians[student], school_id=school.school_id, roles=["guardian"]
        )
        answer = diary.get(f"/api/diary/v1/students/{student}/{what}", headers=headers)
        assert answer.status_code == 200, answer.json
        return json.dumps(answer.json, ensure_ascii=False)

    assert lesson_id in read(in_group, f"timetable?date={FIRST_MONDAY}")
    assert lesson_id not in read(not_in_group, f"timetable?date={FIRST_MONDAY}")
    assert "Принесите словари" in read(in_group, "messages")
    assert "Принесите словари" not in read(not_in_group, "messages")
