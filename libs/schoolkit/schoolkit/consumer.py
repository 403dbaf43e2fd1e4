"""The consumer: validates each message, applies it once through the inbox, retries, parks.

Messages that arrive together are applied in one database transaction, each inside its
own savepoint: one commit for the batch, one failed handler rolled back alone. Every
message is acknowledged only after that commit. A message whose handler fails is sent
to a delay queue and comes back later; after the last retry it is parked with its reason.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError
from pika.spec import Basic, BasicProperties
from sqlalchemy import text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from schoolkit import metrics
from schoolkit.context import correlation_id_var, event_id_var
from schoolkit.contracts import Contracts, ContractViolation
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.logs import error_text
from schoolkit.settings import Settings
from schoolkit.tables import EVERY_SCHOOL, inbox
from schoolkit.tombstones import erased_pairs, exempt_from_tombstones, is_erased
from schoolkit.topology import RETRY_QUEUE_HEADER, Topology, topology_for

log = logging.getLogger(__name__)

# A handler applies one event inside the consumer's transaction. It may return an
# outcome name ("stale", "ignored") to say it deliberately changed nothing.
Handler = Callable[[Session, Event], str | None]

ATTEMPT_HEADER = "x-attempt"
LAST_ERROR_HEADER = "x-last-error"
PARKED_REASON_HEADER = "x-parked-reason"
ORIGIN_QUEUE_HEADER = "x-origin-queue"
PARKED_AT_HEADER = "x-parked-at"
# Set on an event its producer's relay parked as unroutable: replay publishes it there again.
ORIGIN_EXCHANGE_HEADER = "x-origin-exchange"


@dataclass
class Delivery:
    queue: str
    method: Basic.Deliver
    properties: BasicProperties
    body: bytes

    @property
    def headers(self) -> dict[str, Any]:
        return dict(self.properties.headers or {})

    @property
    def event_type(self) -> str:
        # The routing key of a retried message is its delay queue; the type property is not.
        return self.properties.type or self.method.routing_key

    @property
    def attempt(self) -> int:
        return int(self.headers.get(ATTEMPT_HEADER, 0))


@dataclass
class Outcome:
    delivery: Delivery
    event_type: str
    result: str
    error: str | None = None
    seconds: float = 0.0


class Consumer:
    def __init__(
        self,
        settings: Settings,
        database: Database,
        handlers: Mapping[str, Handler],
        contracts: Contracts,
    ) -> None:
        contracts.check_receiver(settings.service, handlers)
        self._settings = settings
        self._database = database
        self._handlers = dict(handlers)
        self._contracts = contracts
        self.topology: Topology = topology_for(
            settings.bus_namespace,
            settings.service,
            handlers,
            settings.retry_delays,
            settings.delivery_limit,
        )
        self._buffer: list[Delivery] = []
        self._stop = threading.Event()

    def run(self, stop: threading.Event) -> None:
        """Consume until `stop` is set, reconnecting with back-off when the broker goes away."""
        self._stop = stop
        failures = 0
        while not stop.is_set():
            try:
                self._consume(stop)
                failures = 0
            except (AMQPError, SQLAlchemyError) as error:
                failures += 1
                log.warning("consumer stopped consuming: %s", type(error).__name__)
                stop.wait(min(0.5 * 2**failures, 10.0))

    def _consume(self, stop: threading.Event) -> None:
        connection = pika.BlockingConnection(pika.URLParameters(self._settings.amqp_url))
        try:
            channel = connection.channel()
            self.topology.declare(channel)
            side_channel = connection.channel()
            side_channel.confirm_delivery()
            channel.basic_qos(prefetch_count=self._settings.consumer_prefetch)
            for queue in self.topology.queue_names():
                channel.basic_consume(queue, self._on_message_for(queue))
            while not stop.is_set():
                connection.process_data_events(time_limit=0.25)
                if self._buffer:
                    batch, self._buffer = self._buffer, []
                    self._process(connection, channel, side_channel, batch)
        finally:
            self._buffer = []
            if connection.is_open:
                connection.close()

    def _on_message_for(self, queue: str) -> Callable[..., None]:
        def on_message(
            _channel: BlockingChannel,
            method: Basic.Deliver,
            properties: BasicProperties,
            body: bytes,
        ) -> None:
            self._buffer.append(Delivery(queue, method, properties, body))

        return on_message

    def _process(
        self,
        connection: pika.BlockingConnection,
        channel: BlockingChannel,
        side_channel: BlockingChannel,
        batch: list[Delivery],
    ) -> None:
        decoded: list[tuple[Delivery, Event]] = []
        rejected: list[Outcome] = []
        for delivery in batch:
            event, problem = self._decode(delivery)
            if event is None:
                rejected.append(Outcome(delivery, delivery.event_type, "invalid", problem))
            else:
                decoded.append((delivery, event))
        outcomes = self._apply_with_recovery(connection, decoded)
        for outcome in [*rejected, *outcomes]:
            self._settle(side_channel, outcome)
        channel.basic_ack(delivery_tag=batch[-1].method.delivery_tag, multiple=True)

    def _apply_with_recovery(
        self, connection: pika.BlockingConnection, decoded: list[tuple[Delivery, Event]]
    ) -> list[Outcome]:
        """Apply the batch; while the database is away, hold the messages and wait for it.

        Held messages stay unacknowledged on this channel, so a database outage neither
        loses them nor uses up their delivery limit. If the batch fails with the database
        up (a commit-time error), each message is tried alone so only the culprit fails.
        """
        delay = 0.5
        while True:
            try:
                return self._apply_batch(decoded)
            except SQLAlchemyError as error:
                if self._database_reachable():
                    return [self._apply_alone(delivery, event) for delivery, event in decoded]
                log.error("database unreachable, holding messages: %s", type(error).__name__)
                if self._stop.is_set():
                    raise
                connection.sleep(delay)
                delay = min(delay * 2, 30.0)

    def _apply_alone(self, delivery: Delivery, event: Event) -> Outcome:
        try:
            return self._apply_batch([(delivery, event)])[0]
        except SQLAlchemyError as error:
            return self._failed(delivery, event, error, time.perf_counter())

    def _database_reachable(self) -> bool:
        try:
            self._database.ping()
            return True
        except SQLAlchemyError:
            return False

    def _decode(self, delivery: Delivery) -> tuple[Event | None, str | None]:
        try:
            envelope = json.loads(delivery.body)
            self._contracts.validate(envelope)
        except (ValueError, ContractViolation) as error:
            return None, f"invalid: {error}"[:500]
        if envelope["type"] not in self._handlers:
            return None, f"invalid: no handler for {envelope['type']} in {self._settings.service}"
        return Event.from_dict(envelope), None

    def _apply_batch(self, decoded: list[tuple[Delivery, Event]]) -> list[Outcome]:
        """Apply the batch in one transaction.

        Optimistically first: one inbox insert and one tombstone query for the whole
        batch, no savepoints. If a handler fails, that transaction is rolled back and the
        batch is redone with one savepoint per message, so only the culprit fails. A batch
        of one goes the same way: at a steady trickle most batches hold one message, and
        its savepoint would cost two round trips that only a failure needs.
        """
        try:
            return self._apply_optimistically(decoded)
        except _HandlerFailed:
            return self._apply_carefully(decoded)

    def _apply_optimistically(self, decoded: list[tuple[Delivery, Event]]) -> list[Outcome]:
        outcomes: list[Outcome] = []
        with self._database.sessions() as session, session.begin():
            fresh, erased = _claim_and_find_erased(session, [event for _, event in decoded])
            for position, (delivery, event) in enumerate(decoded):
                started = time.perf_counter()
                if event.id not in fresh:
                    result = "duplicate"
                elif _about(event) in erased and not exempt_from_tombstones(event.type):
                    result = "tombstoned"
                else:
                    result = self._run_handler(session, event)
                    if exempt_from_tombstones(event.type):
                        # An erasure just buried its subjects: the events behind it in this
                        # batch were checked before it, and must not bring them back.
                        later = [_about(following) for _, following in decoded[position + 1 :]]
                        erased |= erased_pairs(session, later)
                fresh.discard(event.id)
                outcomes.append(
                    Outcome(delivery, event.type, result, seconds=time.perf_counter() - started)
                )
        return outcomes

    def _run_handler(self, session: Session, event: Event) -> str:
        with _event_context(event):
            try:
                return self._handlers[event.type](session, event) or "applied"
            except (OperationalError, InterfaceError):
                raise
            except Exception as error:
                raise _HandlerFailed from error

    def _apply_carefully(self, decoded: list[tuple[Delivery, Event]]) -> list[Outcome]:
        with self._database.sessions() as session, session.begin():
            return [self._apply_one(session, delivery, event) for delivery, event in decoded]

    def _apply_one(self, session: Session, delivery: Delivery, event: Event) -> Outcome:
        started = time.perf_counter()
        savepoint = session.begin_nested()
        try:
            result = self._apply(session, event)
            savepoint.commit()
            return Outcome(delivery, event.type, result, seconds=time.perf_counter() - started)
        except (OperationalError, InterfaceError):
            raise  # the database is away, not this message's fault: the batch waits
        except DBAPIError as error:
            if error.connection_invalidated:
                raise
            savepoint.rollback()
            return self._failed(delivery, event, error, started)
        except Exception as error:
            savepoint.rollback()
            return self._failed(delivery, event, error, started)

    @staticmethod
    def _failed(delivery: Delivery, event: Event, error: Exception, started: float) -> Outcome:
        log.warning(
            "handler failed",
            extra={"event_type": event.type, "error_type": type(error).__name__},
            exc_info=True,
        )
        reason = error_text(error)[:500]
        return Outcome(delivery, event.type, "failed", reason, time.perf_counter() - started)

    def _apply(self, session: Session, event: Event) -> str:
        if not _record_in_inbox(session, event):
            return "duplicate"
        if not exempt_from_tombstones(event.type) and is_erased(
            session, event.school_id, event.subject
        ):
            return "tombstoned"
        with _event_context(event):
            return self._handlers[event.type](session, event) or "applied"

    def _settle(self, side_channel: BlockingChannel, outcome: Outcome) -> None:
        """Retry or park what failed; count everything."""
        result = outcome.result
        if result == "failed":
            result = self._retry_or_park(side_channel, outcome)
        elif result == "invalid":
            self._park(side_channel, outcome.delivery, outcome.error or "invalid")
        metrics.EVENTS_CONSUMED.labels(outcome.event_type, result).inc()
        if result not in ("invalid",):
            metrics.EVENT_HANDLER_DURATION.labels(outcome.event_type, result).observe(
                outcome.seconds
            )
        if result in ("parked", "invalid"):
            metrics.EVENTS_PARKED.labels(outcome.event_type).inc()

    def _retry_or_park(self, side_channel: BlockingChannel, outcome: Outcome) -> str:
        delivery = outcome.delivery
        delays = self._settings.retry_delays
        if delivery.attempt < len(delays):
            headers = _clean_headers(delivery.headers)
            headers[RETRY_QUEUE_HEADER] = delivery.queue
            headers[ATTEMPT_HEADER] = delivery.attempt + 1
            headers[LAST_ERROR_HEADER] = outcome.error or ""
            delay_queue = self.topology.names.delay_queue(delays[delivery.attempt])
            _republish(side_channel, delay_queue, delivery, headers)
            return "retried"
        self._park(side_channel, delivery, outcome.error or "failed")
        return "parked"

    def _park(self, side_channel: BlockingChannel, delivery: Delivery, reason: str) -> None:
        headers = _clean_headers(delivery.headers)
        headers.pop(RETRY_QUEUE_HEADER, None)
        headers[PARKED_REASON_HEADER] = reason
        headers[ORIGIN_QUEUE_HEADER] = delivery.queue
        headers[PARKED_AT_HEADER] = datetime.now(UTC).isoformat()
        headers[ATTEMPT_HEADER] = delivery.attempt
        _republish(side_channel, self.topology.names.parking_queue, delivery, headers)
        log.error(
            "message parked",
            extra={
                "event_type": delivery.event_type,
                "message_id": delivery.properties.message_id,
                "reason": reason[:200],
            },
        )


class _HandlerFailed(Exception):
    """Aborts an optimistic batch so that it is redone one savepoint per message."""


@contextmanager
def _event_context(event: Event) -> Iterator[None]:
    """Events a handler publishes carry the correlation id of the event that caused them."""
    correlation_token = correlation_id_var.set(event.correlation_id)
    event_token = event_id_var.set(event.id)
    try:
        yield
    finally:
        correlation_id_var.reset(correlation_token)
        event_id_var.reset(event_token)


def _about(event: Event) -> tuple[str | None, str]:
    """Whom an event is about, in which school: a tombstone counts in its own school."""
    return event.subject, event.school_id


# On PostgreSQL the inbox claim and the tombstone lookup of a batch are one statement, one
# round trip, whatever the batch's size (arrays, so it is prepared once and reused). A
# tombstone of the event's school, or one from before tombstones had a school ('*'), counts.
_CLAIM_AND_FIND_ERASED = text(
    "WITH claimed AS ("
    " INSERT INTO inbox (event_id, event_type, received_at)"
    " SELECT unnest(CAST(:event_ids AS varchar[])), unnest(CAST(:event_types AS varchar[])),"
    " CAST(:received_at AS timestamptz)"
    " ON CONFLICT (event_id) DO NOTHING RETURNING event_id)"
    " SELECT event_id AS id, NULL AS school_id, false AS erased FROM claimed"
    " UNION ALL SELECT wanted.subject_id, wanted.school_id, true"
    " FROM unnest(CAST(:subject_ids AS varchar[]), CAST(:school_ids AS varchar[]))"
    " AS wanted(subject_id, school_id)"
    " WHERE EXISTS (SELECT 1 FROM tombstones"
    " WHERE tombstones.subject_id = wanted.subject_id"
    " AND tombstones.school_id IN (wanted.school_id, '" + EVERY_SCHOOL + "'))"
)


def _claim_and_find_erased(
    session: Session, events: list[Event]
) -> tuple[set[str], set[tuple[str, str]]]:
    """The events not seen before (not redeliveries), and the erased among their
    subjects, as (subject, school) pairs."""
    about = sorted({_about(event) for event in events if event.subject})
    if session.get_bind().dialect.name != "postgresql":
        return _claim_in_inbox(session, events), erased_pairs(session, about)
    rows = session.execute(
        _CLAIM_AND_FIND_ERASED,
        {
            "event_ids": [event.id for event in events],
            "event_types": [event.type for event in events],
            "received_at": datetime.now(UTC),
            "subject_ids": [subject for subject, _ in about],
            "school_ids": [school for _, school in about],
        },
    )
    fresh: set[str] = set()
    erased: set[tuple[str, str]] = set()
    for row in rows:
        if row.erased:
            erased.add((row.id, row.school_id))
        else:
            fresh.add(row.id)
    return fresh, erased


def _claim_in_inbox(session: Session, events: list[Event]) -> set[str]:
    """Insert the events' ids; returns those that were not there yet (not redeliveries)."""
    dialect = session.get_bind().dialect.name
    now = datetime.now(UTC)
    rows = [{"event_id": e.id, "event_type": e.type, "received_at": now} for e in events]
    if len(rows) == 1:  # a steady trickle: most batches hold one message
        return set(session.execute(_claim_one(dialect), rows[0]).scalars())
    claimed = session.execute(_claim(dialect).values(rows))
    return set(claimed.scalars())


def _claim(dialect: str) -> Any:
    insert_into = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (
        insert_into(inbox)
        .on_conflict_do_nothing(index_elements=[inbox.c.event_id])
        .returning(inbox.c.event_id)
    )


@cache
def _claim_one(dialect: str) -> Any:
    """Built once: building and keying the statement costs more than running it."""
    return _claim(dialect)


def _record_in_inbox(session: Session, event: Event) -> bool:
    """Insert one event id; False when it was already there (a redelivery)."""
    return event.id in _claim_in_inbox(session, [event])


def _clean_headers(headers: dict[str, Any]) -> dict[str, Any]:
    # x-death grows with every dead-lettering; what it says is kept in our own headers.
    return {
        key: value
        for key, value in headers.items()
        if not key.startswith("x-death")
        and not key.startswith("x-first-death")
        and not key.startswith("x-last-death")
    }


def _republish(
    side_channel: BlockingChannel, queue: str, delivery: Delivery, headers: dict[str, Any]
) -> None:
    """Send a copy straight to `queue` (default exchange), confirmed before the original is acked."""
    properties = BasicProperties(
        message_id=delivery.properties.message_id,
        type=delivery.event_type,
        content_type=delivery.properties.content_type or "application/json",
        delivery_mode=pika.DeliveryMode.Persistent,
        headers=headers,
    )
    side_channel.basic_publish("", queue, delivery.body, properties=properties, mandatory=True)
