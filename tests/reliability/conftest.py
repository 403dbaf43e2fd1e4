"""The harness of the reliability tests: a journal that writes marks, a diary that applies them.

Both run the real kit (outbox, relay, consumer, inbox) against the real PostgreSQL and
RabbitMQ; only the handler's effect table is test code (effects.py).
"""

from __future__ import annotations

import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).parent))

from effects import HANDLERS, applied_marks, effects_metadata, written_marks

from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.outbox import publish
from schoolkit.settings import Settings, project_root
from schoolkit.tables import inbox, kit_metadata, outbox
from schoolkit.testing import Bus
from schoolkit.worker import Worker

CONTRACTS = load_contracts(project_root() / "contracts")
SCHOOL = "school-254"


def wait_until(condition: Callable[[], Any], timeout: float = 15.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what or condition}")


def mark_event(
    mark_id: str | None = None,
    *,
    value: int = 5,
    version: int = 1,
    student: str | None = None,
    event_type: str = "journal.mark.recorded",
) -> Event:
    """A mark event shaped by its contract's canonical example."""
    example = CONTRACTS.example(event_type)
    data = dict(example["data"])
    data.update(mark_id=mark_id or str(uuid.uuid4()), value=value, entity_version=version)
    if student is not None:
        data["student_id"] = student
    return Event(
        type=event_type, data=data, school_id=SCHOOL, subject=student or example.get("subject")
    )


def prepared_database(url: str) -> Database:
    database = Database(url)
    kit_metadata.create_all(database.engine)
    effects_metadata.create_all(database.engine)
    return database


@dataclass
class RunningWorker:
    worker: Worker
    thread: threading.Thread

    def stop(self) -> None:
        self.worker.stop.set()
        self.thread.join(timeout=15)


def start_worker(settings: Settings, handlers: dict[str, Any]) -> RunningWorker:
    worker = Worker(settings, handlers)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return RunningWorker(worker, thread)


@dataclass
class Journal:
    """The producer: each mark written is a state change plus its event, in one transaction."""

    database: Database
    settings: Settings

    def write_mark(self, event: Event) -> None:
        with self.database.transaction() as session:
            session.execute(
                insert(written_marks).values(
                    mark_id=event.data["mark_id"], value=str(event.data["value"])
                )
            )
            publish(session, event, CONTRACTS)

    def outbox_size(self) -> int:
        with self.database.sessions() as session:
            return session.execute(select(func.count()).select_from(outbox)).scalar_one()


@dataclass
class Diary:
    """The consumer's side: what it applied, read back from its own database."""

    database: Database
    settings: Settings

    def applications(self, mark_id: str) -> int:
        with self.database.sessions() as session:
            found = session.execute(
                select(applied_marks.c.applications).where(applied_marks.c.mark_id == mark_id)
            ).scalar_one_or_none()
        return found or 0

    def value(self, mark_id: str) -> str | None:
        with self.database.sessions() as session:
            return session.execute(
                select(applied_marks.c.value).where(applied_marks.c.mark_id == mark_id)
            ).scalar_one_or_none()

    def inbox_size(self) -> int:
        with self.database.sessions() as session:
            return session.execute(select(func.count()).select_from(inbox)).scalar_one()

    def marks_applied(self) -> int:
        with self.database.sessions() as session:
            return session.execute(select(func.count()).select_from(applied_marks)).scalar_one()


@pytest.fixture
def diary_url(postgres_url: str) -> str:
    return postgres_url


@pytest.fixture
def journal_url() -> Iterator[str]:
    from schoolkit.testing import create_database, drop_database, require_postgres

    require_postgres()
    url = create_database("journal")
    try:
        yield url
    finally:
        drop_database(url)


@pytest.fixture
def diary(bus: Bus, diary_url: str) -> Iterator[Diary]:
    settings = bus.settings("diary", diary_url)
    database = prepared_database(diary_url)
    running = start_worker(settings, HANDLERS)
    queue = f"{bus.namespace}.diary.journal.mark.recorded"
    wait_until(lambda: bus.is_consuming(queue), what="the diary's queues")
    try:
        yield Diary(database, settings)
    finally:
        running.stop()
        database.dispose()


@pytest.fixture
def journal(bus: Bus, journal_url: str) -> Iterator[Journal]:
    settings = bus.settings("journal", journal_url)
    database = prepared_database(journal_url)
    running = start_worker(settings, {})
    try:
        yield Journal(database, settings)
    finally:
        running.stop()
        database.dispose()
