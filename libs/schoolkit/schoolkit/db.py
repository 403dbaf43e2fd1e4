"""Engines and sessions: one `Database` per process, SQLite locally, PostgreSQL in production."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, InvalidatePoolError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


# SQLSTATEs of a PostgreSQL statement cut short by lock_timeout or statement_timeout.
_POSTGRES_GAVE_UP = frozenset({"55P03", "57014"})
_SQLITE_BUSY = ("database is locked", "database table is locked")


def is_busy(error: BaseException) -> bool:
    """Whether `error` says the database was busy (a lock held too long, a statement cut
    short, no pooled connection free in time): worth a retry soon, not a bug."""
    if isinstance(error, PoolTimeoutError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    if getattr(error.orig, "sqlstate", None) in _POSTGRES_GAVE_UP:
        return True
    return isinstance(error, OperationalError) and str(error.orig).startswith(_SQLITE_BUSY)


def _normalise_url(url: str) -> str:
    # psycopg 3 is the driver we ship; a bare postgresql:// URL would ask for psycopg2.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


@dataclass(frozen=True)
class Timeouts:
    """How long a statement may wait for a lock another transaction holds, how long it may
    run, and (PostgreSQL) how long a transaction may sit open doing nothing; None: no limit.

    A worker waits for locks as long as SQLite always let it (10 s) and retries on failure;
    a web process waits less and answers 503 with Retry-After (web.py).
    """

    lock_seconds: float = 10.0
    statement_seconds: float | None = None
    idle_in_transaction_seconds: float | None = None


# The execution option that marks a connection as a reader (see `Database.reader`).
_READER = "schoolkit_reader"


def _sqlite_connect_hook(lock_seconds: float) -> Any:
    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, say where transactions begin: savepoints
        # (one per message in a consumer batch) need it.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # secure_delete zeroes freed pages, so an erased row leaves nothing in the file
        # (DESIGN §4.7).
        cursor.execute("PRAGMA secure_delete=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(lock_seconds * 1000)}")
        cursor.close()

    return on_connect


def _begin_sqlite(connection: Any) -> None:
    """A reader begins DEFERRED: under WAL it reads a snapshot and never blocks a writer.

    A writer takes the write lock up front (IMMEDIATE): the web and the worker write the
    same file, and this turns a would-be deadlock on lock upgrade into a short wait under
    busy_timeout.
    """
    reader = connection.get_execution_options().get(_READER, False)
    connection.exec_driver_sql("BEGIN" if reader else "BEGIN IMMEDIATE")


def _postgres_options(timeouts: Timeouts | None) -> dict[str, Any]:
    """The limits as server settings of every connection (`-c name=milliseconds`)."""
    if timeouts is None:
        return {}
    limits = {
        "lock_timeout": timeouts.lock_seconds,
        "statement_timeout": timeouts.statement_seconds,
        "idle_in_transaction_session_timeout": timeouts.idle_in_transaction_seconds,
    }
    options = [f"-c {name}={int(value * 1000)}" for name, value in limits.items() if value]
    return {"options": " ".join(options)} if options else {}


def make_engine(url: str, *, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    """An engine; `timeouts` None keeps SQLite's 10 s lock wait and PostgreSQL's defaults."""
    url = _normalise_url(url)
    # SQL errors would otherwise quote their parameters (names, phones) into logs and
    # parked-message reasons.
    kwargs.setdefault("hide_parameters", True)
    connect_args = dict(kwargs.pop("connect_args", {}))
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        lock_seconds = (timeouts or Timeouts()).lock_seconds
        connect_args.setdefault("timeout", lock_seconds)
        engine = create_engine(url, connect_args=connect_args, **kwargs)
        event.listen(engine, "connect", _sqlite_connect_hook(lock_seconds))
        event.listen(engine, "begin", _begin_sqlite)
        return engine
    connect_args.update(_postgres_options(timeouts))
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    if not kwargs.get("pool_pre_ping"):
        _ping_connections_left_idle(engine)
    return engine


# A connection given back less than this long ago is taken as alive (HikariCP's
# "aliveBypassWindowMs"): under load every checkout would otherwise cost a round trip to
# the database, and a connection that just worked is the least likely to be dead.
ALIVE_BYPASS_SECONDS = 0.5
_LAST_USED = "schoolkit_last_used"


def _ping_connections_left_idle(engine: Engine) -> None:
    """Ping a pooled connection before handing it out only when it has sat idle.

    A failed ping invalidates the whole pool, as SQLAlchemy's own pre-ping does: after a
    database restart every pooled connection is dead, and the checkout retries on a new one.
    """

    def remember_use(_dbapi_connection: Any, record: ConnectionPoolEntry, *_: Any) -> None:
        record.info[_LAST_USED] = time.monotonic()

    def ping_if_idle(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(_LAST_USED, 0.0) < ALIVE_BYPASS_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise InvalidatePoolError("the pooled connection did not answer a ping") from error

    event.listen(engine, "connect", remember_use)
    event.listen(engine, "checkin", remember_use)
    event.listen(engine, "checkout", ping_if_idle)


class Database:
    """The engine and session factory of one service process."""

    def __init__(self, url: str, **engine_kwargs: Any) -> None:
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.reader = self._reader()
        self.read_sessions = sessionmaker(self.reader, expire_on_commit=False)
        self.deferred_sessions = self._deferred_sessions()
        self._snapshot_sessions = sessionmaker(self._snapshot_engine(), expire_on_commit=False)

    def _reader(self) -> Engine:
        """The engine for work that only reads; it never takes a write lock.

        On PostgreSQL each statement commits alone: under READ COMMITTED (ours) every
        statement of a transaction takes its own snapshot anyway, so reading outside one
        sees exactly the same rows, and saves the BEGIN and ROLLBACK round trips of a
        transaction that never writes. On SQLite a reader's transaction begins DEFERRED:
        under WAL it reads its snapshot while the web and the worker go on writing.
        """
        if is_postgres(self.engine):
            return self.engine.execution_options(isolation_level="AUTOCOMMIT")
        return self.engine.execution_options(**{_READER: True})

    def _deferred_sessions(self) -> sessionmaker[Session]:
        """Sessions for work that mostly reads and may write: on SQLite the transaction
        begins DEFERRED and takes the write lock only at its first write (SQLite refuses
        that write with "database is locked" rather than let it act on a stale snapshot).
        On PostgreSQL, where a transaction locks only the rows it writes, the ordinary ones.
        """
        if is_postgres(self.engine):
            return self.sessions
        return sessionmaker(self.reader, expire_on_commit=False)

    def _snapshot_engine(self) -> Engine:
        # One snapshot for every statement: a file built from several queries is consistent.
        if is_postgres(self.engine):
            return self.engine.execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
        return self.engine.execution_options(**{_READER: True})

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read-only session on one consistent snapshot, ended when the block ends.

        For whatever reads much and then takes a while to write it out (exports, PDFs,
        calendars): read inside the block, render and stream after it, so no transaction
        and no lock outlives the reading.
        """
        with self._snapshot_sessions() as session, session.begin():
            yield session

    @property
    def is_postgres(self) -> bool:
        return is_postgres(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits at the end of the block, or rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.reader.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
