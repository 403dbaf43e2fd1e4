"""Stories of the bus when things break: the broker away, a worker killed, poison messages."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pika
from effects import refused_marks
from netfault import TcpProxy
from prometheus_client import REGISTRY
from sqlalchemy import delete, insert
from test_delivery import publish_raw_json

from conftest import (
    CONTRACTS,
    Diary,
    Journal,
    mark_event,
    prepared_database,
    start_worker,
    wait_until,
)
from schoolkit.outbox import publish
from schoolkit.parking import ParkingLot
from schoolkit.publisher import ConfirmingPublisher
from schoolkit.relay import Relay
from schoolkit.tables import outbox
from schoolkit.testing import Bus
from schoolkit.topology import BusNames, declare_exchanges, declare_parking_queue, topology_for

HERE = Path(__file__).parent


def test_with_the_broker_unreachable_changes_commit_and_every_event_arrives_later(
    bus: Bus, journal_url: str, diary: Diary
) -> None:
    proxy = TcpProxy("127.0.0.1", 5672)
    proxy.start()
    amqp_through_proxy = bus.amqp_url.replace("127.0.0.1:5672", proxy.url_netloc)
    settings = bus.settings("journal", journal_url, amqp_url=amqp_through_proxy)
    database = prepared_database(journal_url)
    journal = Journal(database, settings)
    running = start_worker(settings, {})
    try:
        journal.write_mark(mark_event())
        wait_until(lambda: diary.marks_applied() == 1, what="the first mark, broker up")

        proxy.cut()
        events = [mark_event() for _ in range(50)]
        for event in events:
            journal.write_mark(event)
        assert journal.outbox_size() == 50
        assert diary.marks_applied() == 1

        proxy.restore()
        wait_until(lambda: diary.marks_applied() == 51, timeout=30, what="all 50 after the outage")
        wait_until(lambda: journal.outbox_size() == 0)
        assert all(diary.applications(e.data["mark_id"]) == 1 for e in events)
    finally:
        running.stop()
        proxy.cut()
        database.dispose()


def test_a_worker_killed_in_the_middle_of_a_handler_applies_the_event_once_after_restart(
    bus: Bus, journal: Journal, postgres_url: str, tmp_path: Path
) -> None:
    diary_database = prepared_database(postgres_url)
    diary = Diary(diary_database, bus.settings("diary", postgres_url))
    event = mark_event()
    started = tmp_path / "handler-started"
    hanging = _spawn_diary_worker(
        bus, postgres_url, EFFECTS_HANG_ON_EVENT=event.id, EFFECTS_STARTED_FILE=str(started)
    )
    try:
        journal.write_mark(event)
        wait_until(started.exists, timeout=30, what="the handler to start")
        hanging.send_signal(signal.SIGKILL)
        hanging.wait(timeout=10)
        assert diary.applications(event.data["mark_id"]) == 0

        restarted = _spawn_diary_worker(bus, postgres_url)
        try:
            wait_until(lambda: diary.applications(event.data["mark_id"]) == 1, timeout=30)
            assert diary.inbox_size() == 1
        finally:
            restarted.terminate()
            restarted.wait(timeout=15)
    finally:
        if hanging.poll() is None:
            hanging.kill()
        diary_database.dispose()


def test_poison_messages_are_parked_with_their_reason_while_others_flow_and_replay_after_a_fix(
    bus: Bus, journal: Journal, diary: Diary
) -> None:
    invalid_id = publish_raw_json(bus, "journal.mark.recorded", {"type": "journal.mark.recorded"})
    refused = mark_event()
    with diary.database.transaction() as session:
        session.execute(insert(refused_marks).values(mark_id=refused.data["mark_id"]))
    journal.write_mark(refused)
    others = [mark_event() for _ in range(5)]
    for event in others:
        journal.write_mark(event)

    wait_until(lambda: diary.marks_applied() == 5, what="the healthy marks")
    lot = ParkingLot(bus.amqp_url, bus.namespace, "diary")
    parked = wait_until(
        lambda: _parked_by_id(lot) if len(_parked_by_id(lot)) == 2 else None,
        what="both poison messages parked",
    )
    assert parked[invalid_id].reason.startswith("invalid")
    assert "MarkRefused" in parked[refused.id].reason
    assert parked[refused.id].attempts == len(bus.retry_delays)
    assert parked[refused.id].origin_queue == BusNames(bus.namespace, "diary").queue(refused.type)
    assert diary.applications(refused.data["mark_id"]) == 0

    with diary.database.transaction() as session:
        session.execute(delete(refused_marks))
    assert [m.message_id for m in lot.replay(lambda m: m.message_id == refused.id)] == [refused.id]
    wait_until(lambda: diary.applications(refused.data["mark_id"]) == 1, what="the replayed mark")

    assert [m.message_id for m in lot.purge(lambda m: True)] == [invalid_id]
    assert lot.list() == []


def test_a_message_that_keeps_killing_its_consumer_is_parked_by_the_broker(bus: Bus) -> None:
    # A consumer that dies holding the message (it never acks) until the queue's
    # delivery limit is reached: the broker itself moves it to the parking queue.
    topology = topology_for(
        bus.namespace, "diary", ["journal.mark.recorded"], bus.retry_delays, bus.delivery_limit
    )
    bus.services.add("diary")
    channel = bus.channel()
    topology.declare(channel)
    channel.connection.close()
    message_id = publish_raw_json(bus, "journal.mark.recorded", mark_event().to_dict())
    queue = topology.names.queue("journal.mark.recorded")
    lot = ParkingLot(bus.amqp_url, bus.namespace, "diary")
    parked = _kill_consumer_until_parked(bus, queue, lot, message_id)
    assert parked.reason.startswith("dead-lettered by the broker")
    assert parked.origin_queue == queue


def test_two_relays_on_one_postgres_publish_each_event_exactly_once(
    bus: Bus, journal_url: str
) -> None:
    database = prepared_database(journal_url)
    names = BusNames(bus.namespace, "observer")
    channel = bus.channel()
    channel.exchange_declare(names.exchange, "topic", durable=True)
    observed = f"{bus.namespace}.observer"
    channel.queue_declare(observed, durable=True)
    channel.queue_bind(observed, names.exchange, "journal.mark.recorded")
    events = [mark_event() for _ in range(600)]
    with database.transaction() as session:
        for event in events:
            publish(session, event, CONTRACTS)

    import threading

    relays = [
        Relay(database, ConfirmingPublisher(bus.amqp_url, names.exchange), batch_size=50)
        for _ in range(2)
    ]
    threads = [threading.Thread(target=_drain, args=(relay,)) for relay in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    seen: list[str] = []
    while True:
        method, properties, _ = channel.basic_get(observed, auto_ack=True)
        if method is None:
            break
        seen.append(properties.message_id)
    channel.queue_delete(observed)
    channel.connection.close()
    database.dispose()
    assert sorted(seen) == sorted(e.id for e in events)


def test_an_event_no_queue_takes_is_parked_by_its_producer_with_the_reason_and_counted(
    bus: Bus, journal_url: str
) -> None:
    """Issue 19: identity's events sat unroutable in its outbox, retried for ever. Now the
    relay parks what the broker returns for want of a queue (here at once, without the
    grace minute a first start needs), and the outbox moves on."""
    settings = bus.settings("journal", journal_url, relay_unroutable_grace_seconds=0.0)
    journal = Journal(prepared_database(journal_url), settings)
    nobodys, theirs = mark_event(), mark_event()
    counted_before = _unroutable_count("journal.mark.recorded")
    running = start_worker(settings, {})
    try:
        journal.write_mark(nobodys)
        lot = ParkingLot(bus.amqp_url, bus.namespace, "journal")
        parked = wait_until(
            lambda: bus.queue_exists(lot.queue) and _parked_by_id(lot).get(nobodys.id),
            what="the parked event",
        )
        assert journal.outbox_size() == 0

        listener = bus.listen("journal.mark.recorded")
        lot.replay(lambda message: message.message_id == nobodys.id)
        journal.write_mark(theirs)
        caught = {listener.wait_for(_with_id(event.id))["id"] for event in (nobodys, theirs)}
        listener.close()
    finally:
        running.stop()
        journal.database.dispose()

    assert parked.reason.startswith("unroutable: 312 NO_ROUTE")  # type: ignore[attr-defined]
    assert "journal.mark.recorded" in parked.reason  # type: ignore[attr-defined]
    assert parked.event_type == "journal.mark.recorded"  # type: ignore[attr-defined]
    assert _unroutable_count("journal.mark.recorded") == counted_before + 1
    assert caught == {nobodys.id, theirs.id}


def test_an_event_that_finds_no_queue_at_first_is_retried_for_a_grace_minute_not_parked(
    bus: Bus, journal_url: str
) -> None:
    """On a first start the consumers may not have declared their queues yet."""
    database = prepared_database(journal_url)
    names = BusNames(bus.namespace, "journal")
    channel = bus.channel()
    declare_exchanges(channel, bus.namespace)
    declare_parking_queue(channel, names)
    with database.transaction() as session:
        publish(session, mark_event(), CONTRACTS)
    relay = Relay(
        database,
        ConfirmingPublisher(bus.amqp_url, names.exchange),
        parking_queue=names.parking_queue,
    )
    try:
        assert relay.drain_once() == 0
        with database.sessions() as session:
            row = session.execute(outbox.select()).one()
        parked = channel.queue_declare(names.parking_queue, passive=True).method.message_count
    finally:
        channel.queue_delete(names.parking_queue)
        channel.connection.close()
        database.dispose()
    assert (row.attempts, parked) == (1, 0)
    assert row.last_error.startswith("unroutable")


def _with_id(event_id: str) -> Callable[[dict[str, Any]], bool]:
    return lambda envelope: envelope["id"] == event_id


def _unroutable_count(event_type: str) -> float:
    value = REGISTRY.get_sample_value("events_unroutable_total", {"event_type": event_type})
    return value or 0.0


def _drain(relay: Relay) -> None:
    while relay.drain_once():
        pass


def _parked_by_id(lot: ParkingLot) -> dict[str, object]:
    return {message.message_id: message for message in lot.list()}


def _spawn_diary_worker(bus: Bus, database_url: str, **extra_env: str) -> subprocess.Popen[bytes]:
    environment = bus.environment("diary", database_url)
    environment.update(extra_env)
    environment["PYTHONPATH"] = os.pathsep.join([str(HERE), environment.get("PYTHONPATH", "")])
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "schoolkit.worker",
            "--service",
            "diary",
            "--handlers",
            "effects:HANDLERS",
        ],
        env=environment,
    )


def _kill_consumer_until_parked(bus: Bus, queue: str, lot: ParkingLot, message_id: str):  # type: ignore[no-untyped-def]
    for _ in range(50):
        parked = _parked_by_id(lot).get(message_id)
        if parked is not None:
            return parked
        connection = pika.BlockingConnection(pika.URLParameters(bus.amqp_url))
        channel = connection.channel()
        method, _, _ = channel.basic_get(queue, auto_ack=False)
        connection.close()  # dies holding the message: the broker counts a delivery
        if method is None:
            wait_until(lambda: True, timeout=0.1)
    raise AssertionError("the message was never parked")
