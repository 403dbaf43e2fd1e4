"""Physical erasure: after an erasure, no erased value may survive in a store's files.

Deleting a row is not destroying it (DESIGN §4.7; audit issue 14 item 3). Each worker
notes the tables an erasure wrote and, at the school's quiet hour after it (the night
after, well within the legal term of 3 working days), purges its store:

* SQLite: every connection has `secure_delete` on (schoolkit.db), so the pages an
  erasure frees are zeroed; the WAL still holds the rows' earlier frames until a
  checkpoint, and a plain checkpoint only rewinds it. The housekeeping copies the WAL
  into the database file and truncates it to zero bytes (`wal_checkpoint(TRUNCATE)`).
* PostgreSQL: a DELETE leaves a dead tuple, and even VACUUM leaves its bytes in the
  page's free space. The housekeeping rewrites every table the erasure touched with
  VACUUM FULL (new files with live rows only, indexes rebuilt; the old files are
  truncated and unlinked) and checks that no dead row had to be kept for an old
  snapshot. Then the WAL: a checkpoint makes the old segments unneeded, but with
  `wal_recycle` on they are renamed for reuse with their bytes intact, so the
  housekeeping switches through as many fresh segments as pg_wal holds (each switch
  writes the rest of its segment as zeroes) and checkpoints again.

Each store's run is reported as `<service>.erasure.purged` for every erasure it covers,
saying exactly what was done; consent writes it into the act of destruction.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import threading
import time
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any
from zoneinfo import ZoneInfo

from pika.exceptions import AMQPError
from sqlalchemy import Connection, event, select, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session

from schoolkit.consumer import Handler
from schoolkit.db import Database
from schoolkit.erasure import is_about_any
from schoolkit.events import Event, iso_utc
from schoolkit.outbox import publish
from schoolkit.parking import ParkedMessage, ParkingLot
from schoolkit.settings import Settings
from schoolkit.tables import EVERY_SCHOOL, tombstones

log = logging.getLogger(__name__)

# The handlers whose writes are an erasure's: the request, and what a participant does
# once all have confirmed (notify lets the kept contacts go after queueing the notice).
ERASURE_STEPS = frozenset({"consent.erasure.requested", "consent.erasure.finished"})
# Event bodies, with the names and contacts some of them carry, pass through the outbox
# and are deleted once sent: it is rewritten with whatever an erasure touched.
ALWAYS_REWRITTEN = ("outbox",)
# After a restart the in-memory list of pending erasures is gone: erasures this recent
# (more than the 3 working days of the term, holidays included) are purged again.
REMEMBER = timedelta(days=7)
_WRITE = re.compile(r'^\s*(?:DELETE\s+FROM|UPDATE)\s+"?([A-Za-z_][A-Za-z0-9_]*)"?', re.IGNORECASE)
# A tombstone written before tombstones had a school counts for every school: recalled
# after a restart, its erasure's school is not known here (consent finds the act by the
# erasure id alone, and the envelope needs some school).
UNKNOWN_SCHOOL = "unknown"
_touched: ContextVar[set[str] | None] = ContextVar("schoolkit_erasure_touched", default=None)


@dataclass(frozen=True)
class PurgeSettings:
    """When the purge runs: PostgreSQL's VACUUM FULL holds an ACCESS EXCLUSIVE lock that
    stops each table's readers and writers while it copies it, hence the quiet hour."""

    at: clock | None = clock(3, 0)  # None: only when forced (SIGUSR1, the command)
    immediate: bool = False  # as soon as an erasure is noted (drills, tests)
    window: timedelta = timedelta(hours=2)
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Europe/Moscow"))
    poll_seconds: float = 60.0
    lock_timeout_seconds: int = 30

    @classmethod
    def from_env(cls) -> PurgeSettings:
        at = os.environ.get("PURGE_AT", "03:00").strip()
        return cls(
            at=None if at in ("now", "never") else clock.fromisoformat(at),
            immediate=at == "now",
            window=timedelta(minutes=int(os.environ.get("PURGE_WINDOW_MINUTES", "120"))),
            timezone=ZoneInfo(os.environ.get("SCHOOL_TIMEZONE") or "Europe/Moscow"),
            poll_seconds=float(os.environ.get("PURGE_POLL_SECONDS", "60")),
        )

    def is_quiet(self, now: datetime) -> bool:
        if self.immediate or self.at is None:
            return self.immediate
        local = now.astimezone(self.timezone)
        start = datetime.combine(local.date(), self.at, self.timezone)
        # The window may have begun yesterday (23:30 + 2 h).
        return any(
            begin <= local < begin + self.window for begin in (start, start - timedelta(days=1))
        )


@dataclass(frozen=True)
class Purge:
    """What one housekeeping run did to one store."""

    store: str  # postgresql, sqlite
    method: str
    tables: tuple[str, ...]
    complete: bool


# --- noting what an erasure touched ---------------------------------------------------


def watch_statements(database: Database) -> None:
    """Let the erasure handler see which tables its statements delete from or update."""

    def note(_conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        tables = _touched.get()
        if tables is not None and (found := _WRITE.match(statement)):
            tables.add(found.group(1))

    event.listen(database.engine, "before_cursor_execute", note)


def watching(handler: Handler, housekeeper: Housekeeper) -> Handler:
    """`handler` of consent.erasure.requested, noting the tables it wrote for the purge."""

    def handle(session: Session, received: Event) -> Any:
        tables: set[str] = set()
        token = _touched.set(tables)
        try:
            result = handler(session, received)
            session.flush()  # ORM deletes are written here, while we still listen
        finally:
            _touched.reset(token)
        # Noted before the commit: a rolled-back erasure costs one needless rewrite only.
        housekeeper.note(received.data["erasure_id"], received.school_id, tables)
        return result

    handle.__name__ = getattr(handler, "__name__", "erase")
    return handle


# --- the housekeeper ------------------------------------------------------------------


class Housekeeper:
    """Erasures waiting for their physical purge, and the purge itself."""

    def __init__(
        self,
        service: str,
        database: Database,
        settings: PurgeSettings | None = None,
        parking: ParkingLot | None = None,
    ) -> None:
        self.service = service
        self.database = database
        self.settings = settings or PurgeSettings.from_env()
        self.parking = parking
        self._lock = threading.Lock()
        self._pending: dict[str, str] = {}  # erasure id -> school id
        self._tables: set[str] = set()
        self._everything = False
        self._forced = threading.Event()

    def note(self, erasure_id: str, school_id: str, tables: Iterable[str]) -> None:
        with self._lock:
            self._pending[erasure_id] = school_id
            self._tables.update(tables)

    def recall_recent(self, now: datetime | None = None) -> None:
        """After a restart: erasures of the last days are purged again, every table."""
        since = (now or datetime.now(UTC)) - REMEMBER
        with self.database.transaction() as session:
            rows = session.execute(
                select(tombstones.c.erasure_id, tombstones.c.school_id)
                .where(tombstones.c.erased_at >= since, tombstones.c.erasure_id.is_not(None))
                .distinct()
            ).all()
        if not rows:
            return
        with self._lock:
            for row in rows:
                school = "" if row.school_id == EVERY_SCHOOL else row.school_id
                self._pending.setdefault(row.erasure_id, school)
            self._everything = True

    @property
    def pending(self) -> bool:
        with self._lock:
            return bool(self._pending)

    def run_if_due(self, now: datetime | None = None) -> Purge | None:
        # SQLite waits for the quiet hour too, though its checkpoint is quick: by then what
        # follows an erasure (notify's notice, sent and scrubbed) is done, and one purge
        # covers it.
        if not self.pending or not self.settings.is_quiet(now or datetime.now(UTC)):
            return None
        return self.run()

    def force(self) -> None:
        """Purge at the purge thread's next turn, quiet hour or not (SIGUSR1)."""
        self._forced.set()

    def run(self, every_table: bool = False) -> Purge:
        """Purge now; the erasures it covered are reported and forgotten only when complete."""
        with self._lock:
            pending, tables = dict(self._pending), set(self._tables)
            everything = every_table or self._everything
        if self.database.is_postgres:
            purge = PostgresPurge(self.database, self.settings).run(
                None if everything else tables | set(ALWAYS_REWRITTEN)
            )
        else:
            purge = sqlite_purge(self.database)
        purge = self._with_parked_discarded(purge, pending)
        if purge.complete:
            self._report(pending, purge)
            with self._lock:
                for erasure_id in pending:
                    self._pending.pop(erasure_id, None)
                if not self._pending:
                    self._tables, self._everything = set(), False
        log.info(
            "erasure purge",
            extra={"store": purge.store, "complete": purge.complete, "erasures": len(pending)},
        )
        return purge

    def _with_parked_discarded(self, purge: Purge, pending: dict[str, str]) -> Purge:
        """A parked message keeps its body (a name, a contact) on the broker's disk for as
        long as nobody looks at it: those about the erased are discarded with the purge.
        An unreachable broker leaves the purge incomplete, so it is tried again."""
        if self.parking is None or not pending:
            return purge
        erased = self._erased_by_school(pending)
        try:
            discarded = self.parking.purge(lambda message: _parked_about(message, erased))
        except AMQPError:
            log.warning("the parking queue cannot be read now; the purge runs again")
            return replace(purge, complete=False)
        method = f"{purge.method}; {PARKING_METHOD}: {len(discarded)}"
        return replace(purge, method=method)

    def _erased_by_school(self, pending: dict[str, str]) -> dict[str, set[str]]:
        with self.database.transaction() as session:
            rows = session.execute(
                select(tombstones.c.subject_id, tombstones.c.erasure_id).where(
                    tombstones.c.erasure_id.in_(pending)
                )
            ).all()
        erased: dict[str, set[str]] = {}
        for row in rows:
            erased.setdefault(pending[row.erasure_id], set()).add(row.subject_id)
        return erased

    def _report(self, pending: dict[str, str], purge: Purge) -> None:
        purged_at = iso_utc(datetime.now(UTC))
        with self.database.transaction() as session:
            for erasure_id, school_id in sorted(pending.items()):
                event = self._purged(erasure_id, school_id or UNKNOWN_SCHOOL, purge, purged_at)
                publish(session, event)

    def _purged(self, erasure_id: str, school_id: str, purge: Purge, purged_at: str) -> Event:
        return Event(
            type=f"{self.service}.erasure.purged",
            school_id=school_id,
            data={
                "erasure_id": erasure_id,
                "participant": self.service,
                "store": purge.store,
                "method": purge.method,
                "tables": sorted(purge.tables),
                "purged_at": purged_at,
            },
        )

    def loop(self, stop: threading.Event) -> None:
        """The worker's purge thread: an error is logged and the purge tried at the next turn."""
        try:
            self.recall_recent()
        except SQLAlchemyError:
            log.warning("cannot read recent erasures now; only new ones are purged")
        last = time.monotonic()
        # Short waits: a forced purge, and the worker's stop, are seen within a second.
        while not stop.wait(1.0):
            forced = self._forced.is_set()
            if not forced and time.monotonic() - last < self.settings.poll_seconds:
                continue
            self._forced.clear()
            last = time.monotonic()
            try:
                # Forced with nothing pending: an operator's purge of every table.
                self.run(every_table=not self.pending) if forced else self.run_if_due()
            except SQLAlchemyError:
                log.exception("the erasure purge failed; it runs again")


PARKING_METHOD = "отложенные сообщения о субъектах удалены из очереди parking брокера"


def _parked_about(message: ParkedMessage, erased: dict[str, set[str]]) -> bool:
    try:
        envelope = json.loads(message.body)
    except ValueError:
        return False
    if not isinstance(envelope, dict):
        return False
    school = str(envelope.get("school_id"))
    return is_about_any(envelope, school, erased.get(school, set()))


# --- SQLite ---------------------------------------------------------------------------

SQLITE_METHOD = (
    "SQLite: записи удалены с PRAGMA secure_delete=ON (освобождённое место страниц "
    "перезаписано нулями); журнал WAL перенесён в файл базы и усечён до нуля байт "
    "(PRAGMA wal_checkpoint(TRUNCATE))"
)


def sqlite_purge(database: Database, attempts: int = 50) -> Purge:
    """Checkpoint the WAL into the file and truncate it; a reader in the way is waited for."""
    for _ in range(attempts):
        # Outside any transaction: the engine's `begin` takes the write lock (schoolkit.db),
        # and a checkpoint cannot run inside a transaction.
        connection = database.engine.raw_connection()
        try:
            busy, _log_frames, _moved = (
                connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            )
        finally:
            connection.close()
        if not busy:
            return Purge("sqlite", SQLITE_METHOD, (), complete=True)
        time.sleep(0.2)
    return Purge("sqlite", "SQLite: WAL не усечён (занят читателями), повтор", (), complete=False)


# --- PostgreSQL -----------------------------------------------------------------------


class PostgresPurge:
    """VACUUM FULL of the touched tables, then the WAL segments that held their rows."""

    def __init__(self, database: Database, settings: PurgeSettings) -> None:
        self.engine = database.engine.execution_options(isolation_level="AUTOCOMMIT")
        self.settings = settings

    def run(self, tables: set[str] | None) -> Purge:
        with self.engine.connect() as connection:
            # The web's requests queue behind VACUUM FULL's lock: give up on a table held
            # longer than this and try it at the next turn rather than stall the school.
            timeout = self.settings.lock_timeout_seconds
            connection.exec_driver_sql(f"SET lock_timeout = '{timeout}s'")
            try:
                names = self._existing(connection, tables)
                kept_dead = [name for name in names if not self._rewrite(connection, name)]
                wal = self._renew_wal(connection)
            finally:
                connection.exec_driver_sql("RESET lock_timeout")  # the connection is pooled
        complete = not kept_dead and wal is not None
        return Purge("postgresql", _postgres_method(names, kept_dead, wal), tuple(names), complete)

    @staticmethod
    def _existing(connection: Connection, tables: set[str] | None) -> list[str]:
        found = connection.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        ).scalars()
        return sorted(name for name in found if tables is None or name in tables)

    @staticmethod
    def _rewrite(connection: Connection, table: str) -> bool:
        """VACUUM FULL `table`; False when it had to keep dead rows (an older snapshot)."""
        quoted = connection.dialect.identifier_preparer.quote(table)
        for attempt in range(5):
            try:
                connection.exec_driver_sql(f"VACUUM FULL {quoted}")
            except DBAPIError:
                log.warning("cannot rewrite a table now", extra={"table": table})
                return False
            # VACUUM FULL counts the rows it copied, recently dead ones included: more
            # than are visible now means a dead row was copied into the new file.
            copied, visible = connection.exec_driver_sql(
                f"SELECT (SELECT reltuples FROM pg_class WHERE oid = '{quoted}'::regclass), "
                f"(SELECT count(*) FROM {quoted})"
            ).one()
            if copied <= visible:
                return True
            time.sleep(1.0 + attempt)
        return False

    @staticmethod
    def _renew_wal(connection: Connection) -> int | None:
        """Retire the segments that hold the erased rows, then overwrite every recycled one.

        A checkpoint does not delete old segments while `wal_recycle` is on: it renames them
        to future names with their bytes intact. So: close the current segment, checkpoint
        (all older ones recycled or removed), switch through as many segments as pg_wal
        holds (each is rewritten from its start, the rest of it zero-filled), checkpoint.
        Returns the number of segments written over, or None without the privileges.
        """
        try:
            _switch(connection)
            connection.exec_driver_sql("CHECKPOINT")
            segments = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$'"
            ).scalar_one()
            for _ in range(segments + 1):
                _switch(connection)
            connection.exec_driver_sql("CHECKPOINT")
        except DBAPIError:
            log.warning("cannot renew the WAL: the role needs pg_checkpoint and pg_switch_wal")
            return None
        return int(segments) + 1


def _switch(connection: Connection) -> None:
    # A switch needs something written since the last one: a transaction id's commit.
    connection.exec_driver_sql("SELECT pg_current_xact_id()")
    connection.exec_driver_sql("SELECT pg_switch_wal()")


def _postgres_method(tables: list[str], kept_dead: list[str], wal: int | None) -> str:
    rewritten = [name for name in tables if name not in kept_dead]
    parts = [
        "PostgreSQL: таблицы, затронутые уничтожением, переписаны VACUUM FULL "
        f"(новые файлы только с живыми строками, индексы перестроены): {', '.join(rewritten)}"
    ]
    if kept_dead:
        parts.append(f"не переписаны (повтор): {', '.join(kept_dead)}")
    if wal is None:
        parts.append("сегменты WAL не обновлены (нет прав pg_checkpoint/pg_switch_wal), повтор")
    else:
        parts.append(
            f"WAL: CHECKPOINT, {wal} переключений сегмента (pg_switch_wal) с заполнением "
            "нулями, CHECKPOINT — прежние сегменты удалены или перезаписаны"
        )
    return "; ".join(parts)


def purge_now(service: str, database_url: str) -> Purge:
    """An operator's (or a test's) forced purge of every table of a service's database."""
    database = Database(database_url)
    try:
        return Housekeeper(service, database, PurgeSettings(at=None)).run(every_table=True)
    finally:
        database.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m schoolkit.housekeeping",
        description="Purge erased values from a service's database files now: every table, "
        "and the WAL (the worker does this itself at the quiet hour; `kill -USR1` forces it).",
    )
    parser.add_argument("--service", required=True)
    args = parser.parse_args(argv)
    purge = purge_now(args.service, Settings.from_env(args.service).database_url)
    print(purge.method)  # noqa: T201 - this is a command line
    raise SystemExit(0 if purge.complete else 1)


if __name__ == "__main__":
    main()


__all__ = [
    "ERASURE_STEPS",
    "Housekeeper",
    "Purge",
    "PurgeSettings",
    "purge_now",
    "sqlite_purge",
    "watch_statements",
    "watching",
]
