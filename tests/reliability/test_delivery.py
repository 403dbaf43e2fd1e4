"""Stories of the bus under normal work: delivered once, in order of versions, never to the erased."""

from __future__ import annotations

import json
import uuid

import pika
import pytest
from effects import HANDLERS, written_marks
from sqlalchemy import func, select

from conftest import (
    CONTRACTS,
    SCHOOL,
    Diary,
    Journal,
    mark_event,
    prepared_database,
    start_worker,
    wait_until,
)
from schoolkit.consumer import Consumer
from schoolkit.contracts import ContractViolation
from schoolkit.erasure import REQUESTED, ErasureOutcome, erasure_handler
from schoolkit.events import Event
from schoolkit.outbox import publish
from schoolkit.testing import Bus
from schoolkit.tombstones import bury


def test_a_mark_written_with_its_event_reaches_the_diary(journal: Journal, diary: Diary) -> None:
    event = mark_event(value=4)
    journal.write_mark(event)
    wait_until(lambda: diary.applications(event.data["mark_id"]) == 1, what="the mark in the diary")
    assert diary.value(event.data["mark_id"]) == "4"
    wait_until(lambda: journal.outbox_size() == 0, what="the outbox to drain")


def test_an_event_delivered_twice_is_applied_once(journal: Journal, diary: Diary, bus: Bus) -> None:
    event = mark_event()
    journal.write_mark(event)
    mark_id = event.data["mark_id"]
    wait_until(lambda: diary.applications(mark_id) == 1)

    _publish_raw(bus, event.type, event.to_json().encode(), event.id)
    follower = mark_event()
    journal.write_mark(follower)
    # One queue, one consumer: once the follower is in, the duplicate before it was handled.
    wait_until(lambda: diary.applications(follower.data["mark_id"]) == 1)
    assert diary.applications(mark_id) == 1
    assert diary.inbox_size() == 2


def test_a_stale_update_does_not_overwrite_a_newer_one(journal: Journal, diary: Diary) -> None:
    mark_id = str(uuid.uuid4())
    newer = mark_event(mark_id, value=5, version=2, event_type="journal.mark.corrected")
    older = mark_event(mark_id, value=3, version=1)
    with journal.database.transaction() as session:
        publish(session, newer, CONTRACTS)
        publish(session, older, CONTRACTS)
    follower = mark_event()
    journal.write_mark(follower)
    wait_until(lambda: diary.applications(follower.data["mark_id"]) == 1)
    wait_until(lambda: diary.inbox_size() == 3)
    assert diary.value(mark_id) == "5"


def test_a_late_event_about_an_erased_student_is_dropped(journal: Journal, diary: Diary) -> None:
    erased_student = str(uuid.uuid4())
    with diary.database.transaction() as session:
        bury(session, erased_student, str(uuid.uuid4()), SCHOOL)
    late = mark_event(student=erased_student)
    journal.write_mark(late)
    follower = mark_event(student=str(uuid.uuid4()))
    journal.write_mark(follower)
    wait_until(lambda: diary.applications(follower.data["mark_id"]) == 1)
    assert diary.applications(late.data["mark_id"]) == 0
    assert diary.inbox_size() == 2


def test_an_event_right_behind_its_subjects_erasure_in_one_batch_is_dropped(
    bus: Bus, diary_url: str
) -> None:
    """The consumer looks tombstones up once per batch; an erasure applied earlier in the
    same batch must still stop the events about its subjects that come after it."""
    student = str(uuid.uuid4())
    request = CONTRACTS.example("consent.erasure.requested")
    erasure = Event(
        type=REQUESTED,
        data={
            **request["data"],
            "erasure_id": str(uuid.uuid4()),
            "subjects": [{"subject_id": student, "kind": "student"}],
        },
        school_id=SCHOOL,
    )
    late = mark_event(student=student)
    follower = mark_event(student=str(uuid.uuid4()))
    settings = bus.settings("diary", diary_url)
    database = prepared_database(diary_url)
    handlers = {**HANDLERS, REQUESTED: erasure_handler("diary", lambda _s, _r: ErasureOutcome())}
    channel = bus.channel()
    Consumer(settings, database, handlers, CONTRACTS).topology.declare(channel)
    channel.connection.close()
    # All three wait in the queue before the worker starts: its first batch holds them.
    for event in (erasure, late, follower):
        bus.publish(event)
    running = start_worker(settings, handlers)
    try:
        wait_until(lambda: Diary(database, settings).applications(follower.data["mark_id"]) == 1)
        assert Diary(database, settings).applications(late.data["mark_id"]) == 0
    finally:
        running.stop()
        database.dispose()


def test_an_event_that_breaks_its_contract_is_refused_and_nothing_commits(
    journal: Journal,
) -> None:
    good = mark_event()
    broken = Event(
        type=good.type,
        data={**good.data, "value": "five", "surprise": 1},
        school_id=good.school_id,
        subject=good.subject,
    )
    with pytest.raises(ContractViolation), journal.database.transaction() as session:
        session.execute(written_marks.insert().values(mark_id="x", value="5"))
        publish(session, broken, CONTRACTS)
    with journal.database.sessions() as session:
        assert session.execute(select(func.count()).select_from(written_marks)).scalar_one() == 0
    assert journal.outbox_size() == 0


def test_changes_commit_on_sqlite_too_and_their_events_arrive(
    bus: Bus, sqlite_url: str, diary: Diary
) -> None:
    from conftest import Journal, start_worker

    settings = bus.settings("journal", sqlite_url)
    database = prepared_database(sqlite_url)
    running = start_worker(settings, {})
    try:
        local_journal = Journal(database, settings)
        events = [mark_event() for _ in range(20)]
        for event in events:
            local_journal.write_mark(event)
        wait_until(lambda: diary.marks_applied() == 20, what="20 marks from SQLite")
        wait_until(lambda: local_journal.outbox_size() == 0)
    finally:
        running.stop()
        database.dispose()


def _publish_raw(bus: Bus, routing_key: str, body: bytes, message_id: str) -> None:
    channel = bus.channel()
    channel.confirm_delivery()
    channel.basic_publish(
        f"{bus.namespace}.events",
        routing_key,
        body,
        properties=pika.BasicProperties(
            message_id=message_id,
            type=routing_key,
            content_type="application/json",
            delivery_mode=2,
        ),
        mandatory=True,
    )
    channel.connection.close()


def publish_raw_json(bus: Bus, routing_key: str, payload: object) -> str:
    message_id = str(uuid.uuid4())
    _publish_raw(bus, routing_key, json.dumps(payload).encode(), message_id)
    return message_id
