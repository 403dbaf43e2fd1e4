"""The real diary worker on PostgreSQL and RabbitMQ: events in, the diary built, erased on request.

# Russian school data: Cyrillic letters that look Latin are meant.
# ruff: noqa: RUF001

Events are published as the journal, identity and consent will publish them (contract-valid,
on the real broker); the worker is the `diary-worker` process itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pika
import pytest
from sqlalchemy import func, select, text

from diary.models import Acknowledgement, LoggedEvent, LoggedEventPerson, Mark, Person
from diary.testing import SchoolEvents, covered_family, new_id
from schoolkit import tombstones
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.testing import Bus
from schoolkit.topology import declare_exchanges

from .conftest import MONDAY


def publish(bus: Bus, *events: Event) -> None:
    channel = bus.channel()
    declare_exchanges(channel, bus.namespace)
    channel.confirm_delivery()
    for event in events:
        _publish_until_routed(channel, bus, event)
    channel.connection.close()


def _publish_until_routed(channel: object, bus: Bus, event: Event) -> None:
    """The worker declares its queues one by one at start: retry until this type is bound."""
    deadline = time.monotonic() + 30
    while True:
        try:
            _publish_once(channel, bus, event)
            return
        except pika.exceptions.UnroutableError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _publish_once(channel: object, bus: Bus, event: Event) -> None:
    channel.basic_publish(  # type: ignore[attr-defined]
        f"{bus.namespace}.events",
        event.type,
        event.to_json().encode(),
        properties=pika.BasicProperties(
            message_id=event.id,
            type=event.type,
            content_type="application/json",
            delivery_mode=2,
        ),
        mandatory=True,
    )


def wait_for(condition: Callable[[], bool], seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def worker(bus: Bus, postgres_url: str) -> Iterator[Database]:
    upgrade("diary", postgres_url)
    command = str(Path(sys.executable).parent / "diary-worker")
    process = subprocess.Popen([command], env=bus.environment("diary", postgres_url))
    database = Database(postgres_url)
    queue = f"{bus.namespace}.diary.consent.erasure.requested"
    try:
        assert wait_for(lambda: bus.is_consuming(queue)), "the worker never declared its queues"
        yield database
    finally:
        process.terminate()
        assert process.wait(timeout=20) == 0
        database.dispose()


def count(database: Database, query: object) -> int:
    with database.sessions() as session:
        return int(session.scalar(query) or 0)


def listen_for(bus: Bus, event_type: str) -> tuple[object, str]:
    channel = bus.channel()
    declare_exchanges(channel, bus.namespace)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, f"{bus.namespace}.events", routing_key=event_type)
    return channel, queue


def next_message(channel: object, queue: str, seconds: float = 30) -> dict:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        _, _, body = channel.basic_get(queue, auto_ack=True)  # type: ignore[attr-defined]
        if body:
            return json.loads(body)
        time.sleep(0.1)
    raise AssertionError("no message arrived")


def test_a_redelivered_mark_is_applied_once_and_an_erasure_leaves_nothing_of_the_family(
    bus: Bus, worker: Database
) -> None:
    school = SchoolEvents()
    class_id, teacher = new_id(), new_id()
    family = covered_family(school, class_id, MONDAY - timedelta(days=30))
    lesson = school.lesson(new_id(), class_id, new_id(), teacher, day=MONDAY, slot=1, topic="Дроби")
    mark = school.mark(family.student_id, lesson, 5)
    publish(bus, *family.events, lesson, mark, mark)  # the same event twice: a redelivery
    assert wait_for(lambda: count(worker, select(func.count()).select_from(Mark)) == 1)
    time.sleep(0.5)
    assert count(worker, select(func.count()).select_from(Mark)) == 1
    with worker.transaction() as session:
        session.add(
            Acknowledgement(
                school_id=school.school_id,
                acknowledgement_id=new_id(),
                guardian_id=family.guardian_id,
                student_id=family.student_id,
                scope="diary",
                until=MONDAY,
                acknowledged_at=datetime.now(UTC),
            )
        )

    channel, queue = listen_for(bus, "diary.erasure.completed")
    erasure = school.erasure(students=[family.student_id], guardians=[family.guardian_id])
    publish(bus, erasure)
    confirmation = next_message(channel, queue)
    assert confirmation["data"]["erasure_id"] == erasure.data["erasure_id"]
    counts = confirmation["data"]["counts"]
    assert counts["acknowledgements"] == 1
    assert counts["guardianships"] == 2  # the link and the agreement
    assert counts["diary"] >= 4  # the mark, the name, the enrolment, their logged copies

    about_them = [family.student_id, family.guardian_id]
    assert count(worker, select(func.count()).select_from(Mark)) == 0
    assert count(worker, select(func.count()).where(Person.person_id.in_(about_them))) == 0
    assert (
        count(worker, select(func.count()).where(LoggedEventPerson.person_id.in_(about_them))) == 0
    )
    with worker.sessions() as session:
        logged = session.scalars(select(LoggedEvent.body)).all()
        assert not any(family.student_id in body for body in logged)
        assert tombstones.is_erased(session, school.school_id, family.student_id)

    late = school.mark(family.student_id, lesson, 2)
    publish(bus, late, school.agreement(family.guardian_id, family.student_id))
    time.sleep(1.5)
    assert count(worker, select(func.count()).select_from(Mark)) == 0


def test_the_worker_keeps_the_diary_on_postgres_in_step_with_class_level_changes(
    bus: Bus, worker: Database
) -> None:
    school = SchoolEvents()
    class_id, teacher, subject = new_id(), new_id(), new_id()
    lesson_id = new_id()
    versions = [
        school.lesson(
            lesson_id, class_id, subject, teacher, day=MONDAY, slot=1, topic=f"Тема {v}", version=v
        )
        for v in (1, 2, 3)
    ]
    publish(bus, versions[0], versions[2], versions[1])  # version 2 arrives after 3

    def topic() -> str | None:
        with worker.sessions() as session:
            return session.execute(text("select topic from lessons")).scalar()

    assert wait_for(lambda: topic() == "Тема 3")
    time.sleep(0.5)
    assert topic() == "Тема 3"
