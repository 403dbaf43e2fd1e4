"""A mark given through the API on PostgreSQL reaches the bus through the real journal worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from journal.app import create_app
from journal.handlers import HANDLERS
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from schoolkit.testing import Bus, TokenIssuer
from schoolkit.worker import Worker

from .conftest import API, SCHOOL, new_id


@pytest.fixture
def journal_worker(bus: Bus, postgres_url: str) -> Iterator[Worker]:
    upgrade("journal", postgres_url)
    worker = Worker(bus.settings("journal", postgres_url), HANDLERS)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    yield worker
    worker.stop.set()
    thread.join(timeout=15)


def test_a_mark_given_on_postgres_is_relayed_to_the_diary_over_rabbitmq(
    bus: Bus, postgres_url: str, token_issuer: TokenIssuer, journal_worker: Worker
) -> None:
    settings = Settings.from_env(
        "journal",
        database_url=postgres_url,
        amqp_url=bus.settings("journal", postgres_url).amqp_url,
        **token_issuer.settings_overrides(),
    )
    client = create_app(settings).test_client()
    deputy = token_issuer.bearer(sub=new_id(), school_id=SCHOOL, roles=["deputy_director"])
    teacher_id = new_id()
    teacher = token_issuer.bearer(sub=teacher_id, school_id=SCHOOL, roles=["subject_teacher"])

    def post(path: str, body: dict[str, Any], headers: dict[str, str] = deputy) -> dict[str, Any]:
        answer = client.post(f"{API}{path}", json=body, headers=headers)
        assert answer.status_code == 201, answer.json
        return answer.json

    year = post("/years", {"name": "2025/2026", "starts_on": "2025-09-01", "ends_on": "2026-05-31"})
    post(
        "/periods",
        {
            "year_id": year["year_id"],
            "kind": "quarter",
            "name": "1 четверть",
            "starts_on": "2025-09-01",
            "ends_on": "2025-10-24",
        },
    )
    subject = post("/subjects", {"name": "Литература"})
    school_class = post("/classes", {"year_id": year["year_id"], "name": "6В", "grade": 6})
    oral = post("/work-types", {"code": "oral", "name": "Устный ответ", "weight": 1})
    post(
        "/assignments",
        {
            "teacher_id": teacher_id,
            "subject_id": subject["subject_id"],
            "class_id": school_class["class_id"],
        },
    )
    lesson = post(
        "/lessons",
        {
            "class_id": school_class["class_id"],
            "subject_id": subject["subject_id"],
            "date": "2025-09-15",
            "slot": 3,
            "starts_at": "2025-09-15T10:00:00+03:00",
            "ends_at": "2025-09-15T10:45:00+03:00",
        },
        teacher,
    )
    student = new_id()
    marks = bus.listen("journal.mark.recorded")
    try:
        time.sleep(0.5)  # the listener's queue is bound before the mark is given
        post(
            "/marks",
            {
                "lesson_id": lesson["lesson_id"],
                "student_id": student,
                "work_type_id": oral["work_type_id"],
                "value": "5",
            },
            teacher,
        )
        delivered = marks.wait_for(lambda envelope: envelope["data"]["student_id"] == student)
    finally:
        marks.close()
    assert delivered["data"]["value"] == 5
    assert delivered["data"]["teacher_id"] == teacher_id
    assert delivered["school_id"] == SCHOOL
