"""Notify's real worker over the real RabbitMQ and PostgreSQL: an erasure, end to end."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest

from notify.config import DeliveryConfig
from notify.handlers import build_handlers
from notify.sending import Sender
from schoolkit.db import Database
from schoolkit.testing import Bus, Mailbox
from schoolkit.worker import PeriodicTask, Worker

from .events import contact_changed, erasure_finished, erasure_requested, guardian_linked, new_id


def eventually(condition: Callable[[], object], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def notify_worker(
    bus: Bus, notify_postgres: Database, delivery_config: DeliveryConfig
) -> Iterator[Worker]:
    settings = bus.settings("notify", str(notify_postgres.engine.url.render_as_string(False)))
    sender = PeriodicTask("sender", delivery_config.send_interval_seconds, Sender(delivery_config))
    worker = Worker(settings, build_handlers(delivery_config), [sender])
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    for event_type in worker.consumer.topology.event_types:  # type: ignore[union-attr]
        eventually(lambda t=event_type: bus.is_consuming(f"{bus.namespace}.notify.{t}"))
    yield worker
    worker.stop.set()
    thread.join(timeout=15)


def test_an_erasure_over_the_bus_is_confirmed_and_the_guardian_gets_the_notice(
    bus: Bus, notify_worker: Worker, mailbox: Mailbox
) -> None:
    guardian, student, erasure_id = new_id(), new_id(), new_id()
    subjects = [(student, "student"), (guardian, "guardian")]
    confirmations = bus.listen("notify.erasure.completed")
    try:
        bus.publish(contact_changed(guardian, "mother@example.org"))
        bus.publish(guardian_linked(guardian, student))
        time.sleep(0.5)  # contacts first, as identity's events would long precede an erasure
        bus.publish(erasure_requested(erasure_id, subjects))
        confirmation = confirmations.wait_for(lambda e: e["data"]["erasure_id"] == erasure_id)
        assert confirmation["data"]["counts"]["guardianships"] == 1
        bus.publish(erasure_finished(erasure_id, subjects))
        eventually(lambda: mailbox.to("mother@example.org"))
    finally:
        confirmations.close()
    [notice] = mailbox.to("mother@example.org")
    assert erasure_id in notice.get_content()
