"""The outbox relay: publishes committed events in order, with confirms, and deletes them.

An event the broker keeps returning because no queue is bound to its type is parked, after
a grace minute, in the service's own parking queue with that reason, and counted
(events_unroutable_total).

Several relays may run against one PostgreSQL database: each batch is claimed with
`FOR UPDATE SKIP LOCKED`, so no row is published by two of them at once. On SQLite
(one process writes at a time anyway) the relay polls every `poll_seconds`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import psycopg
from pika.exceptions import AMQPError
from sqlalchemy import Delete, Row, bindparam, delete, insert, or_, select
from sqlalchemy.exc import SQLAlchemyError

from schoolkit import metrics
from schoolkit.consumer import (
    ATTEMPT_HEADER,
    ORIGIN_EXCHANGE_HEADER,
    ORIGIN_QUEUE_HEADER,
    PARKED_AT_HEADER,
    PARKED_REASON_HEADER,
)
from schoolkit.db import Database
from schoolkit.logs import error_text
from schoolkit.outbox import backlog
from schoolkit.publisher import (
    UNROUTABLE,
    BrokerUnavailable,
    ConfirmingPublisher,
    OutgoingMessage,
)
from schoolkit.tables import OUTBOX_CHANNEL, outbox

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = timedelta(minutes=5)
IDLE_WAIT_SECONDS = 1.0


class Waiter(Protocol):
    def wait(self, timeout: float) -> None: ...

    def close(self) -> None: ...


class PollingWaiter:
    def __init__(self, poll_seconds: float, stop: threading.Event) -> None:
        self._poll_seconds = poll_seconds
        self._stop = stop

    def wait(self, timeout: float) -> None:
        self._stop.wait(min(timeout, self._poll_seconds))

    def close(self) -> None:
        pass


class NotificationWaiter:
    """Sleeps until PostgreSQL says an outbox transaction committed (LISTEN/NOTIFY)."""

    def __init__(self, conninfo: str) -> None:
        self._connection = psycopg.connect(conninfo, autocommit=True)
        self._connection.execute(f"LISTEN {OUTBOX_CHANNEL}")

    def wait(self, timeout: float) -> None:
        for _ in self._connection.notifies(timeout=timeout, stop_after=1):
            pass

    def close(self) -> None:
        self._connection.close()


def _claim_due_rows(for_update: bool) -> Delete:
    """Delete the oldest due rows, returning them (rows locked by another relay are skipped).

    Built once: building and keying this statement took longer than running it.
    """
    due = (
        select(outbox.c.id)
        .where(
            or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= bindparam("now"))
        )
        .order_by(outbox.c.id)
        .limit(bindparam("batch_size"))
    )
    if for_update:
        due = due.with_for_update(skip_locked=True)
    return delete(outbox).where(outbox.c.id.in_(due.scalar_subquery())).returning(*outbox.c)


def _claiming_database(database: Database) -> Database:
    """The relay's own connection on PostgreSQL, whose commits do not wait for the disk.

    Losing a relay's commit in a crash only means publishing its batch again, which the
    consumers' inboxes absorb. Set once for the connection, not per transaction (a round
    trip each); the service's other connections keep their durable commits.
    """
    if not database.is_postgres:
        return database
    url = database.engine.url.render_as_string(hide_password=False)
    return Database(
        url,
        pool_size=1,
        max_overflow=0,
        connect_args={"options": "-c synchronous_commit=off"},
    )


def _as_utc(moment: datetime) -> datetime:
    # SQLite gives a stored instant back without its zone; the kit stores UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _retry_delay(attempts: int) -> timedelta:
    return min(timedelta(seconds=2**attempts), MAX_RETRY_DELAY)


class Relay:
    def __init__(
        self,
        database: Database,
        publisher: ConfirmingPublisher,
        *,
        batch_size: int = 200,
        poll_seconds: float = 0.05,
        prepare_broker: Callable[[], None] | None = None,
        parking_queue: str | None = None,
        unroutable_grace: timedelta = timedelta(minutes=1),
    ) -> None:
        self._database = database
        self._claims = _claiming_database(database)
        self._claim = _claim_due_rows(for_update=database.is_postgres)
        # Called before each (re)connection: declares the exchange the relay publishes to.
        self._prepare_broker = prepare_broker
        self._publisher = publisher
        # Where an event that no queue takes goes, with its reason; None: retried instead.
        self._parking_queue = parking_queue
        # How long an event may find no queue before it is parked: on a first start the
        # consumers' workers may not have declared their queues yet.
        self._unroutable_grace = unroutable_grace
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._last_backlog_report = 0.0

    def drain_once(self) -> int:
        """Publish one batch of due events; returns how many the broker confirmed.

        The batch is claimed and deleted in one statement (DELETE … RETURNING) and the
        transaction commits only after the broker's confirms: a crash before that commit
        leaves every row in place. Rows the broker refused go back with their attempt counted.
        """
        with self._claims.sessions() as session, session.begin():
            due = {"now": datetime.now(UTC), "batch_size": self._batch_size}
            rows = sorted(session.execute(self._claim, due).all(), key=lambda row: row.id)
            if not rows:
                return 0
            outcomes = self._publisher.publish_batch(
                [OutgoingMessage(row.event_id, row.event_type, row.body.encode()) for row in rows]
            )
            parked = self._park_unroutable(rows, outcomes)
            sent = [row for row in rows if outcomes[row.event_id] is None]
            failed = [row for row in rows if outcomes[row.event_id] is not None]
            if failed:
                session.execute(insert(outbox), [self._postponed(row, outcomes) for row in failed])
        for row in sent:
            if row.event_id not in parked:
                metrics.EVENTS_PUBLISHED.labels(row.event_type).inc()
        self._report_parked(rows, parked)
        for row in failed:
            log.warning(
                "event not published, will retry",
                extra={
                    "event_id": row.event_id,
                    "event_type": row.event_type,
                    "reason": outcomes[row.event_id],
                },
            )
        return len(sent)

    def _park_unroutable(self, rows: list[Row[Any]], outcomes: dict[str, str | None]) -> set[str]:
        """Park what the broker returned because no queue is bound to its type, once it
        has found none for `unroutable_grace` (until then it is retried as any failure).

        Retrying longer would not help: a queue appears only when some service starts to
        handle the type, and until then the event would go round the outbox for ever. Parked, it
        waits with its reason for an operator (schoolkit-parking replay sends it to the
        exchange again). Returns the parked events' ids; their outcomes become None.
        """
        given_up = datetime.now(UTC) - self._unroutable_grace
        returned = [
            row
            for row in rows
            if (outcomes[row.event_id] or "").startswith(UNROUTABLE)
            and _as_utc(row.created_at) <= given_up
        ]
        if not returned or self._parking_queue is None:
            return set()
        copies = [self._parked_copy(row, outcomes[row.event_id]) for row in returned]
        confirmed = self._publisher.publish_batch(copies)
        parked = {row.event_id for row in returned if confirmed[row.event_id] is None}
        outcomes.update(dict.fromkeys(parked))
        return parked

    def _parked_copy(self, row: Row[Any], returned: str | None) -> OutgoingMessage:
        reason = f"{returned}: no queue takes {row.event_type}"
        headers = {
            PARKED_REASON_HEADER: reason,
            PARKED_AT_HEADER: datetime.now(UTC).isoformat(),
            ORIGIN_QUEUE_HEADER: "",
            ORIGIN_EXCHANGE_HEADER: self._publisher.exchange,
            ATTEMPT_HEADER: row.attempts + 1,
        }
        return OutgoingMessage(
            row.event_id,
            str(self._parking_queue),
            row.body.encode(),
            headers,
            exchange="",
            event_type=row.event_type,
        )

    @staticmethod
    def _report_parked(rows: list[Row[Any]], parked: set[str]) -> None:
        for row in rows:
            if row.event_id in parked:
                metrics.EVENTS_UNROUTABLE.labels(row.event_type).inc()
                log.error(
                    "event unroutable: no queue takes its type; parked",
                    extra={"event_id": row.event_id, "event_type": row.event_type},
                )

    def run(self, stop: threading.Event) -> None:
        waiter = self._make_waiter(stop)
        failures = 0
        try:
            while not stop.is_set():
                try:
                    if self._prepare_broker is not None and not self._publisher.connected:
                        self._prepare_broker()
                    published = self.drain_once()
                    failures = 0
                except (BrokerUnavailable, AMQPError, SQLAlchemyError) as error:
                    failures += 1
                    self._publisher.close()
                    log.warning(
                        "relay cannot publish now: %s",
                        type(error).__name__,
                        extra={"reason": error_text(error)[:200]},
                    )
                    self._report_backlog(force=True)
                    stop.wait(min(0.5 * 2**failures, 10.0))
                    continue
                self._report_backlog()
                if published < self._batch_size:
                    self._publisher.keepalive()
                    waiter.wait(IDLE_WAIT_SECONDS)
        finally:
            waiter.close()
            self._publisher.close()
            if self._claims is not self._database:
                self._claims.dispose()

    @staticmethod
    def _postponed(row: Row[Any], outcomes: dict[str, str | None]) -> dict[str, Any]:
        """The refused row as it goes back: same id (so same place in line), retried later."""
        attempts = row.attempts + 1
        return {
            **row._asdict(),
            "attempts": attempts,
            "next_attempt_at": datetime.now(UTC) + _retry_delay(attempts),
            "last_error": (outcomes[row.event_id] or "")[:500],
        }

    def _report_backlog(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_backlog_report < 1.0:
            return
        self._last_backlog_report = now
        try:
            with self._database.sessions() as session:
                count, oldest_age = backlog(session)
        except SQLAlchemyError:
            return
        metrics.OUTBOX_BACKLOG.set(count)
        metrics.OUTBOX_OLDEST_AGE.set(oldest_age)

    def _make_waiter(self, stop: threading.Event) -> Waiter:
        if self._database.is_postgres:
            url = self._database.engine.url.set(drivername="postgresql")
            return NotificationWaiter(url.render_as_string(hide_password=False))
        return PollingWaiter(self._poll_seconds, stop)
