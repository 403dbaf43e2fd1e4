"""Notify benchmark (issue 17 §Speed): digests at a quarter's end, immediate e-mail
throughput, and a mark's way from the journal's event to the mailbox.

Notify runs on its own PostgreSQL database with its real handlers and sender; mail goes to
a real SMTP server on loopback (aiosmtpd). Printed, in one run:

- a quarter's end in a 1,000-student school: final marks in every subject (one
  `journal.period.finalized` per class and subject, one final per student in it) to every
  guardian's evening digest, all digests handed to the sink (target < 60 s);
- immediate e-mails through the whole path (event handled, delivery written, claimed,
  rendered, sent, committed) as a ratio of bare `smtplib` sending the same number of
  messages to the same sink, one connection per message (notify keeps one connection for
  a sender's turn; target >= 0.5);
- a mark recorded -> its e-mail in the sink through the real worker and RabbitMQ,
  p50/p99 (target p99 < 2 s outside quiet hours; marks settle for 0 s here — the default
  300 s settling of corrections is a deliberate wait, not latency).

Run: `.venv/bin/python bench/notify/run.py` (part of `make bench`).
"""

from __future__ import annotations

import argparse
import smtplib
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

from aiosmtpd.controller import Controller

from notify.config import DeliveryConfig
from notify.handlers import build_handlers
from notify.sending import Sender
from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.settings import project_root
from schoolkit.testing import (
    AMQP_URL,
    Bus,
    Mailbox,
    create_database,
    drop_database,
    free_port,
    require_postgres,
    require_rabbitmq,
)
from schoolkit.worker import PeriodicTask, Worker

SCHOOL = "bench-school"
CONTRACTS = load_contracts(project_root() / "contracts")


def event(event_type: str, subject: str | None = None, **data: object) -> Event:
    example = CONTRACTS.example(event_type)["data"]
    return Event(type=event_type, data={**example, **data}, school_id=SCHOOL, subject=subject)


def family(class_id: str, number: int) -> tuple[str, str, list[Event]]:
    """A student and their guardian, as identity, the journal and consent tell notify."""
    student, guardian = str(uuid.uuid4()), str(uuid.uuid4())
    events = [
        event(
            "identity.person.changed",
            student,
            person_id=student,
            first_name="Ученик",
            last_name=str(number),
            entity_version=1,
        ),
        event(
            "journal.student.enrolled",
            student,
            enrolment_id=str(uuid.uuid4()),
            student_id=student,
            class_id=class_id,
            group_ids=[],
            entity_version=1,
        ),
        event(
            "identity.contact.changed",
            guardian,
            person_id=guardian,
            email=f"parent{number}@example.org",
            preferred_language="ru",
            entity_version=1,
        ),
        event(
            "identity.guardian.linked",
            student,
            guardianship_id=str(uuid.uuid4()),
            guardian_id=guardian,
            student_id=student,
            entity_version=1,
        ),
        event(
            "consent.agreement.concluded",
            student,
            agreement_id=str(uuid.uuid4()),
            guardian_id=guardian,
            student_id=student,
            entity_version=1,
        ),
    ]
    events[2].data.pop("phone", None)
    return student, guardian, events


def apply(
    database: Database, config: DeliveryConfig, events: Iterable[Event], batch: int = 200
) -> None:
    """As the consumer does: many events in one transaction."""
    handlers = build_handlers(config)
    pending = list(events)
    for start in range(0, len(pending), batch):
        with database.transaction() as session:
            for incoming in pending[start : start + batch]:
                handlers[incoming.type](session, incoming)


def sink() -> tuple[Mailbox, Controller]:
    box = Mailbox()
    controller = Controller(box, hostname="127.0.0.1", port=free_port())
    controller.start()
    box.port = controller.port
    return box, controller


def config_for(box: Mailbox) -> DeliveryConfig:
    # Quiet hours that never hold anything here: the bench measures sending, not waiting.
    return DeliveryConfig(
        smtp_port=box.port,
        quiet_from="03:00",
        quiet_until="03:01",
        mark_settle_seconds=0.0,
        batch_size=100_000,
        send_interval_seconds=0.05,
    )


def with_database(run: Callable[[Database], float]) -> float:
    url = create_database("bench_notify")
    try:
        upgrade("notify", url)
        database = Database(url)
        try:
            return run(database)
        finally:
            database.dispose()
    finally:
        drop_database(url)


def quarter_end(students: int, subjects: int, per_class: int = 25) -> float:
    box, controller = sink()
    config = config_for(box)

    def run(database: Database) -> float:
        classes: dict[str, list[str]] = {}
        seed: list[Event] = []
        for number in range(students):
            class_id = f"{number // per_class:08d}-0000-5000-8000-000000000000"
            student, _guardian, events = family(class_id, number)
            classes.setdefault(class_id, []).append(student)
            seed += events
        apply(database, config, seed)
        started = time.perf_counter()
        finals = [
            event(
                "journal.period.finalized",
                finalization_id=str(uuid.uuid4()),
                class_id=class_id,
                school_subject_id=str(uuid.uuid4()),
                entity_version=1,
                finals=[{"student_id": s, "scale": "five_point", "value": 5} for s in members],
            )
            for class_id, members in classes.items()
            for _ in range(subjects)
        ]
        apply(database, config, finals, batch=20)
        evening = datetime.now(UTC) + timedelta(days=1, hours=1)
        Sender(config).send_due(database, evening)
        elapsed = time.perf_counter() - started
        assert len(box.messages) == students, (len(box.messages), students)
        return elapsed

    try:
        return with_database(run)
    finally:
        controller.stop()


def immediate_throughput(count: int) -> tuple[float, float]:
    """(notify's e-mails per second, bare smtplib's) to the same sink."""
    box, controller = sink()
    config = config_for(box)

    def run(database: Database) -> float:
        seed, marks = [], []
        for number in range(count):
            student, _guardian, events = family(str(uuid.uuid4()), number)
            seed += events
            marks.append(
                event(
                    "journal.mark.recorded",
                    student,
                    mark_id=str(uuid.uuid4()),
                    student_id=student,
                    teacher_id=str(uuid.uuid4()),
                    entity_version=1,
                )
            )
        apply(database, config, seed)
        started = time.perf_counter()
        apply(database, config, marks, batch=50)
        Sender(config).send_due(database)
        elapsed = time.perf_counter() - started
        assert len(box.messages) == count
        return count / elapsed

    try:
        ours = with_database(run)
        box.messages.clear()
        started = time.perf_counter()
        for number in range(count):
            mail = EmailMessage()
            mail["From"], mail["To"], mail["Subject"] = (
                "school@localhost",
                f"p{number}@example.org",
                "Оценка",
            )
            mail.set_content("Ученик: оценка 5")
            with smtplib.SMTP("127.0.0.1", box.port, timeout=10) as smtp:
                smtp.send_message(mail)
        bare = count / (time.perf_counter() - started)
        return ours, bare
    finally:
        controller.stop()


def mark_to_mailbox(count: int) -> list[float]:
    require_rabbitmq()
    box, controller = sink()
    config = config_for(box)
    bus = Bus(namespace=f"bench-{uuid.uuid4().hex[:10]}", amqp_url=AMQP_URL)
    latencies: list[float] = []

    def run(database: Database) -> float:
        families = [family(str(uuid.uuid4()), number) for number in range(count)]
        apply(database, config, [e for _, _, events in families for e in events])
        settings = bus.settings("notify", database.engine.url.render_as_string(False))
        sender = PeriodicTask("sender", config.send_interval_seconds, Sender(config))
        worker = Worker(settings, build_handlers(config), [sender])
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        try:
            for event_type in worker.consumer.topology.event_types:  # type: ignore[union-attr]
                wait_for(lambda t=event_type: bus.is_consuming(f"{bus.namespace}.notify.{t}"))
            for number, (student, _guardian, _events) in enumerate(families):
                recorded = event(
                    "journal.mark.recorded",
                    student,
                    mark_id=str(uuid.uuid4()),
                    student_id=student,
                    teacher_id=str(uuid.uuid4()),
                    entity_version=1,
                )
                started = time.perf_counter()
                bus.publish(recorded)
                wait_for(lambda n=number: len(box.messages) > n)
                latencies.append(time.perf_counter() - started)
        finally:
            worker.stop.set()
            thread.join(timeout=15)
        return 0.0

    try:
        with_database(run)
        return latencies
    finally:
        bus.clean_up()
        controller.stop()


def wait_for(condition: Callable[[], object], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met")
        time.sleep(0.002)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--subjects", type=int, default=12)
    parser.add_argument("--immediate", type=int, default=300)
    parser.add_argument("--latency", type=int, default=100)
    args = parser.parse_args()
    require_postgres()

    seconds = quarter_end(args.students, args.subjects)
    items = args.students * args.subjects
    print(
        f"quarter's end: {items} finals of {args.students} students -> {args.students} "
        f"digests in the sink in {seconds:.1f} s (target < 60 s: {seconds / 60:.2f} of it)"
    )

    ours, bare = immediate_throughput(args.immediate)
    print(
        f"immediate e-mail: notify {ours:.0f}/s, bare smtplib {bare:.0f}/s, "
        f"ratio {ours / bare:.2f} (target >= 0.5)"
    )

    latencies = sorted(mark_to_mailbox(args.latency))
    p50 = statistics.median(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(
        f"mark -> mailbox over the bus: p50 {p50 * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms "
        f"(target p99 < 2 s: {p99 / 2:.2f} of it)"
    )


if __name__ == "__main__":
    main()
