"""Publishing many events at once: one insert, every event validated, all or none stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from schoolkit.contracts import ContractViolation
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.outbox import default_contracts, publish_many
from schoolkit.tables import kit_metadata, outbox


@pytest.fixture
def database(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'outbox.db'}")
    kit_metadata.create_all(database.engine)
    return database


def lesson_changed(slot: int) -> Event:
    example = default_contracts().example("journal.lesson.changed")
    return Event(
        type="journal.lesson.changed",
        data={**example["data"], "slot": slot},
        school_id=example["school_id"],
    )


def stored(database: Database) -> list[dict]:
    with database.transaction() as session:
        bodies = session.execute(select(outbox.c.body).order_by(outbox.c.id)).scalars()
        return [json.loads(body) for body in bodies]


def test_many_events_are_stored_in_their_order_each_with_its_own_id(database: Database) -> None:
    events = [lesson_changed(slot) for slot in (1, 2, 3)]
    with database.transaction() as session:
        publish_many(session, events)
    envelopes = stored(database)
    assert [e["data"]["slot"] for e in envelopes] == [1, 2, 3]
    assert [e["id"] for e in envelopes] == [event.id for event in events]


def test_one_event_breaking_its_contract_stores_none_of_them(database: Database) -> None:
    broken = lesson_changed(4)
    broken.data["slot"] = "fourth"
    with pytest.raises(ContractViolation), database.transaction() as session:
        publish_many(session, [lesson_changed(1), broken])
    assert stored(database) == []
