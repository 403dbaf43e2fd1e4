"""The broker itself restarts: what it held survives, what was written meanwhile follows.

Runs `rabbitmqctl stop_app` / `start_app` on the machine's RabbitMQ, so it needs that
command (present wherever the broker is local, as on CI).
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
from effects import HANDLERS

from conftest import Diary, Journal, mark_event, prepared_database, start_worker, wait_until
from schoolkit.testing import Bus
from schoolkit.topology import topology_for


def _rabbitmqctl(*arguments: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *arguments], check=True, timeout=120, capture_output=True)


def _ready_messages(bus: Bus, queue: str) -> int:
    channel = bus.channel()
    try:
        return channel.queue_declare(queue, passive=True).method.message_count
    finally:
        channel.connection.close()


@pytest.mark.skipif(
    shutil.which("rabbitmqctl") is None, reason="needs the local broker's rabbitmqctl"
)
def test_events_waiting_in_the_broker_survive_its_restart_and_none_is_lost(
    bus: Bus, journal: Journal, postgres_url: str
) -> None:
    topology = topology_for(bus.namespace, "diary", HANDLERS, bus.retry_delays, bus.delivery_limit)
    bus.services.add("diary")
    channel = bus.channel()
    topology.declare(channel)
    channel.connection.close()
    queue = topology.names.queue("journal.mark.recorded")
    before = [mark_event() for _ in range(20)]
    for event in before:
        journal.write_mark(event)
    wait_until(lambda: _ready_messages(bus, queue) == 20, what="20 messages waiting in the queue")

    _rabbitmqctl("stop_app")
    try:
        during = [mark_event() for _ in range(10)]
        for event in during:
            journal.write_mark(event)  # commits; the relay cannot publish them now
        assert journal.outbox_size() == 10
    finally:
        _rabbitmqctl("start_app")
        _rabbitmqctl("await_startup")

    diary_database = prepared_database(postgres_url)
    diary = Diary(diary_database, bus.settings("diary", postgres_url))
    running = start_worker(diary.settings, HANDLERS)
    try:
        wait_until(lambda: diary.marks_applied() == 30, timeout=60, what="all 30 marks applied")
        assert all(diary.applications(e.data["mark_id"]) == 1 for e in before + during)
        wait_until(lambda: journal.outbox_size() == 0)
    finally:
        running.stop()
        diary_database.dispose()
