"""The timetable on PostgreSQL, migrated by its Alembic revisions as in production: a
group's weekly line generates its lessons once, and the migrations step down and up."""

from __future__ import annotations

import json
from typing import Any

from alembic import command
from sqlalchemy import create_engine, inspect, select

from journal.app import create_app
from schoolkit.migrate import alembic_config, upgrade
from schoolkit.settings import Settings
from schoolkit.tables import outbox
from schoolkit.testing import TokenIssuer

from .conftest import API, SCHOOL, new_id

TIMETABLE_TABLES = {
    "rooms",
    "study_groups",
    "group_classes",
    "group_members",
    "bells",
    "timetable_entries",
    "lesson_changes",
    "lesson_messages",
}


def lesson_events(postgres_url: str) -> list[dict[str, Any]]:
    engine = create_engine(postgres_url)
    with engine.connect() as connection:
        bodies = connection.scalars(
            select(outbox.c.body)
            .where(outbox.c.event_type == "journal.lesson.changed")
            .order_by(outbox.c.id)
        )
        events = [json.loads(body)["data"] for body in bodies]
    engine.dispose()
    return events


def test_on_postgres_a_groups_weekly_line_generates_its_lessons_once(
    postgres_url: str, token_issuer: TokenIssuer
) -> None:
    upgrade("journal", postgres_url)
    settings = Settings.from_env(
        "journal", database_url=postgres_url, **token_issuer.settings_overrides()
    )
    client = create_app(settings).test_client()
    deputy = token_issuer.bearer(sub=new_id(), school_id=SCHOOL, roles=["deputy_director"])

    def post(path: str, body: dict[str, Any], status: int = 201) -> Any:
        answer = client.post(f"{API}{path}", json=body, headers=deputy)
        assert answer.status_code == status, answer.json
        return answer.json

    year = post("/years", {"name": "2025/2026", "starts_on": "2025-09-01", "ends_on": "2026-05-31"})
    quarter = post(
        "/periods",
        {
            "year_id": year["year_id"],
            "kind": "quarter",
            "name": "1 четверть",
            "starts_on": "2025-09-01",
            "ends_on": "2025-09-30",
        },
    )
    school_class = post("/classes", {"year_id": year["year_id"], "name": "6А", "grade": 6})
    subject = post("/subjects", {"name": "Информатика"})
    student = new_id()
    post(
        f"/classes/{school_class['class_id']}/enrolments",
        {"student_id": student, "enrolled_on": "2025-09-01"},
    )
    group = post(
        "/groups",
        {
            "kind": "group",
            "name": "Информатика, группа 1",
            "class_ids": [school_class["class_id"]],
            "student_ids": [student],
        },
    )
    teacher = new_id()
    post(
        "/assignments",
        {"teacher_id": teacher, "subject_id": subject["subject_id"], "group_id": group["group_id"]},
    )
    bells = {"bells": [{"slot": 4, "starts": "11:30", "ends": "12:15"}]}
    assert client.put(f"{API}/bells", json=bells, headers=deputy).status_code == 200
    room = post("/rooms", {"name": "Кабинет информатики"})
    line = {
        "group_id": group["group_id"],
        "weekday": 5,
        "slot": 4,
        "subject_id": subject["subject_id"],
        "teacher_id": teacher,
        "room_id": room["room_id"],
    }
    post("/timetable", line)

    assert post("/timetable/generate", {"period_id": quarter["period_id"]}, 200)["created"] == 4
    assert post("/timetable/generate", {"period_id": quarter["period_id"]}, 200)["created"] == 0

    events = lesson_events(postgres_url)
    assert [e["date"] for e in events] == ["2025-09-05", "2025-09-12", "2025-09-19", "2025-09-26"]
    assert {e["group_id"] for e in events} == {group["group_id"]}
    assert events[0]["starts_at"] == "2025-09-05T08:30:00.000Z"
    engine = create_engine(postgres_url)
    assert set(inspect(engine).get_table_names()) >= TIMETABLE_TABLES
    engine.dispose()


def test_the_timetable_migrations_step_down_to_the_audit_chain_and_up_again(
    postgres_url: str,
) -> None:
    upgrade("journal", postgres_url)
    command.downgrade(alembic_config("journal", postgres_url), "0010")
    engine = create_engine(postgres_url)
    assert not TIMETABLE_TABLES & set(inspect(engine).get_table_names())
    engine.dispose()
    upgrade("journal", postgres_url)
    engine = create_engine(postgres_url)
    assert set(inspect(engine).get_table_names()) >= TIMETABLE_TABLES
    engine.dispose()
