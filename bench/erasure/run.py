"""Erasure benchmark: from revocation to `consent.erasure.finished`, against the legal term.

Every service whose worker takes part in erasures (its handler table handles
`consent.erasure.requested`) runs as its real worker process on its own PostgreSQL
database and the real RabbitMQ; consent's worker coordinates. Each participant first
receives some of the person's data through the bus (contacts, marks), so that it has
something to destroy. Printed, in one run:

- one person: revocation committed -> `consent.erasure.finished` received, p50/p99
  over repeated revocations;
- a year-end graduation: 1,000 `journal.student.left` at once -> the last
  `consent.erasure.finished`;
- each as a ratio of the legal term (3 working days, counted here as its shortest
  possible length, 72 hours).

Run: `.venv/bin/python bench/erasure/run.py` (part of `make bench`).
"""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from consent import copies, registry
from consent.coordinator import Coordinator
from consent.policy import load_policy
from consent.settings import ErasureSettings
from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.settings import DEFAULT_AMQP_URL, project_root
from schoolkit.testing import (
    SERVICES,
    Bus,
    cpu_seconds,
    create_database,
    drop_database,
    free_port,
    require_postgres,
    require_rabbitmq,
    servers_cpu_seconds,
)
from schoolkit.topology import BusNames

LEGAL_TERM_SECONDS = 3 * 24 * 3600.0
SCHOOL = "bench-school"
CONTRACTS = load_contracts(project_root() / "contracts")


def participants() -> list[str]:
    """The services whose real worker answers an erasure request today."""
    return [
        service
        for service in SERVICES
        if "consent.erasure.requested" in importlib.import_module(f"{service}.handlers").HANDLERS
    ]


class Bench:
    def __init__(self, bus: Bus, services: list[str]) -> None:
        self.bus = bus
        self.services = services
        self.urls = {service: create_database(f"bench_erasure_{service}") for service in services}
        self.workers: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        for service, url in self.urls.items():
            upgrade(service, url)
            environment = {
                **self.bus.environment(service, url),
                "LOG_LEVEL": "ERROR",
                "WORKER_METRICS_PORT": str(free_port()),
                "ERASURE_PARTICIPANTS": ",".join(self.services),
                "NOTIFY_SMTP_PORT": str(
                    free_port()
                ),  # nobody listens: notices wait, erasure does not
            }
            command = [str(_bin(f"{service}-worker"))]
            self.workers.append(subprocess.Popen(command, env=environment))
        handlers = {s: importlib.import_module(f"{s}.handlers").HANDLERS for s in self.services}
        for service, table in handlers.items():
            names = BusNames(self.bus.namespace, service)
            for queue in [names.queue(event_type) for event_type in table]:
                _wait(lambda queue=queue: self.bus.is_consuming(queue), 60)

    def stop(self) -> None:
        for worker in self.workers:
            worker.terminate()
        for worker in self.workers:
            worker.wait(timeout=30)
        for url in self.urls.values():
            drop_database(url)

    def give_data(self, guardian: str, student: str) -> None:
        """What the participants hold about a family before it is erased."""
        contact = {
            "person_id": guardian,
            "email": "parent@example.org",
            "preferred_language": "ru",
            "entity_version": 1,
        }
        self.bus.publish(Event("identity.contact.changed", contact, SCHOOL, subject=guardian))
        mark = {
            **CONTRACTS.example("journal.mark.recorded")["data"],
            "student_id": student,
            "mark_id": str(uuid.uuid4()),
        }
        self.bus.publish(Event("journal.mark.recorded", mark, SCHOOL, subject=student))


def one_person(bench: Bench, runs: int) -> list[float]:
    consent_db = Database(bench.urls["consent"])
    coordinator = Coordinator(ErasureSettings(policy=load_policy(enabled=bench.services)))
    finished = bench.bus.listen("consent.erasure.finished")
    durations = []
    try:
        for _ in range(runs):
            guardian, student = str(uuid.uuid4()), str(uuid.uuid4())
            bench.give_data(guardian, student)
            erasure_id, started = _revoke(consent_db, coordinator, guardian, student)
            finished.wait_for(
                lambda e, wanted=erasure_id: e["data"]["erasure_id"] == wanted, timeout=120
            )
            durations.append(time.perf_counter() - started)
    finally:
        finished.close()
        consent_db.dispose()
    return durations


def _revoke(
    database: Database, coordinator: Coordinator, guardian: str, student: str
) -> tuple[str, float]:
    staff = registry.Staff(str(uuid.uuid4()), SCHOOL, frozenset({"administrator"}))
    form = {
        "guardian_id": guardian,
        "student_id": student,
        "representation": "parent",
        "decision": "given",
        "signed_on": date(2025, 9, 1),
    }
    with database.transaction() as session:
        _identity_told_consent(session, guardian, student)
        consent = registry.register_consent(session, staff, form)
    with database.transaction() as session:
        consent = session.merge(consent)
        erasure = registry.withdraw_consent(
            session,
            coordinator,
            staff,
            consent,
            received_at=datetime.now(UTC),
            reason="withdrawn_by_guardian",
        )
        erasure_id = erasure.id
    return erasure_id, time.perf_counter()


def _identity_told_consent(session: Session, guardian: str, student: str) -> None:
    """Consent registers only for a family identity links in the school (issue 14): what
    identity's events would have brought its worker, applied by consent's own handlers."""
    for person, kind in ((guardian, "guardian"), (student, "student")):
        person_data = {
            **CONTRACTS.example("identity.person.changed")["data"],
            "person_id": person,
            "kind": kind,
            "roles": [kind],
            "entity_version": 1,
        }
        person_data.pop("birth_date", None)
        event = Event("identity.person.changed", person_data, SCHOOL, subject=person)
        copies.on_person_changed(session, event)
    link = {
        **CONTRACTS.example("identity.guardian.linked")["data"],
        "guardianship_id": str(uuid.uuid4()),
        "guardian_id": guardian,
        "student_id": student,
        "entity_version": 1,
    }
    copies.on_guardian_linked(
        session, Event("identity.guardian.linked", link, SCHOOL, subject=student)
    )


def graduation(bench: Bench, students: int) -> float:
    ids = [str(uuid.uuid4()) for _ in range(students)]
    finished = bench.bus.listen("consent.erasure.finished")
    try:
        started = time.perf_counter()
        channel = bench.bus.channel()
        channel.confirm_delivery()
        for student in ids:
            data = {
                "enrolment_id": str(uuid.uuid4()),
                "student_id": student,
                "class_id": str(uuid.uuid4()),
                "reason": "graduation",
                "left_on": "2026-06-25",
                "entity_version": 9,
            }
            event = Event("journal.student.left", data, SCHOOL, subject=student)
            channel.basic_publish(
                f"{bench.bus.namespace}.events",
                event.type,
                event.to_json().encode(),
                mandatory=True,
            )
        channel.connection.close()
        done: set[str] = set()
        wanted = set(ids)
        deadline = time.monotonic() + 600
        while done != wanted:
            finished.drain()
            done = {e["data"]["subjects"][0]["subject_id"] for e in finished.received} & wanted
            if time.monotonic() > deadline:
                raise TimeoutError(f"{len(done)} of {students} finished in 600 s")
            time.sleep(0.1)
        return time.perf_counter() - started
    finally:
        finished.close()


def cpu_snapshot(bench: Bench) -> dict[str, float]:
    """Where the machine's CPU goes: each worker, the database and the broker."""
    shares = {
        service: cpu_seconds(worker.pid)
        for service, worker in zip(bench.services, bench.workers, strict=True)
    }
    shares.update(servers_cpu_seconds())
    return shares


def _bin(command: str) -> str:
    return str(Path(sys.executable).parent / command)


def _wait(condition, timeout: float) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark's services did not start")
        time.sleep(0.1)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--students", type=int, default=1000)
    args = parser.parse_args()
    require_postgres()
    require_rabbitmq()
    services = participants()
    bus = Bus(
        namespace=f"bench-{uuid.uuid4().hex[:8]}",
        amqp_url=DEFAULT_AMQP_URL,
        retry_delays=(1.0,),
        delivery_limit=5,
    )
    bench = Bench(bus, services)
    try:
        bench.start()
        durations = one_person(bench, args.runs)
        before = cpu_snapshot(bench)
        year_end = graduation(bench, args.students)
        after = cpu_snapshot(bench)
    finally:
        bench.stop()
        bus.clean_up()
    p50, p99 = percentile(durations, 0.5), percentile(durations, 0.99)
    print("erasure benchmark, 2 cores: PostgreSQL (fsync on), RabbitMQ quorum queues")
    print(f"participants (real worker processes): {', '.join(services)}")
    print(
        f"  one person, revocation -> finished ({args.runs} runs): p50 {p50 * 1000:.0f} ms  p99 {p99 * 1000:.0f} ms  (target p99 < 2 s)"
    )
    print(f"    ratio to the legal term (72 h at the shortest): {p99 / LEGAL_TERM_SECONDS:.1e}")
    print(
        f"  {args.students} students leaving at once -> all finished: {year_end:.1f} s  (target < 60 s)"
    )
    print(f"    ratio to the legal term: {year_end / LEGAL_TERM_SECONDS:.1e}")
    used = {name: after[name] - before[name] for name in after}
    print("    CPU seconds during it (PostgreSQL and RabbitMQ: all their processes):")
    print("      " + "  ".join(f"{name} {seconds:.1f}" for name, seconds in used.items()))


if __name__ == "__main__":
    main()
