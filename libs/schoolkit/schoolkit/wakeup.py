"""Waking the relays after a commit that wrote to the outbox, from outside that commit.

A NOTIFY inside the writing transaction would wake the relays at exactly the right moment,
but PostgreSQL serialises the commits of all notifying transactions on one global lock
(held through the commit's flush to disk): concurrent writers then commit one at a time,
which halves a service's write throughput on two cores. So the transaction only marks its
session; once it has committed, a small thread of the process sends the NOTIFY on its own
connection, one for all the commits that came in while it was sending (as DBOS and others
moved their notifications off the write path).

Nothing is lost if a wake-up is: the relay also looks at the outbox every second.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import weakref
from typing import Any

import psycopg
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from schoolkit.tables import OUTBOX_CHANNEL

log = logging.getLogger(__name__)

_WROTE_TO_OUTBOX = "schoolkit_wrote_to_outbox"
# After a failed NOTIFY (the database away), the bell waits this long before the next try.
RETRY_SECONDS = 1.0
IDLE_SECONDS = 5.0


def note_outbox_write(session: Session) -> None:
    """Called by `publish`: the relays are to be woken once this session commits."""
    session.info[_WROTE_TO_OUTBOX] = True


class RelayBell:
    """A thread and a connection of one process that send NOTIFY to the relays.

    The thread ends, closing its connection, once no commit has rung for IDLE_SECONDS (a
    test run makes hundreds of databases); the next ring starts it again.
    """

    def __init__(self, conninfo: str) -> None:
        self._conninfo = conninfo
        self._lock = threading.Lock()
        self._rung = threading.Event()
        self._thread: threading.Thread | None = None

    def ring(self) -> None:
        with self._lock:
            self._rung.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="relay-bell", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        connection: psycopg.Connection[Any] | None = None
        try:
            while self._still_rung():
                try:
                    connection = self._notify(connection)
                except psycopg.Error as error:
                    _closed(connection)
                    connection = None
                    log.warning("cannot wake the relays now: %s", type(error).__name__)
                    time.sleep(RETRY_SECONDS)
        finally:
            _closed(connection)

    def _still_rung(self) -> bool:
        """Wait for the next ring; False (and the thread is done) after IDLE_SECONDS of none."""
        if not self._rung.wait(IDLE_SECONDS):
            with self._lock:
                if not self._rung.is_set():
                    self._thread = None
                    return False
        self._rung.clear()
        return True

    def _notify(self, connection: psycopg.Connection[Any] | None) -> psycopg.Connection[Any]:
        if connection is None or connection.closed:
            connection = psycopg.connect(self._conninfo, autocommit=True)
        connection.execute(f"NOTIFY {OUTBOX_CHANNEL}")
        return connection


def _closed(connection: psycopg.Connection[Any] | None) -> None:
    if connection is not None:
        connection.close()


# One bell per database and process; a forked process (gunicorn's workers) makes its own.
_bells: weakref.WeakKeyDictionary[Engine, tuple[int, RelayBell]] = weakref.WeakKeyDictionary()
_bells_lock = threading.Lock()


def bell_for(engine: Engine) -> RelayBell:
    with _bells_lock:
        known = _bells.get(engine)
        if known is None or known[0] != os.getpid():
            url = engine.url.set(drivername="postgresql")
            known = (os.getpid(), RelayBell(url.render_as_string(hide_password=False)))
            _bells[engine] = known
        return known[1]


@event.listens_for(Session, "after_commit")
def _wake_relays(session: Session) -> None:
    if not session.info.pop(_WROTE_TO_OUTBOX, False):
        return
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    if engine.dialect.name == "postgresql":
        bell_for(engine).ring()


@event.listens_for(Session, "after_rollback")
def _forget_outbox_write(session: Session) -> None:
    session.info.pop(_WROTE_TO_OUTBOX, None)
