"""A service's worker process: the outbox relay and the consumer, side by side.

Each service's `worker.py` calls `run_worker(service, HANDLERS)`. For tests and tools,
`python -m schoolkit.worker --service diary --handlers package.module:HANDLERS` runs
the same thing with any handler table.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import signal
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pika
from pika.exceptions import AMQPError
from sqlalchemy import delete
from sqlalchemy.exc import SQLAlchemyError

from schoolkit import metrics
from schoolkit.consumer import Consumer, Handler
from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.denylist import prune_revocations
from schoolkit.heap import freeze_what_is_loaded
from schoolkit.housekeeping import ERASURE_STEPS, Housekeeper, watch_statements, watching
from schoolkit.logs import configure_logging
from schoolkit.parking import ParkingLot
from schoolkit.publisher import ConfirmingPublisher
from schoolkit.relay import Relay
from schoolkit.settings import Settings
from schoolkit.tables import inbox
from schoolkit.topology import BusNames, declare_exchanges

log = logging.getLogger(__name__)

INBOX_KEEP = timedelta(days=30)
# Access tokens live at most 15 minutes: a revocation older than this refuses nothing.
REVOCATION_KEEP = timedelta(hours=1)
HOUSEKEEPING_SECONDS = 15.0


@dataclass(frozen=True)
class PeriodicTask:
    """Work a service's worker does every `interval` seconds (sending mail, re-asking).

    `run` gets the worker's database; an error is logged and the task runs again at its
    next turn, so one bad turn never stops the worker.
    """

    name: str
    interval: float
    run: Callable[[Database], None]


class Worker:
    """The relay, the consumer, the housekeeping and the periodic tasks of one service."""

    def __init__(
        self,
        settings: Settings,
        handlers: Mapping[str, Handler],
        tasks: Sequence[PeriodicTask] = (),
    ) -> None:
        self.settings = settings
        self.tasks = tuple(tasks)
        self.database = Database(settings.database_url)
        # What an erasure deleted must also leave the files (schoolkit.housekeeping).
        self.housekeeper = Housekeeper(
            settings.service,
            self.database,
            parking=ParkingLot(settings.amqp_url, settings.bus_namespace, settings.service),
        )
        steps = {
            t: watching(h, self.housekeeper) for t, h in handlers.items() if t in ERASURE_STEPS
        }
        if steps:
            watch_statements(self.database)
            handlers = {**handlers, **steps}
        contracts = load_contracts(settings.contracts_dir)
        self.names = BusNames(settings.bus_namespace, settings.service)
        self.consumer = Consumer(settings, self.database, handlers, contracts) if handlers else None
        self.relay = Relay(
            self.database,
            ConfirmingPublisher(settings.amqp_url, self.names.exchange),
            batch_size=settings.relay_batch_size,
            poll_seconds=settings.relay_poll_seconds,
            prepare_broker=self._declare_exchanges,
        )
        self.stop = threading.Event()

    def run(self) -> None:
        threads = [
            threading.Thread(target=self.relay.run, args=(self.stop,), name="relay", daemon=True),
            threading.Thread(target=self._housekeeping, name="housekeeping", daemon=True),
            threading.Thread(
                target=self.housekeeper.loop, args=(self.stop,), name="purge", daemon=True
            ),
        ]
        threads += [
            threading.Thread(target=self._repeat, args=(task,), name=task.name, daemon=True)
            for task in self.tasks
        ]
        if self.consumer is not None:
            threads.append(
                threading.Thread(
                    target=self.consumer.run, args=(self.stop,), name="consumer", daemon=True
                )
            )
        for thread in threads:
            thread.start()
        log.info("worker started", extra={"handled_types": len(self._handled_types())})
        self.stop.wait()
        for thread in threads:
            thread.join(timeout=10)
        self.database.dispose()

    def _repeat(self, task: PeriodicTask) -> None:
        while not self.stop.is_set():
            try:
                task.run(self.database)
            except Exception:
                log.exception("periodic task failed; it runs again", extra={"task": task.name})
            self.stop.wait(task.interval)

    def _prune_revocations(self) -> None:
        # Keeps the deny-list snapshot every web process reloads small (auth.TableDenyList).
        try:
            with self.database.transaction() as session:
                prune_revocations(session, datetime.now(UTC) - REVOCATION_KEEP)
        except SQLAlchemyError:
            log.warning("cannot prune the deny-list now")

    def _handled_types(self) -> tuple[str, ...]:
        return self.consumer.topology.event_types if self.consumer else ()

    def _declare_exchanges(self) -> None:
        """The relay publishes to the exchange: make sure it exists before the first event."""
        connection = pika.BlockingConnection(pika.URLParameters(self.settings.amqp_url))
        try:
            declare_exchanges(connection.channel(), self.settings.bus_namespace)
        finally:
            if connection.is_open:
                connection.close()

    def _housekeeping(self) -> None:
        while not self.stop.wait(HOUSEKEEPING_SECONDS if self.consumer else 60.0):
            self._count_parked()
            self._prune_inbox()
            self._prune_revocations()

    def _count_parked(self) -> None:
        if self.consumer is None:
            return
        try:
            connection = pika.BlockingConnection(pika.URLParameters(self.settings.amqp_url))
            declared = connection.channel().queue_declare(self.names.parking_queue, passive=True)
            metrics.PARKED_MESSAGES.set(declared.method.message_count)
            connection.close()
        except AMQPError:
            log.warning("cannot count parked messages now")

    def _prune_inbox(self) -> None:
        # Event ids are kept long enough to catch any redelivery, then let go.
        try:
            with self.database.transaction() as session:
                session.execute(
                    delete(inbox).where(inbox.c.received_at < datetime.now(UTC) - INBOX_KEEP)
                )
        except SQLAlchemyError:
            log.warning("cannot prune the inbox now")


def run_worker(
    service: str,
    handlers: Mapping[str, Handler],
    settings: Settings | None = None,
    tasks: Sequence[PeriodicTask] = (),
) -> None:
    """The entry point of every service's worker: runs until SIGTERM or SIGINT."""
    settings = settings or Settings.from_env(service)
    configure_logging(service, settings.log_level)
    metrics.serve_worker_metrics(settings.worker_metrics_port)
    worker = Worker(settings, handlers, tasks)
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: worker.stop.set())
    # `kill -USR1 <worker>`: purge erased values from the files now (schoolkit.housekeeping).
    signal.signal(signal.SIGUSR1, lambda *_: worker.housekeeper.force())
    freeze_what_is_loaded()
    worker.run()


def _load_handlers(spec: str) -> Mapping[str, Handler]:
    module_name, _, attribute = spec.partition(":")
    return getattr(importlib.import_module(module_name), attribute or "HANDLERS")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m schoolkit.worker")
    parser.add_argument("--service", required=True)
    parser.add_argument("--handlers", required=True, help="module:ATTRIBUTE of the handler table")
    args = parser.parse_args(argv)
    run_worker(args.service, _load_handlers(args.handlers))


if __name__ == "__main__":
    main()
