"""The coordinator over the real RabbitMQ and PostgreSQL (DESIGN §4, issue 5 §5–7).

The other services stand at the edge of consent's world here: small participants built
with the kit's erasure handler, each a real worker on the bus. The cross-service story
with the real identity, journal and the others is in tests/e2e.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from consent import registry
from consent.act import act_of
from consent.coordinator import Coordinator
from consent.handlers import build_handlers
from consent.models import Erasure
from consent.policy import load_policy
from consent.settings import ErasureSettings
from consent.sweep import Sweep
from schoolkit.db import Database
from schoolkit.erasure import ErasureOutcome, ErasureRequest, erasure_handler
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.tables import kit_metadata
from schoolkit.testing import Bus
from schoolkit.worker import PeriodicTask, Worker

from .families import World

PARTICIPANTS = ["identity", "journal", "notify", "consent"]
SCHOOL = "school-254"


def start(worker: Worker) -> threading.Thread:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return thread


def eventually(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not in time"
        time.sleep(0.05)


@dataclass
class Harness:
    bus: Bus
    database: Database
    coordinator: Coordinator
    tmp_path: Path
    database_url: str
    running: dict[str, tuple[Worker, threading.Thread]] = field(default_factory=dict)

    def start_participant(self, name: str) -> None:
        url = f"sqlite:///{self.tmp_path / (name + '.db')}"
        kit_metadata.create_all(Database(url).engine)

        def erase(_session: Session, request: ErasureRequest) -> ErasureOutcome:
            outcome = ErasureOutcome()
            outcome.count("records", len(request.subject_ids))
            return outcome

        handlers = {"consent.erasure.requested": erasure_handler(name, erase)}
        worker = Worker(self.bus.settings(name, url), handlers)
        self.running[name] = (worker, start(worker))
        eventually(
            lambda: self.bus.is_consuming(f"{self.bus.namespace}.{name}.consent.erasure.requested")
        )

    def stop(self, name: str) -> None:
        worker, thread = self.running.pop(name)
        worker.stop.set()
        thread.join(timeout=15)

    def revoke_a_consent(self) -> str:
        world = World(self.database_url)
        family = world.a_family(SCHOOL)
        world.close()
        staff = registry.Staff(family.class_teacher_id, SCHOOL, frozenset({"class_teacher"}))
        form = {
            "guardian_id": family.guardian_id,
            "student_id": family.student_id,
            "representation": "parent",
            "decision": "given",
            "signed_on": date(2025, 9, 1),
        }
        with self.database.transaction() as session:
            consent = registry.register_consent(session, staff, form)
            erasure = registry.withdraw_consent(
                session,
                self.coordinator,
                staff,
                consent,
                received_at=datetime.now(UTC),
                reason="withdrawn_by_guardian",
            )
            return erasure.id

    def erasure(self, erasure_id: str) -> Erasure:
        with self.database.transaction() as session:
            found = session.get(Erasure, erasure_id)
            assert found is not None
            session.expunge(found)
            return found

    def act(self, erasure_id: str) -> dict:
        with self.database.transaction() as session:
            return act_of(session, session.get(Erasure, erasure_id), self.coordinator.settings)


@pytest.fixture
def harness(bus: Bus, postgres_url: str, tmp_path: Path) -> Iterator[Harness]:
    upgrade("consent", postgres_url)
    settings = ErasureSettings(
        policy=load_policy(enabled=PARTICIPANTS),
        ask_again_after=timedelta(seconds=1),
        warn_share=0.00001,  # about 2.6 s into a 3-working-day term
    )
    coordinator = Coordinator(settings)
    sweep = PeriodicTask("sweep", 0.2, Sweep(coordinator))
    consent_worker = Worker(
        bus.settings("consent", postgres_url), build_handlers(coordinator), [sweep]
    )
    test = Harness(bus, Database(postgres_url), coordinator, tmp_path, postgres_url)
    test.running["consent"] = (consent_worker, start(consent_worker))
    eventually(lambda: bus.is_consuming(f"{bus.namespace}.consent.journal.erasure.completed"))
    yield test
    for name in list(test.running):
        test.stop(name)
    test.database.dispose()


def test_a_revocation_is_erased_everywhere_confirmed_and_proven_by_an_act(
    harness: Harness, bus: Bus
) -> None:
    for name in ("identity", "journal", "notify"):
        harness.start_participant(name)
    finished = bus.listen("consent.erasure.finished")
    try:
        erasure_id = harness.revoke_a_consent()
        notice = finished.wait_for(lambda e: e["data"]["erasure_id"] == erasure_id)
    finally:
        finished.close()
    assert notice["data"]["participants"] == sorted(PARTICIPANTS)
    act = harness.act(erasure_id)
    counts = {system["participant"]: system["counts"] for system in act["systems"]}
    assert counts["journal"] == {"records": 2}  # the student and the guardian
    # consent's own records, and its copies of who the two are and of their link and class
    assert counts["consent"] == {
        "agreements": 0,
        "consents": 1,
        "enrolments": 1,
        "guardianships": 1,
        "profile": 2,
    }
    assert act["log"][0]["what"] == "requested"
    assert act["log"][-1]["what"] == "finished"
    assert act["destroyed_at"] is not None


def test_a_participant_stopped_during_the_request_is_asked_again_and_completes_when_back(
    harness: Harness,
) -> None:
    harness.start_participant("identity")
    harness.start_participant("notify")
    erasure_id = harness.revoke_a_consent()  # the journal's worker is down
    eventually(lambda: harness.erasure(erasure_id).attempt >= 2)
    assert harness.erasure(erasure_id).status == "open"

    harness.start_participant("journal")
    eventually(lambda: harness.erasure(erasure_id).status == "finished")
    log = [entry["what"] for entry in harness.act(erasure_id)["log"]]
    assert "asked_again" in log


def test_a_participant_that_never_answers_raises_overdue_well_before_the_deadline(
    harness: Harness, bus: Bus
) -> None:
    harness.start_participant("identity")
    harness.start_participant("notify")
    overdue = bus.listen("consent.erasure.overdue")
    try:
        erasure_id = harness.revoke_a_consent()  # the journal never answers
        raised = overdue.wait_for(lambda e: e["data"]["erasure_id"] == erasure_id)
    finally:
        overdue.close()
    assert raised["data"]["missing_participants"] == ["journal"]
    assert raised["data"]["raised_at"] < raised["data"]["deadline"]
    assert harness.erasure(erasure_id).status == "open"


def test_a_student_leaving_opens_an_erasure_of_the_student(harness: Harness, bus: Bus) -> None:
    for name in ("identity", "journal", "notify"):
        harness.start_participant(name)
    student = str(uuid.uuid4())
    data = {
        "enrolment_id": str(uuid.uuid4()),
        "student_id": student,
        "class_id": str(uuid.uuid4()),
        "reason": "graduation",
        "left_on": "2026-06-25",
        "entity_version": 3,
    }
    finished = bus.listen("consent.erasure.finished")
    try:
        bus.publish(Event("journal.student.left", data, SCHOOL, subject=student))
        notice = finished.wait_for(lambda e: e["data"]["subjects"][0]["subject_id"] == student)
    finally:
        finished.close()
    assert notice["data"]["reason"] == "student_left"
