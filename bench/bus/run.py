"""bench/bus: the full reliable path against raw pika, on the same RabbitMQ, in one run.

Full path: a journal transaction writes a mark and its event to the outbox -> the
journal worker's relay publishes it with confirms -> RabbitMQ (quorum queue) -> the
diary worker's consumer validates it, records it in its inbox and applies the effect
in one transaction -> ack. Both workers are real worker processes (python -m
schoolkit.worker), both databases PostgreSQL, as deployed.
Raw pika: the same messages published with confirms (windowed, over pika's
SelectConnection) and consumed with one ack each, nothing else.

Prints events/s of both and their ratio, then the latency from the journal's commit
to the diary's commit at a steady rate. Run: `make bench`.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pika
from sqlalchemy import func, select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from effect import WRITE_MARK, applied, bench_metadata  # noqa: E402

from schoolkit.contracts import load_contracts  # noqa: E402
from schoolkit.db import Database  # noqa: E402
from schoolkit.events import Event  # noqa: E402
from schoolkit.outbox import publish_many  # noqa: E402
from schoolkit.publisher import ConfirmingPublisher, OutgoingMessage  # noqa: E402
from schoolkit.settings import DEFAULT_AMQP_URL, project_root  # noqa: E402
from schoolkit.tables import kit_metadata  # noqa: E402
from schoolkit.testing import (  # noqa: E402
    Bus,
    cpu_seconds,
    create_database,
    drop_database,
    require_postgres,
    require_rabbitmq,
    servers_cpu_seconds,
)

CONTRACTS = load_contracts(project_root() / "contracts")
EXAMPLE = CONTRACTS.example("journal.mark.recorded")


def mark_event() -> Event:
    data = {**EXAMPLE["data"], "mark_id": str(uuid.uuid4())}
    return Event(
        type="journal.mark.recorded", data=data, school_id="bench", subject=EXAMPLE.get("subject")
    )


@dataclass(frozen=True)
class Writers:
    processes: int
    threads: int


@dataclass
class FullPath:
    journal: Database
    diary: Database
    workers: list[subprocess.Popen[bytes]]
    stamps_file: Path

    def write(self, events: list[Event]) -> float:
        """One journal transaction: the marks and their events; returns the commit time."""
        with self.journal.transaction() as session:
            # As a teacher's saved lesson goes in: the marks in one statement, their
            # events in one (publish_many validates each, as publish does).
            session.execute(WRITE_MARK, [{"mark_id": e.data["mark_id"]} for e in events])
            publish_many(session, events, CONTRACTS)
        return time.time()

    def applied_count(self) -> int:
        with self.diary.sessions() as session:
            return session.execute(select(func.count()).select_from(applied)).scalar_one()

    def stop(self) -> dict[str, float]:
        for worker in self.workers:
            worker.send_signal(signal.SIGTERM)
        for worker in self.workers:
            worker.wait(timeout=30)
        self.journal.dispose()
        self.diary.dispose()
        return json.loads(self.stamps_file.read_text()) if self.stamps_file.exists() else {}


def start_diary(bus: Bus, journal_url: str, diary_url: str, stamps_file: Path) -> FullPath:
    """Both databases ready and the diary's worker consuming; the journal's relay not yet."""
    for url in (journal_url, diary_url):
        database = Database(url)
        kit_metadata.create_all(database.engine)
        bench_metadata.create_all(database.engine)
        database.dispose()
    diary = bus.spawn_worker(
        "diary",
        diary_url,
        "effect:HANDLERS",
        HERE,
        BENCH_STAMPS_FILE=str(stamps_file),
        CONSUMER_PREFETCH="500",
    )
    _wait(lambda: bus.is_consuming(f"{bus.namespace}.diary.journal.mark.recorded"), 30)
    return FullPath(Database(journal_url), Database(diary_url), [diary], stamps_file)


def start_relay(path: FullPath, bus: Bus, journal_url: str) -> None:
    path.workers.append(
        bus.spawn_worker(
            "journal", journal_url, "schoolkit.testing:NO_HANDLERS", HERE, RELAY_BATCH_SIZE="500"
        )
    )


def bus_alone_throughput(path: FullPath, bus: Bus, journal_url: str, events: int) -> float:
    """The bus without the producers' own transactions: a full outbox drained to the diary.

    Timed from the first event the diary applies, so the relay process's start is not counted.
    """
    for start in range(0, events, 500):
        path.write([mark_event() for _ in range(min(500, events - start))])
    start_relay(path, bus, journal_url)
    _wait(lambda: path.applied_count() > 0, 60)
    started, already = time.perf_counter(), path.applied_count()
    _wait(lambda: path.applied_count() >= events, 180)
    return (events - already) / (time.perf_counter() - started)


def _write_share(journal_url: str, transactions: int, per_transaction: int, threads: int) -> None:
    """One writer process, like one gunicorn worker of the journal: a few threads committing."""
    database = Database(journal_url)
    path = FullPath(database, database, [], Path())

    def write_all() -> None:
        for _ in range(transactions // threads):
            path.write([mark_event() for _ in range(per_transaction)])

    workers = [threading.Thread(target=write_all) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    database.dispose()


@dataclass(frozen=True)
class Phase:
    """One measured run of the full path: its rate and the CPU each part spent per event."""

    rate: float
    cpu_ms_per_event: dict[str, float]


def cpu_snapshot(path: FullPath) -> dict[str, float]:
    """CPU seconds so far of every part of the path (writers: the finished child processes)."""
    relay, diary = [*path.workers, None][1], path.workers[0]
    return {
        "writers": _ended_children_cpu_seconds(),
        "relay": cpu_seconds(relay.pid) if relay else 0.0,
        "consumer": cpu_seconds(diary.pid),
        **servers_cpu_seconds(),
    }


def _ended_children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def full_path_throughput(
    path: FullPath, journal_url: str, events: int, writers: Writers, per_transaction: int
) -> Phase:
    per_process = events // (writers.processes * per_transaction)
    per_process -= per_process % writers.threads
    total = per_process * writers.processes * per_transaction
    already = path.applied_count()
    before = cpu_snapshot(path)
    started = time.perf_counter()
    processes = [
        multiprocessing.Process(
            target=_write_share, args=(journal_url, per_process, per_transaction, writers.threads)
        )
        for _ in range(writers.processes)
    ]
    for process in processes:
        process.start()
    _wait(lambda: path.applied_count() - already >= total, 180)
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    after = cpu_snapshot(path)
    spent = {part: (after[part] - before[part]) * 1000 / total for part in after}
    return Phase(total / elapsed, spent)


def steady_commits(path: FullPath, rate: float, seconds: float) -> dict[str, float]:
    committed: dict[str, float] = {}
    count = int(rate * seconds)
    already = path.applied_count()
    started = time.perf_counter()
    for index in range(count):
        delay = started + index / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        incoming = mark_event()
        committed[incoming.data["mark_id"]] = path.write([incoming])
    _wait(lambda: path.applied_count() - already >= count, 60)
    return committed


def raw_pika_throughput(amqp_url: str, namespace: str, events: int) -> float:
    exchange, queue = f"{namespace}.raw", f"{namespace}.raw.queue"
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.exchange_declare(exchange, "topic", durable=True)
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    channel.queue_bind(queue, exchange, "journal.mark.recorded")
    bodies = [mark_event().to_json().encode() for _ in range(events)]
    received = 0

    def on_message(ch, method, _properties, _body) -> None:  # type: ignore[no-untyped-def]
        nonlocal received
        ch.basic_ack(method.delivery_tag)
        received += 1

    channel.basic_qos(prefetch_count=500)
    channel.basic_consume(queue, on_message)
    started = time.perf_counter()
    sender = threading.Thread(target=_publish_all, args=(amqp_url, exchange, bodies))
    sender.start()
    while received < events:
        connection.process_data_events(time_limit=0.1)
    elapsed = time.perf_counter() - started
    sender.join()
    channel.queue_delete(queue)
    channel.exchange_delete(exchange)
    connection.close()
    return events / elapsed


def _publish_all(amqp_url: str, exchange: str, bodies: list[bytes]) -> None:
    publisher = ConfirmingPublisher(amqp_url, exchange)
    for start in range(0, len(bodies), 500):
        window = [
            OutgoingMessage(str(uuid.uuid4()), "journal.mark.recorded", body)
            for body in bodies[start : start + 500]
        ]
        outcomes = publisher.publish_batch(window)
        if any(outcomes.values()):
            raise RuntimeError(f"raw publish failed: {set(outcomes.values())}")
    publisher.close()


def _wait(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the benchmark did not finish in time")
        time.sleep(0.05)  # counting rows costs the database; poll gently


def percentile(values: list[float], share: float) -> float:
    return values[min(len(values) - 1, int(share * len(values)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=8000)
    parser.add_argument("--writer-processes", type=int, default=2)
    parser.add_argument("--writer-threads", type=int, default=2)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=15.0)
    args = parser.parse_args()
    require_postgres()
    require_rabbitmq()
    bus = Bus(
        namespace=f"bench-{uuid.uuid4().hex[:8]}",
        amqp_url=DEFAULT_AMQP_URL,
        retry_delays=(1.0,),
        delivery_limit=5,
    )
    journal_url, diary_url = create_database("bench_journal"), create_database("bench_diary")
    stamps_file = Path(f"/tmp/bench-bus-{bus.namespace}.json")
    try:
        raw = raw_pika_throughput(bus.amqp_url, bus.namespace, args.events)
        path = start_diary(bus, journal_url, diary_url, stamps_file)
        try:
            bus_alone = bus_alone_throughput(path, bus, journal_url, args.events)
            writers = Writers(args.writer_processes, args.writer_threads)
            full_path_throughput(path, journal_url, 800, writers, 1)  # warm-up
            single = full_path_throughput(path, journal_url, args.events, writers, 1)
            grouped = full_path_throughput(path, journal_url, args.events, writers, 20)
            committed = steady_commits(path, args.rate, args.seconds)
        finally:
            consumer_commits = path.stop()
    finally:
        bus.clean_up()
        drop_database(journal_url)
        drop_database(diary_url)
    stamps_file.unlink(missing_ok=True)
    latencies = sorted(consumer_commits[m] - t for m, t in committed.items())
    report(args, Figures(raw, bus_alone, single, grouped), latencies)


@dataclass(frozen=True)
class Figures:
    raw: float
    bus_alone: float
    single: Phase
    grouped: Phase


def report(args: argparse.Namespace, figures: Figures, latencies: list[float]) -> None:
    rows = [
        ("raw pika: confirms + acks", figures.raw, ""),
        ("bus alone: a full outbox drained to the diary", figures.bus_alone, "target >= 1000"),
        ("full path, one event per journal transaction", figures.single.rate, "target >= 1000"),
        ("full path, 20 events per journal transaction", figures.grouped.rate, "target >= 1000"),
    ]
    print(f"bus benchmark, {os.cpu_count()} cores: PostgreSQL (fsync on), RabbitMQ quorum queues,")
    print(f"journal writers {args.writer_processes} processes x {args.writer_threads} threads")
    for name, rate, target in rows:
        ratio = f"ratio {rate / figures.raw:4.2f}" if rate is not figures.raw else " " * 10
        print(f"  {name:<48} {rate:7.0f} events/s  {ratio}  {target}")
    print("  CPU per event of the full path, ms (the two cores give 2.0 ms at 1,000 events/s):")
    for name, phase in (
        ("one per transaction", figures.single),
        ("20 per transaction", figures.grouped),
    ):
        parts = "  ".join(f"{part} {ms:.2f}" for part, ms in phase.cpu_ms_per_event.items())
        print(f"    {name:<20} {parts}  total {sum(phase.cpu_ms_per_event.values()):.2f}")
    p50, p99 = percentile(latencies, 0.50) * 1000, percentile(latencies, 0.99) * 1000
    print(
        f"  journal commit -> diary commit at a steady {args.rate:.0f} events/s ({len(latencies)} events):"
    )
    print(
        f"    p50 {p50:.1f} ms  p99 {p99:.1f} ms  max {latencies[-1] * 1000:.1f} ms  (target p99 < 50 ms)"
    )


if __name__ == "__main__":
    main()
