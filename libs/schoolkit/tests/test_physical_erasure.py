"""Erased values leave the files (audit issue 14 item 3): deleting a row is not enough.

Each test first shows the defect — after the erasure, and on PostgreSQL even after a plain
VACUUM and a CHECKPOINT, the raw files still hold the values — then runs the
housekeeping's purge and reads every file of the database and its WAL again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import Column, MetaData, String, Table, delete, insert, select, text, update
from sqlalchemy.orm import Session

from schoolkit import tombstones
from schoolkit.db import Database
from schoolkit.erasure import ErasureOutcome, ErasureRequest, erasure_handler
from schoolkit.events import Event
from schoolkit.housekeeping import Housekeeper, PurgeSettings, watch_statements, watching
from schoolkit.outbox import publish
from schoolkit.parking import ParkingLot
from schoolkit.settings import project_root
from schoolkit.tables import kit_metadata, outbox
from schoolkit.testing import (
    Bus,
    create_database,
    drop_database,
    files_holding,
    postgres_checkpoint,
    postgres_database_files,
    postgres_wal_files,
    require_postgres,
    sqlite_files,
)

metadata = MetaData()
people = Table(
    "people",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("last_name", String(200), nullable=False),
    Column("email", String(200), nullable=False, unique=True),
    Column("phone", String(40), nullable=False),
)


def unique_values() -> dict[str, str]:
    tag = uuid.uuid4().hex[:10]
    return {
        "last_name": f"Остаточная-{tag}",
        "email": f"residue.{tag}@example.org",
        "phone": f"+7999{int(tag, 16) % 10**7:07d}",
        "old_phone": f"+7888{int(tag, 16) % 10**7:07d}",
    }


def request_for(person_id: str) -> Event:
    example = project_root() / "contracts/examples/consent.erasure.requested.v1.json"
    envelope = json.loads(example.read_text(encoding="utf-8"))
    envelope["id"] = str(uuid.uuid4())
    envelope["data"]["subjects"] = [{"subject_id": person_id, "kind": "guardian"}]
    return Event.from_dict(envelope)


def erase_people(session: Session, request: ErasureRequest) -> ErasureOutcome:
    outcome = ErasureOutcome()
    gone = session.execute(delete(people).where(people.c.id.in_(request.subject_ids)))
    outcome.count("contacts", gone.rowcount)
    return outcome


def a_person_with_history(database: Database, values: dict[str, str]) -> str:
    """A person, a changed phone (an old row version) and a sent event naming them."""
    person_id = str(uuid.uuid4())
    with database.transaction() as session:
        row = {key: values[key] for key in ("last_name", "email")}
        session.execute(insert(people).values(id=person_id, phone=values["old_phone"], **row))
    with database.transaction() as session:
        session.execute(update(people).values(phone=values["phone"]))
        contact = {
            "person_id": person_id,
            "email": values["email"],
            "preferred_language": "ru",
            "entity_version": 2,
        }
        changed = Event("identity.contact.changed", contact, "school-1", subject=person_id)
        publish(session, changed)
    with database.transaction() as session:
        session.execute(delete(outbox))  # the relay deletes what the broker confirmed
    return person_id


def erase(database: Database, housekeeper: Housekeeper, person_id: str) -> None:
    handler = watching(erasure_handler("journal", erase_people), housekeeper)
    with database.transaction() as session:
        handler(session, request_for(person_id))


def purged_events(database: Database, *, envelope: bool = False) -> list[dict]:
    with database.transaction() as session:
        bodies = session.execute(
            select(outbox.c.body).where(outbox.c.event_type == "journal.erasure.purged")
        ).scalars()
        events = [json.loads(body) for body in bodies]
        return events if envelope else [event["data"] for event in events]


# --- PostgreSQL -----------------------------------------------------------------------


@pytest.fixture
def postgres_database() -> Iterator[Database]:
    require_postgres()
    url = create_database("residue")
    database = Database(url)
    kit_metadata.create_all(database.engine)
    metadata.create_all(database.engine)
    watch_statements(database)
    try:
        yield database
    finally:
        database.dispose()
        drop_database(url)


def postgres_files_of(database: Database) -> list[Path]:
    url = database.engine.url.render_as_string(hide_password=False)
    return postgres_database_files(url) + postgres_wal_files()


def test_on_postgresql_the_purge_rewrites_the_touched_tables_and_the_wal(
    postgres_database: Database,
) -> None:
    values = unique_values()
    housekeeper = Housekeeper("journal", postgres_database, PurgeSettings(at=None))
    person_id = a_person_with_history(postgres_database, values)
    postgres_checkpoint()
    # The scan works: before the erasure every value is in the files, as plain UTF-8.
    assert found(postgres_files_of(postgres_database), values) == set(values.values())

    erase(postgres_database, housekeeper, person_id)
    _plain_vacuum(postgres_database)
    postgres_checkpoint()
    # The defect: deleted, vacuumed and checkpointed, and still in the table and the WAL.
    left = files_holding(postgres_database_files(_url(postgres_database)), list(values.values()))
    assert left, "a plain VACUUM no longer leaves the bytes: the test lost its point"

    purge = housekeeper.run()

    assert purge.complete, purge.method
    assert {"people", "outbox"} <= set(purge.tables)
    assert files_holding(postgres_files_of(postgres_database), list(values.values())) == {}
    [purged] = purged_events(postgres_database)
    assert purged["store"] == "postgresql"
    assert "VACUUM FULL" in purged["method"] and "people" in purged["method"]
    assert "pg_switch_wal" in purged["method"]
    assert not housekeeper.pending


def test_the_postgresql_rewrite_waits_for_the_schools_quiet_hour(
    postgres_database: Database,
) -> None:
    housekeeper = Housekeeper("journal", postgres_database, PurgeSettings(at=time(3, 0)))
    erase(postgres_database, housekeeper, a_person_with_history(postgres_database, unique_values()))
    noon = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)  # 12:00 in Moscow
    night = datetime(2026, 12, 7, 0, 30, tzinfo=UTC)  # 03:30 in Moscow

    assert housekeeper.run_if_due(noon) is None
    assert housekeeper.pending
    done = housekeeper.run_if_due(night)
    assert done is not None and done.complete
    assert not housekeeper.pending


def _url(database: Database) -> str:
    return database.engine.url.render_as_string(hide_password=False)


def _plain_vacuum(database: Database) -> None:
    autocommit = database.engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as connection:
        connection.execute(text("VACUUM people"))
        connection.execute(text("VACUUM outbox"))


def found(files: list[Path], values: dict[str, str]) -> set[str]:
    return {
        value for held in files_holding(files, list(values.values())).values() for value in held
    }


# --- SQLite ---------------------------------------------------------------------------


def test_on_sqlite_the_purge_truncates_the_wal_that_kept_the_erased_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    database = Database(url)
    kit_metadata.create_all(database.engine)
    metadata.create_all(database.engine)
    watch_statements(database)
    values = unique_values()
    housekeeper = Housekeeper("journal", database, PurgeSettings(immediate=True))
    person_id = a_person_with_history(database, values)
    assert found(sqlite_files(url), values) == set(values.values())

    erase(database, housekeeper, person_id)
    # The defect: secure_delete zeroes the new page versions, the WAL keeps the old ones.
    assert files_holding(sqlite_files(url), list(values.values()))

    purge = housekeeper.run_if_due()

    assert purge is not None and purge.complete
    assert files_holding(sqlite_files(url), list(values.values())) == {}
    [purged] = purged_events(database)
    assert purged["store"] == "sqlite"
    assert "secure_delete" in purged["method"] and "wal_checkpoint(TRUNCATE)" in purged["method"]
    database.dispose()


def test_after_a_restart_the_erasures_of_the_last_days_are_purged_again(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'journal.db'}")
    kit_metadata.create_all(database.engine)
    erasure_id = "b8ceee8f-943c-551d-8cb2-3a072c895e2a"
    with database.transaction() as session:
        tombstones.bury(session, str(uuid.uuid4()), erasure_id, "school-254")
    housekeeper = Housekeeper("journal", database, PurgeSettings(immediate=True))

    housekeeper.recall_recent()
    purge = housekeeper.run_if_due()

    assert purge is not None and purge.complete
    [event] = purged_events(database, envelope=True)
    assert event["data"]["erasure_id"] == erasure_id
    assert event["school_id"] == "school-254"  # the tombstone's school: consent's own act
    assert housekeeper.run_if_due() is None  # reported once, then forgotten
    database.dispose()


# --- the parking queue ----------------------------------------------------------------


def test_the_purge_discards_parked_messages_about_the_erased_and_keeps_the_rest(
    tmp_path: Path, bus: Bus
) -> None:
    """A parked body keeps a name on the broker's disk for as long as nobody looks at it."""
    url = f"sqlite:///{tmp_path / 'journal.db'}"
    database = Database(url)
    kit_metadata.create_all(database.engine)
    metadata.create_all(database.engine)
    settings = bus.settings("journal", url)
    lot = ParkingLot(settings.amqp_url, settings.bus_namespace, "journal")
    housekeeper = Housekeeper("journal", database, PurgeSettings(immediate=True), parking=lot)
    erased, kept = str(uuid.uuid4()), str(uuid.uuid4())
    channel = bus.channel()
    channel.queue_declare(lot.queue, durable=True, arguments={"x-queue-type": "quorum"})
    for person, school in ((erased, "school-254"), (kept, "school-254"), (erased, "school-2")):
        contact = {"person_id": person, "email": f"{person}@example.org"}
        envelope = Event("identity.contact.changed", contact, school, subject=person).to_dict()
        channel.basic_publish("", lot.queue, json.dumps(envelope).encode())
    channel.connection.close()

    erase(database, housekeeper, erased)
    purge = housekeeper.run_if_due()

    assert purge is not None and purge.complete
    left = [json.loads(message.body) for message in lot.list()]
    assert sorted((m["subject"], m["school_id"]) for m in left) == sorted(
        [(kept, "school-254"), (erased, "school-2")]  # another school's person is not ours
    )
    [purged] = purged_events(database)
    assert "parking" in purged["method"] and purged["method"].endswith(": 1")
    database.dispose()


def test_a_service_that_never_parked_anything_purges_as_before(bus: Bus) -> None:
    lot = ParkingLot(bus.amqp_url, bus.namespace, "nobody")

    assert lot.purge(lambda _message: True) == []
