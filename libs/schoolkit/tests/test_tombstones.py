"""Tombstones: burying is one statement, and burying twice is harmless (DESIGN §4)."""

from __future__ import annotations

from sqlalchemy import func, select

from schoolkit import tombstones
from schoolkit.db import Database
from schoolkit.tables import kit_metadata
from schoolkit.tables import tombstones as table


def bury_twice_and_count(database: Database) -> tuple[int, bool, bool]:
    with database.transaction() as session:
        tombstones.bury(session, "person-1", "erasure-1")
    with database.transaction() as session:
        tombstones.bury(session, "person-1", "erasure-2")  # asked again, or a second request
        tombstones.bury(session, "person-1", "erasure-2")
    with database.transaction() as session:
        rows = session.execute(select(func.count()).select_from(table)).scalar_one()
        first = session.execute(select(table.c.erasure_id)).scalar_one() == "erasure-1"
        return rows, first, tombstones.is_erased(session, "person-1", "person-2")


def test_burying_twice_keeps_the_first_tombstone_on_sqlite(sqlite_database: Database) -> None:
    assert bury_twice_and_count(sqlite_database) == (1, True, True)


def test_burying_twice_keeps_the_first_tombstone_on_postgres(postgres_url: str) -> None:
    database = Database(postgres_url)
    kit_metadata.create_all(database.engine)
    try:
        assert bury_twice_and_count(database) == (1, True, True)
    finally:
        database.dispose()
