"""Exactly one message per event and recipient: across redeliveries, worker restarts, two
senders at once, and a sender killed after the mail server took the message."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from notify.config import DeliveryConfig
from notify.handlers import build_handlers
from notify.sending import Sender
from schoolkit.db import Database
from schoolkit.testing import Bus, Mailbox, free_port
from schoolkit.worker import PeriodicTask, Worker

from .events import new_id
from .families import School, mark, news_config
from .test_notify_worker import eventually


def start_worker(
    bus: Bus, database: Database, config: DeliveryConfig
) -> tuple[Worker, threading.Thread]:
    settings = bus.settings("notify", str(database.engine.url.render_as_string(False)))
    sender = PeriodicTask("sender", config.send_interval_seconds, Sender(config))
    worker = Worker(settings, build_handlers(config), [sender])
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    for event_type in worker.consumer.topology.event_types:  # type: ignore[union-attr]
        eventually(lambda t=event_type: bus.is_consuming(f"{bus.namespace}.notify.{t}"))
    return worker, thread


def stop_worker(worker: Worker, thread: threading.Thread) -> None:
    worker.stop.set()
    thread.join(timeout=15)


def test_a_mark_delivered_twice_and_again_after_a_restart_is_one_email(
    bus: Bus, notify_postgres: Database, delivery_config: DeliveryConfig, mailbox: Mailbox
) -> None:
    config = news_config(delivery_config)
    school = School(notify_postgres, config)
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    recorded = mark(masha, 5, mark_id=new_id(), teacher=school.teacher)

    worker, thread = start_worker(bus, notify_postgres, config)
    try:
        bus.publish(recorded)
        bus.publish(recorded)  # the broker may deliver it again: same event id
        eventually(lambda: mailbox.to("mother@example.org"))
    finally:
        stop_worker(worker, thread)
    worker, thread = start_worker(bus, notify_postgres, config)
    try:
        bus.publish(recorded)  # replayed after the restart (an operator's replay, say)
        probe = mark(masha, 4, mark_id=new_id(), teacher=school.teacher)
        bus.publish(probe)  # the next mark arrives after the replay: the replay was handled
        eventually(lambda: len(mailbox.to("mother@example.org")) == 2)
    finally:
        stop_worker(worker, thread)
    assert [m.get_content().count("оценка 5") for m in mailbox.to("mother@example.org")] == [1, 0]


def test_two_senders_at_once_send_every_message_once(
    notify_postgres: Database, delivery_config: DeliveryConfig, mailbox: Mailbox
) -> None:
    school = School(notify_postgres, news_config(delivery_config))
    children = [school.child("Ученик", str(n)) for n in range(20)]
    for number, child in enumerate(children):
        school.guardian(f"parent{number}@example.org", child)
        school.hear(mark(child, 5, mark_id=new_id(), teacher=school.teacher))
    senders = [
        threading.Thread(target=Sender(school.config).send_due, args=(notify_postgres,))
        for _ in range(2)
    ]
    for sender in senders:
        sender.start()
    for sender in senders:
        sender.join(timeout=60)
    assert len(mailbox.messages) == 20
    assert {d.status for d in school.deliveries()} == {"sent"}


class KillingMailbox(Mailbox):
    """Takes the message, then kills the sending process before it can commit."""

    victim: int | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        if self.victim is not None:
            os.kill(self.victim, signal.SIGKILL)
        return answer


@pytest.fixture
def killing_mailbox() -> Iterator[KillingMailbox]:
    box = KillingMailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    yield box
    controller.stop()


SENDER = (
    "from notify.config import DeliveryConfig; from notify.sending import Sender; "
    "from schoolkit.db import Database; import sys; "
    "Sender(DeliveryConfig.from_env()).send_due(Database(sys.argv[1]))"
)


def test_a_sender_killed_after_the_mail_server_took_the_message_never_sends_it_twice(
    notify_postgres: Database, delivery_config: DeliveryConfig, killing_mailbox: KillingMailbox
) -> None:
    config = news_config(delivery_config, smtp_port=killing_mailbox.port)
    school = School(notify_postgres, config)
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    school.hear(mark(masha, 5, mark_id=new_id(), teacher=school.teacher))
    url = notify_postgres.engine.url.render_as_string(False)
    env = {
        **os.environ,
        "NOTIFY_SMTP_PORT": str(killing_mailbox.port),
        "NOTIFY_QUIET_FROM": config.quiet_from,
        "NOTIFY_QUIET_UNTIL": config.quiet_until,
    }
    process = subprocess.Popen([sys.executable, "-c", SENDER, url], env=env)
    killing_mailbox.victim = process.pid
    assert process.wait(timeout=60) == -signal.SIGKILL
    [left] = school.deliveries()
    assert left.status == "sending"  # the mail server has it; notify never heard back

    after_the_lease = datetime.now(UTC) + timedelta(seconds=config.sending_lease_seconds + 1)
    killing_mailbox.victim = None
    Sender(config).send_due(notify_postgres, after_the_lease)
    Sender(config).send_due(notify_postgres, after_the_lease)
    assert len(killing_mailbox.to("mother@example.org")) == 1
    [given_up] = school.deliveries()
    assert (given_up.status, given_up.last_error) == ("failed", "outcome_unknown")


def test_a_message_claimed_by_a_worker_that_died_before_sending_goes_once_after_the_lease(
    notify_database: Database, delivery_config: DeliveryConfig, mailbox: Mailbox
) -> None:
    school = School(notify_database, news_config(delivery_config))
    masha = school.child("Мария", "Иванова")
    school.guardian("mother@example.org", masha)
    school.hear(mark(masha, 5, mark_id=new_id(), teacher=school.teacher))
    dead = Sender(school.config)
    dead._claim(notify_database, set(), datetime.now(UTC))  # and the worker dies here
    [claimed] = school.deliveries()
    assert claimed.status == "claimed"
    assert Sender(school.config).send_due(notify_database) == 0  # within the lease: its own
    after = datetime.now(UTC) + timedelta(seconds=school.config.sending_lease_seconds + 1)
    Sender(school.config).send_due(notify_database, after)
    assert len(mailbox.to("mother@example.org")) == 1
    assert [d.status for d in school.deliveries()] == ["sent"]
