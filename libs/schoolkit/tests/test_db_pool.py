"""The pool pings a connection only after it sat idle, and heals after the database drops it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import event, text

from schoolkit.db import ALIVE_BYPASS_SECONDS, Database


@pytest.fixture
def postgres(postgres_database_url: str) -> Iterator[Database]:
    database = Database(postgres_database_url, pool_size=1, max_overflow=0)
    yield database
    database.dispose()


def _pings(database: Database) -> list[str]:
    """Every ping the pool sends (psycopg's is an empty statement, outside SQLAlchemy's
    statement events): counted by wrapping the dialect's ping."""
    sent: list[str] = []
    original = database.engine.dialect.do_ping

    def counting_ping(dbapi_connection: object) -> bool:
        sent.append("ping")
        return original(dbapi_connection)

    database.engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
    return sent


def _backend_pid(database: Database) -> int:
    with database.engine.connect() as connection:
        return int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_used_moments_ago_is_handed_out_without_a_ping(postgres: Database) -> None:
    pings = _pings(postgres)
    for _ in range(20):
        _backend_pid(postgres)
    assert pings == []


def test_a_connection_left_idle_is_pinged_before_it_is_handed_out(postgres: Database) -> None:
    pings = _pings(postgres)
    _backend_pid(postgres)
    time.sleep(ALIVE_BYPASS_SECONDS + 0.1)
    _backend_pid(postgres)
    assert pings == ["ping"]


def test_after_the_database_drops_an_idle_connection_the_next_checkout_gets_a_new_one(
    postgres: Database, postgres_database_url: str
) -> None:
    dropped = _backend_pid(postgres)
    libpq_url = postgres_database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(libpq_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (dropped,))
    time.sleep(ALIVE_BYPASS_SECONDS + 0.1)

    assert _backend_pid(postgres) != dropped


def test_statements_of_a_transaction_are_not_preceded_by_pings(postgres: Database) -> None:
    statements: list[str] = []
    event.listen(postgres.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    pings = _pings(postgres)
    for _ in range(3):
        with postgres.transaction() as session:
            session.execute(text("SELECT 1"))
    assert (statements, pings) == (["SELECT 1"] * 3, [])
