"""Tombstones: burying is one statement, burying twice is harmless (DESIGN §4), and a
tombstone counts only in the school whose erasure wrote it (§4 6a)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy import Column, DateTime, MetaData, String, Table, func, insert, select

from schoolkit import tombstones
from schoolkit.consumer import _claim_and_find_erased
from schoolkit.db import Database
from schoolkit.errors import ApiError
from schoolkit.events import Event
from schoolkit.tables import kit_metadata, scope_tombstones_by_school
from schoolkit.tables import tombstones as table

SCHOOL_1, SCHOOL_2 = "school-1", "school-2"


def bury_twice_and_count(database: Database) -> tuple[int, bool, bool]:
    with database.transaction() as session:
        tombstones.bury(session, "person-1", "erasure-1", SCHOOL_1)
    with database.transaction() as session:
        tombstones.bury(session, "person-1", "erasure-2", SCHOOL_1)  # asked again
        tombstones.bury(session, "person-1", "erasure-2", SCHOOL_1)
    with database.transaction() as session:
        rows = session.execute(select(func.count()).select_from(table)).scalar_one()
        first = session.execute(select(table.c.erasure_id)).scalar_one() == "erasure-1"
        return rows, first, tombstones.is_erased(session, SCHOOL_1, "person-1", "person-2")


def test_burying_twice_keeps_the_first_tombstone_on_sqlite(sqlite_database: Database) -> None:
    assert bury_twice_and_count(sqlite_database) == (1, True, True)


def test_burying_twice_keeps_the_first_tombstone_on_postgres(postgres_url: str) -> None:
    database = Database(postgres_url)
    kit_metadata.create_all(database.engine)
    try:
        assert bury_twice_and_count(database) == (1, True, True)
    finally:
        database.dispose()


def test_a_tombstone_counts_only_in_its_own_school(sqlite_database: Database) -> None:
    with sqlite_database.transaction() as session:
        tombstones.bury(session, "person-1", "erasure-1", SCHOOL_2)
    with sqlite_database.transaction() as session:
        assert tombstones.is_erased(session, SCHOOL_2, "person-1")
        assert not tombstones.is_erased(session, SCHOOL_1, "person-1")
        assert tombstones.erased_among(session, ["person-1", None], SCHOOL_1) == set()
        assert tombstones.erased_pairs(
            session, [("person-1", SCHOOL_1), ("person-1", SCHOOL_2)]
        ) == {("person-1", SCHOOL_2)}


def test_a_tombstone_from_before_schools_counts_in_every_school(
    sqlite_database: Database,
) -> None:
    with sqlite_database.transaction() as session:
        session.execute(insert(table).values(subject_id="person-1", erased_at=datetime.now(UTC)))
    with sqlite_database.transaction() as session:
        assert tombstones.is_erased(session, SCHOOL_1, "person-1")
        assert tombstones.is_erased(session, SCHOOL_2, "person-1")


def test_a_write_naming_a_buried_id_is_answered_as_for_an_unknown_one(
    sqlite_database: Database,
) -> None:
    unknown = ApiError(404, "person_not_found", "No such person.")
    with sqlite_database.transaction() as session:
        tombstones.bury(session, "person-1", "erasure-1", SCHOOL_1)
    with sqlite_database.transaction() as session:
        with pytest.raises(ApiError) as refused:
            tombstones.refuse_erased(session, SCHOOL_1, "person-2", "person-1", not_found=unknown)
        assert refused.value is unknown
        tombstones.refuse_erased(session, SCHOOL_2, "person-1", not_found=unknown)  # passes


def test_deny_list_events_pass_the_tombstones_other_events_do_not() -> None:
    assert tombstones.exempt_from_tombstones("identity.session.revoked")
    assert tombstones.exempt_from_tombstones("identity.account.blocked")
    assert tombstones.exempt_from_tombstones("consent.erasure.requested")
    assert not tombstones.exempt_from_tombstones("identity.account.unblocked")
    assert not tombstones.exempt_from_tombstones("identity.user.registered")


def event_about(subject: str, school_id: str) -> Event:
    return Event("journal.mark.recorded", {}, school_id, subject=subject)


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_consumers_batch_lookup_finds_a_subject_only_in_the_school_that_buried_it(
    dialect: str, sqlite_database: Database, postgres_url: str
) -> None:
    database = sqlite_database if dialect == "sqlite" else Database(postgres_url)
    kit_metadata.create_all(database.engine)
    with database.transaction() as session:
        tombstones.bury(session, "person-1", "erasure-1", SCHOOL_2)
        session.execute(insert(table).values(subject_id="person-old", erased_at=func.now()))
    events = [
        event_about("person-1", SCHOOL_1),
        event_about("person-1", SCHOOL_2),
        event_about("person-old", SCHOOL_1),
    ]
    with database.transaction() as session:
        fresh, erased = _claim_and_find_erased(session, events)
    if dialect == "postgresql":
        database.dispose()
    assert fresh == {event.id for event in events}
    assert erased == {("person-1", SCHOOL_2), ("person-old", SCHOOL_1)}


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_the_migration_keeps_old_tombstones_buried_in_every_school(
    dialect: str, sqlite_database: Database, postgres_url: str
) -> None:
    database = sqlite_database if dialect == "sqlite" else Database(postgres_url)
    kit_metadata.create_all(database.engine)
    try:
        migrate_an_old_table_and_bury(database)
    finally:
        if dialect == "postgresql":
            database.dispose()


def migrate_an_old_table_and_bury(sqlite_database: Database) -> None:
    old_shape = MetaData()
    Table(
        "tombstones",
        old_shape,
        Column("subject_id", String(64), primary_key=True),
        Column("erasure_id", String(64)),
        Column("erased_at", DateTime(timezone=True), nullable=False),
    )
    table.drop(sqlite_database.engine)
    old_shape.create_all(sqlite_database.engine)
    erasure_id = str(uuid.uuid4())
    with sqlite_database.engine.begin() as connection:
        connection.execute(
            old_shape.tables["tombstones"].insert(),
            {"subject_id": "person-1", "erasure_id": erasure_id, "erased_at": datetime.now(UTC)},
        )
        with Operations.context(MigrationContext.configure(connection)):
            scope_tombstones_by_school()
            scope_tombstones_by_school()  # a database already migrated is left alone
    with sqlite_database.transaction() as session:
        assert tombstones.is_erased(session, SCHOOL_1, "person-1")
        tombstones.bury(session, "person-1", "erasure-2", SCHOOL_2)
    with sqlite_database.transaction() as session:
        rows = session.execute(select(table.c.school_id, table.c.erasure_id)).all()
    assert sorted(rows) == [("*", erasure_id), (SCHOOL_2, "erasure-2")]
