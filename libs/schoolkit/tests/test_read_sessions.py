"""Read sessions: on PostgreSQL, statements outside a transaction; the pool stays transactional."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import func, insert, select, text

from schoolkit.db import Database
from schoolkit.tables import kit_metadata, tombstones
from schoolkit.web import db_session, read_session

# now() is the transaction's start; equal to the statement's start only outside a transaction.
OWN_SNAPSHOT = text("SELECT now() = statement_timestamp()")


@pytest.fixture
def postgres(postgres_database_url: str) -> Iterator[Database]:
    # One connection, so every session below shares it: what one leaves behind, the next sees.
    database = Database(postgres_database_url, pool_size=1, max_overflow=0)
    kit_metadata.create_all(database.engine)
    yield database
    database.dispose()


def test_a_read_session_on_postgres_runs_each_statement_on_its_own(postgres: Database) -> None:
    with postgres.read_sessions() as reading:
        reading.execute(text("SELECT 1"))
        time.sleep(0.01)
        assert reading.execute(OWN_SNAPSHOT).scalar() is True
    with postgres.sessions() as ordinary:
        ordinary.execute(text("SELECT 1"))
        time.sleep(0.01)
        assert ordinary.execute(OWN_SNAPSHOT).scalar() is False


def test_after_a_read_session_the_pooled_connection_is_transactional_again(
    postgres: Database,
) -> None:
    with postgres.read_sessions() as reading:
        reading.execute(text("SELECT 1"))
    with postgres.sessions() as writing:
        writing.execute(insert(tombstones).values(subject_id="s-1", erased_at=func.now()))
        writing.rollback()
    with postgres.sessions() as checking:
        assert checking.execute(select(func.count()).select_from(tombstones)).scalar() == 0


def test_a_read_session_sees_what_was_committed(postgres: Database) -> None:
    with postgres.transaction() as writing:
        writing.execute(insert(tombstones).values(subject_id="s-1", erased_at=func.now()))
    with postgres.read_sessions() as reading:
        assert reading.execute(select(tombstones.c.subject_id)).scalars().all() == ["s-1"]


def test_on_sqlite_a_read_session_reads_while_a_writer_holds_the_write_lock(
    sqlite_database: Database,
) -> None:
    with sqlite_database.transaction() as writing:
        writing.execute(insert(tombstones).values(subject_id="s-1", erased_at=func.now()))
        with sqlite_database.read_sessions() as reading:
            # The reader began DEFERRED: it sees the last commit and never waits for the lock.
            assert reading.execute(select(func.count()).select_from(tombstones)).scalar() == 0


def test_a_request_closes_its_read_session_at_teardown(app: Flask) -> None:
    with app.test_request_context("/"):
        reading, writing = read_session(), db_session()
        assert reading is read_session()
        assert reading is not writing
        reading.execute(text("SELECT 1"))
    assert not reading.in_transaction()
