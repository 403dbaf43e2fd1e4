"""accept_version: the newest version wins, on PostgreSQL and SQLite alike, in one statement."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event

from schoolkit.db import Database
from schoolkit.ordering import accept_current_version, accept_current_versions, accept_version
from schoolkit.tables import kit_metadata


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, sqlite_database: Database) -> Iterator[Database]:
    if request.param == "sqlite":
        yield sqlite_database
        return
    url = request.getfixturevalue("postgres_database_url")
    database = Database(url)
    kit_metadata.create_all(database.engine)
    yield database
    database.dispose()


def _accept(database: Database, entity_id: str, version: int) -> bool:
    with database.transaction() as session:
        return accept_version(session, "mark", entity_id, version)


def test_the_first_version_of_an_entity_is_accepted(database: Database) -> None:
    assert _accept(database, "m-1", 3)


def test_an_older_or_equal_version_is_stale_and_a_newer_one_is_accepted(
    database: Database,
) -> None:
    assert _accept(database, "m-1", 3)
    assert not _accept(database, "m-1", 3)
    assert not _accept(database, "m-1", 2)
    assert _accept(database, "m-1", 4)
    assert not _accept(database, "m-1", 3)


def test_versions_of_different_entities_do_not_interfere(database: Database) -> None:
    assert _accept(database, "m-1", 5)
    assert _accept(database, "m-2", 1)
    with database.transaction() as session:
        assert accept_version(session, "lesson", "m-1", 1)


def test_accepting_a_version_costs_one_statement(database: Database) -> None:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_rest: object) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    try:
        _accept(database, "m-1", 1)
        _accept(database, "m-1", 1)
        _accept(database, "m-1", 2)
    finally:
        event.remove(database.engine, "before_cursor_execute", count)
    assert len([s for s in statements if "entity_versions" in s]) == 3


def test_a_snapshot_of_the_current_version_is_accepted_again_but_an_older_one_is_not(
    database: Database,
) -> None:
    assert _accept(database, "m-1", 3)
    with database.transaction() as session:
        assert accept_current_version(session, "mark", "m-1", 3)
        assert not accept_current_version(session, "mark", "m-1", 2)
        assert accept_current_version(session, "mark", "m-2", 1)
        assert accept_current_version(session, "mark", "m-1", 4)
    assert not _accept(database, "m-1", 4)  # the snapshot's version is now the newest seen


def test_many_current_versions_are_accepted_in_one_statement_per_chunk(
    database: Database,
) -> None:
    assert _accept(database, "m-1", 3)
    assert _accept(database, "m-2", 1)
    with database.transaction() as session:
        versions = {"m-1": 2, "m-2": 1, "m-3": 1, "m-4": 5}
        assert accept_current_versions(session, "mark", versions, chunk=2) == {"m-2", "m-3", "m-4"}
    assert not _accept(database, "m-4", 5)
