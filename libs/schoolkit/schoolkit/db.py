"""Engines and sessions: one `Database` per process, SQLite locally, PostgreSQL in production."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def _normalise_url(url: str) -> str:
    # psycopg 3 is the driver we ship; a bare postgresql:// URL would ask for psycopg2.
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, say where transactions begin: savepoints
    # (one per message in a consumer batch) need it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    # secure_delete zeroes freed pages, so an erased row leaves nothing in the file (DESIGN §4.7).
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _begin_immediate(connection: Any) -> None:
    # The web and the worker write the same file: taking the write lock up front turns a
    # would-be deadlock on lock upgrade into a short wait under busy_timeout.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = _normalise_url(url)
    # SQL errors would otherwise quote their parameters (names, phones) into logs and
    # parked-message reasons.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 10}, **kwargs)
        event.listen(engine, "connect", _on_sqlite_connect)
        event.listen(engine, "begin", _begin_immediate)
        return engine
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    engine = create_engine(url, **kwargs)
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
        self.read_sessions = self._read_sessions()

    def _read_sessions(self) -> sessionmaker[Session]:
        """Sessions for work that only reads: on PostgreSQL each statement commits alone.

        Under PostgreSQL's READ COMMITTED (ours) every statement of a transaction takes its
        own snapshot anyway, so reading outside one sees exactly the same rows, and saves
        the BEGIN and ROLLBACK round trips of a transaction that never writes. SQLite keeps
        its ordinary sessions: its transactions are what keep the web and the worker apart.
        """
        if not is_postgres(self.engine):
            return self.sessions
        autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        return sessionmaker(autocommit, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return is_postgres(self.engine)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work commits at the end of the block, or rolls back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()
