"""HotRead: the same rows as SQLAlchemy's execution, prepared on PostgreSQL, errors as usual."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, select, text
from sqlalchemy.exc import DBAPIError

from schoolkit.db import Database
from schoolkit.hotread import HotRead

metadata = MetaData()
pupils = Table(
    "hotread_pupils",
    metadata,
    Column("pupil_id", String, primary_key=True),
    Column("form", String),
    Column("year", Integer),
)
OF_A_FORM = (
    select(pupils.c.pupil_id, pupils.c.year.label("school_year"))
    .where(pupils.c.form == bindparam("form"), pupils.c.year >= 5)  # 5: a constant bound
    .order_by(pupils.c.pupil_id)
)
ROWS = [
    {"pupil_id": "p1", "form": "5a", "year": 5},
    {"pupil_id": "p2", "form": "5a", "year": 5},
    {"pupil_id": "p3", "form": "4b", "year": 4},
    {"pupil_id": "p4", "form": "5a", "year": 4},
]


def _filled(database: Database) -> Database:
    metadata.create_all(database.engine)
    with database.transaction() as session:
        session.execute(pupils.insert(), ROWS)
    return database


@pytest.fixture
def postgres(postgres_database_url: str) -> Iterator[Database]:
    # One connection only: what HotRead leaves behind is what the next checkout gets.
    database = _filled(Database(postgres_database_url, pool_size=1, max_overflow=0))
    yield database
    database.dispose()


@pytest.fixture
def sqlite(tmp_path: Path) -> Iterator[Database]:
    database = _filled(Database(f"sqlite:///{tmp_path / 'hot.db'}"))
    yield database
    database.dispose()


def _both_ways(database: Database, read: HotRead, values: dict[str, object]) -> tuple[list, list]:
    with database.read_sessions() as session:
        hot = [(row.pupil_id, row.school_year) for row in read.rows(session, values)]
        usual = [tuple(row) for row in session.execute(read.statement, values)]
    return hot, usual


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
def test_the_rows_are_those_of_an_ordinary_execution(
    backend: str, request: pytest.FixtureRequest
) -> None:
    database: Database = request.getfixturevalue(backend)
    read = HotRead(OF_A_FORM)
    for form, expected in (("5a", [("p1", 5), ("p2", 5)]), ("4b", []), ("none", [])):
        hot, usual = _both_ways(database, read, {"form": form})
        assert hot == usual == expected


def test_on_postgres_it_is_prepared_once_and_leaves_no_transaction_behind(
    postgres: Database,
) -> None:
    read = HotRead(OF_A_FORM)
    for _ in range(3):
        with postgres.read_sessions() as session:
            assert len(read.rows(session, {"form": "5a"})) == 2
    with postgres.engine.connect() as connection:
        prepared = connection.execute(
            text("SELECT statement FROM pg_prepared_statements WHERE statement LIKE :like"),
            {"like": "SELECT%hotread_pupils%"},
        ).all()
        # The pool's next user finds an ordinary connection: no autocommit left on.
        assert connection.connection.driver_connection.autocommit is False
    assert len(prepared) == 1


def test_a_failing_statement_raises_sqlalchemys_error_without_its_values(
    postgres: Database,
) -> None:
    secret = "Иванова Мария"
    absent = Table("hotread_absent", MetaData(), Column("name", String))
    broken = HotRead(select(absent.c.name).where(absent.c.name == bindparam("name")))
    with postgres.read_sessions() as session, pytest.raises(DBAPIError) as raised:
        broken.rows(session, {"name": secret})
    assert "hotread_absent" in str(raised.value)
    assert secret not in str(raised.value)
    with postgres.read_sessions() as session:  # the connection is still good
        assert len(HotRead(OF_A_FORM).rows(session, {"form": "5a"})) == 2


def test_a_connection_the_server_dropped_is_replaced(postgres: Database) -> None:
    read = HotRead(OF_A_FORM)
    with postgres.read_sessions() as session:
        read.rows(session, {"form": "5a"})
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    with Database(postgres.engine.url.render_as_string(hide_password=False)).engine.connect() as c:
        c.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": backend})
    # Used a moment ago, so the pool hands it out unpinged: this read meets the dead
    # connection, fails as SQLAlchemy would, and the pool drops it.
    with postgres.read_sessions() as session, pytest.raises(DBAPIError):
        read.rows(session, {"form": "5a"})
    with postgres.read_sessions() as session:
        assert len(read.rows(session, {"form": "5a"})) == 2
