"""The archive's real worker over the real RabbitMQ and PostgreSQL: archive, then shred."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from archive.handlers import build_handlers
from archive.keys import KeyStore
from archive.models import ArchivedRecord
from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.settings import project_root
from schoolkit.testing import Bus
from schoolkit.worker import Worker

CONTRACTS = load_contracts(project_root() / "contracts")
KEY = b"k" * 32


@pytest.fixture
def archive_worker(bus: Bus, postgres_url: str) -> Iterator[Worker]:
    upgrade("archive", postgres_url)
    worker = Worker(bus.settings("archive", postgres_url), build_handlers(KeyStore(KEY)))
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    for event_type in worker.consumer.topology.event_types:  # type: ignore[union-attr]
        deadline = time.monotonic() + 20
        while not bus.is_consuming(f"{bus.namespace}.archive.{event_type}"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
    yield worker
    worker.stop.set()
    thread.join(timeout=15)


def test_a_childs_marks_are_archived_and_their_key_destroyed_on_erasure(
    bus: Bus, archive_worker: Worker
) -> None:
    student = str(uuid.uuid4())
    mark = CONTRACTS.example("journal.mark.recorded")["data"]
    request = CONTRACTS.example("consent.erasure.requested")["data"]
    request.update(
        erasure_id=str(uuid.uuid4()), subjects=[{"subject_id": student, "kind": "student"}]
    )
    confirmations = bus.listen("archive.erasure.completed")
    try:
        for _ in range(3):
            data = {**mark, "student_id": student, "mark_id": str(uuid.uuid4())}
            bus.publish(Event("journal.mark.recorded", data, "school-254", subject=student))
        time.sleep(1.0)  # the marks long precede the erasure in real life
        bus.publish(Event("consent.erasure.requested", request, "school-254"))
        confirmation = confirmations.wait_for(
            lambda e: e["data"]["erasure_id"] == request["erasure_id"]
        )
    finally:
        confirmations.close()
    assert confirmation["data"]["counts"] == {"archived_records": 3, "subject_keys": 1}


def erase(bus: Bus, student: str, school_id: str) -> dict:
    request = CONTRACTS.example("consent.erasure.requested")["data"]
    request.update(
        erasure_id=str(uuid.uuid4()), subjects=[{"subject_id": student, "kind": "student"}]
    )
    confirmations = bus.listen("archive.erasure.completed")
    try:
        bus.publish(Event("consent.erasure.requested", request, school_id))
        return confirmations.wait_for(lambda e: e["data"]["erasure_id"] == request["erasure_id"])
    finally:
        confirmations.close()


def archived_for(postgres_url: str, student: str) -> int:
    database = Database(postgres_url)
    with database.sessions() as session:
        found = session.scalars(
            select(ArchivedRecord.id).where(ArchivedRecord.key_id == KeyStore(KEY).ref(student))
        )
        count = len(found.all())
    database.dispose()
    return count


def give_marks(bus: Bus, student: str, how_many: int) -> None:
    mark = CONTRACTS.example("journal.mark.recorded")["data"]
    for _ in range(how_many):
        data = {**mark, "student_id": student, "mark_id": str(uuid.uuid4())}
        bus.publish(Event("journal.mark.recorded", data, "school-254", subject=student))


def test_another_schools_erasure_shreds_no_key_of_ours_and_buries_nobody_here(
    bus: Bus, archive_worker: Worker, postgres_url: str
) -> None:
    student = str(uuid.uuid4())
    give_marks(bus, student, 2)
    time.sleep(1.0)

    foreign = erase(bus, student, "school-999")
    assert foreign["data"]["counts"] == {"archived_records": 0, "subject_keys": 0}

    give_marks(bus, student, 1)  # still archived: the other school's tombstone is not ours
    deadline = time.monotonic() + 10
    while archived_for(postgres_url, student) < 3:
        assert time.monotonic() < deadline, "a later mark of ours was dropped"
        time.sleep(0.1)
    ours = erase(bus, student, "school-254")
    assert ours["data"]["counts"] == {"archived_records": 3, "subject_keys": 1}
