"""A mark given through the API on PostgreSQL reaches the bus through the real journal worker."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import create_engine, select

from journal import audit
from journal.app import create_app
from journal.handlers import HANDLERS
from journal.models import AuditEntry, AuditValues, FinalMark, Mark
from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.settings import Settings, project_root
from schoolkit.tables import tombstones
from schoolkit.testing import Bus, TokenIssuer
from schoolkit.worker import Worker

from .conftest import API, OTHER_SCHOOL, SCHOOL, new_id

CONTRACTS = load_contracts(project_root() / "contracts")


@pytest.fixture
def journal_worker(bus: Bus, postgres_url: str) -> Iterator[Worker]:
    upgrade("journal", postgres_url)
    worker = Worker(bus.settings("journal", postgres_url), HANDLERS)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not bus.is_consuming(f"{bus.namespace}.journal.consent.erasure.requested"):
        assert time.monotonic() < deadline, "the journal worker never bound its queue"
        time.sleep(0.05)
    yield worker
    worker.stop.set()
    thread.join(timeout=15)


@dataclass
class Journal:
    post: Callable[..., dict[str, Any]]
    teacher: dict[str, str]
    teacher_id: str
    lesson_id: str
    work_type_id: str
    class_id: str
    subject_id: str
    period_id: str
    database_url: str

    def enrol(self, student_id: str, status: int = 201) -> dict[str, Any]:
        return self.post(
            f"/classes/{self.class_id}/enrolments",
            {"student_id": student_id, "enrolled_on": "2025-09-01"},
            status=status,
        )

    def give_mark(self, student_id: str, value: str, status: int = 201) -> dict[str, Any]:
        mark = {
            "lesson_id": self.lesson_id,
            "student_id": student_id,
            "work_type_id": self.work_type_id,
            "value": value,
        }
        return self.post("/marks", mark, self.teacher, status=status)


def erase_over_the_bus(bus: Bus, request: dict[str, Any], school: str = SCHOOL) -> dict[str, Any]:
    """Consent's request as the journal's worker receives it; its confirmation."""
    confirmations = bus.listen("journal.erasure.completed")
    try:
        bus.publish(Event("consent.erasure.requested", request, school))
        return confirmations.wait_for(lambda e: e["data"]["erasure_id"] == request["erasure_id"])
    finally:
        confirmations.close()


@pytest.fixture
def journal(bus: Bus, postgres_url: str, token_issuer: TokenIssuer) -> Journal:
    upgrade("journal", postgres_url)
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

    def post(
        path: str, body: dict[str, Any], headers: dict[str, str] = deputy, status: int = 201
    ) -> dict[str, Any]:
        answer = client.post(f"{API}{path}", json=body, headers=headers)
        assert answer.status_code == status, answer.json
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
    return Journal(
        post=post,
        teacher=teacher,
        teacher_id=teacher_id,
        lesson_id=lesson["lesson_id"],
        work_type_id=oral["work_type_id"],
        class_id=school_class["class_id"],
        subject_id=subject["subject_id"],
        period_id=lesson["period_id"],
        database_url=postgres_url,
    )


def test_a_mark_given_on_postgres_is_relayed_to_the_diary_over_rabbitmq(
    bus: Bus, journal: Journal, journal_worker: Worker
) -> None:
    student = new_id()
    journal.enrol(student)
    marks = bus.listen("journal.mark.recorded")
    try:
        time.sleep(0.5)  # the listener's queue is bound before the mark is given
        journal.give_mark(student, "5")
        delivered = marks.wait_for(lambda envelope: envelope["data"]["student_id"] == student)
    finally:
        marks.close()
    assert delivered["data"]["value"] == 5
    assert delivered["data"]["teacher_id"] == journal.teacher_id
    assert delivered["school_id"] == SCHOOL


def test_an_erasure_destroys_a_students_marks_attendance_and_enrolment_but_keeps_final_marks(
    bus: Bus, journal: Journal, journal_worker: Worker
) -> None:
    student, classmate = new_id(), new_id()
    for someone in (student, classmate):
        journal.enrol(someone)
        journal.give_mark(someone, "4")
    journal.post(
        "/finals",
        {
            "period_id": journal.period_id,
            "class_id": journal.class_id,
            "subject_id": journal.subject_id,
            "finals": [
                {"student_id": student, "value": "4"},
                {"student_id": classmate, "value": "5"},
            ],
        },
        journal.teacher,
    )
    request = CONTRACTS.example("consent.erasure.requested")["data"]
    request.update(
        erasure_id=new_id(),
        subjects=[{"subject_id": student, "kind": "student"}],
        categories=["marks", "attendance", "enrolments", "final_marks", "audit_values"],
    )
    confirmation = erase_over_the_bus(bus, request)
    assert confirmation["data"]["counts"] == {
        "marks": 1,
        "attendance": 0,
        "enrolments": 1,
        "audit_values": 3,  # the student's mark, enrolment and final mark
    }
    assert [r["category"] for r in confirmation["data"]["retained"]] == ["final_marks"]

    engine = create_engine(journal.database_url)
    with engine.connect() as connection:
        marks_left = set(connection.scalars(select(Mark.student_id)))
        finals_left = set(connection.scalars(select(FinalMark.student_id)))
        erasures = connection.execute(
            select(AuditEntry.author_id, AuditEntry.entity_id, AuditValues.after)
            .join(AuditValues, AuditValues.entry_id == AuditEntry.entry_id)
            .where(AuditEntry.entity == "erasure")
        ).all()
    engine.dispose()
    assert marks_left == {classmate}
    database = Database(journal.database_url)
    with database.sessions() as session:
        verdict = audit.verify(session, SCHOOL)
    database.dispose()
    # R-SEC-4: the chain outlives the values. Its 15 entries: the fixture's year, period,
    # subject, class, work type, load and lesson (7); two enrolments and two marks; the
    # finalization and its two final marks; the erasure itself.
    assert verdict.intact and verdict.entries == 15
    assert [(author, erasure) for author, erasure, _ in erasures] == [
        ("consent", request["erasure_id"])
    ]
    erased = erasures[0][2]
    assert erased["destroyed"] == confirmation["data"]["counts"]
    assert erased["retained"] == ["final_marks"] and erased["subjects"] == 1
    assert student not in str(erased)  # how much went, never whose
    assert finals_left == {student, classmate}


def test_an_ended_diary_agreement_leaves_the_journal_and_its_audit_values_alone(
    bus: Bus, journal: Journal, journal_worker: Worker
) -> None:
    student = new_id()
    journal.enrol(student)
    journal.give_mark(student, "5")
    request = CONTRACTS.example("consent.erasure.requested")["data"]
    request.update(
        erasure_id=new_id(),
        reason="agreement_terminated",
        subjects=[{"subject_id": student, "kind": "student"}],
        categories=["diary", "acknowledgements"],  # the policy's whole list for this trigger
        retain=[],
    )
    confirmation = erase_over_the_bus(bus, request)
    assert confirmation["data"]["counts"] == {}
    engine = create_engine(journal.database_url)
    with engine.connect() as connection:
        marks = connection.scalars(select(Mark.value).where(Mark.student_id == student)).all()
        values = connection.scalars(
            select(AuditValues.entry_id).where(AuditValues.subject_id == student)
        ).all()
        buried = connection.scalars(
            select(tombstones.c.subject_id).where(tombstones.c.subject_id == student)
        ).all()
    engine.dispose()
    assert marks == ["5"]
    assert len(values) == 2  # the enrolment's and the mark's
    assert buried == []  # the student is still at school: the journal keeps listening


def test_another_schools_erasure_leaves_our_student_and_ours_refuses_new_writes(
    bus: Bus, journal: Journal, journal_worker: Worker
) -> None:
    student = new_id()
    journal.enrol(student)
    journal.give_mark(student, "4")
    request = CONTRACTS.example("consent.erasure.requested")["data"]
    categories = ["marks", "attendance", "enrolments", "final_marks", "audit_values"]
    subjects = [{"subject_id": student, "kind": "student"}]
    request.update(erasure_id=new_id(), subjects=subjects, categories=categories, retain=[])

    foreign = erase_over_the_bus(bus, request, school=OTHER_SCHOOL)

    assert set(foreign["data"]["counts"].values()) == {0}
    journal.give_mark(student, "5")  # still ours: not buried by another school
    engine = create_engine(journal.database_url)
    with engine.connect() as connection:
        assert len(connection.scalars(select(Mark).where(Mark.student_id == student)).all()) == 2
        values = select(AuditValues).where(AuditValues.subject_id == student)
        assert len(connection.execute(values).all()) == 3  # enrolment, two marks

    request.update(erasure_id=new_id())
    ours = erase_over_the_bus(bus, request)
    assert ours["data"]["counts"]["marks"] == 2

    refused = journal.give_mark(student, "3", status=404)
    assert refused["error"]["code"] == "student_not_found"
    assert journal.enrol(student, status=404)["error"]["code"] == "student_not_found"
    with engine.connect() as connection:
        assert connection.scalars(select(Mark).where(Mark.student_id == student)).all() == []
    engine.dispose()
