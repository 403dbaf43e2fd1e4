"""Backups cannot be edited, so erasure destroys the person's key (DESIGN §4.6, R-PD-2)."""

from __future__ import annotations

import gzip
import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from archive.backups import BackupBroken, make_backup, restore, verify
from archive.erasure import eraser
from archive.handlers import build_handlers
from archive.keys import KeyStore
from archive.models import ArchivedRecord, Backup, Base
from archive.records import read_records
from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.erasure import ErasureRequest
from schoolkit.events import Event
from schoolkit.settings import project_root
from schoolkit.tables import kit_metadata

SCHOOL = "school-254"
CONTRACTS = load_contracts(project_root() / "contracts")


@pytest.fixture
def keys() -> KeyStore:
    return KeyStore(b"k" * 32)


@pytest.fixture
def database(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'archive.db'}")
    Base.metadata.create_all(database.engine)
    kit_metadata.create_all(database.engine)
    return database


def mark_for(student: str) -> Event:
    data = {**CONTRACTS.example("journal.mark.recorded")["data"], "student_id": student}
    data["mark_id"] = str(uuid.uuid4())
    return Event("journal.mark.recorded", data, SCHOOL, subject=student)


def finals_for(*students: str) -> Event:
    data = CONTRACTS.example("journal.period.finalized")["data"]
    data["finals"] = [{"student_id": s, "scale": "five_point", "value": 5} for s in students]
    return Event("journal.period.finalized", data, SCHOOL)


def erasure_of(student: str) -> Event:
    data = CONTRACTS.example("consent.erasure.requested")["data"]
    data.update(erasure_id=str(uuid.uuid4()), subjects=[{"subject_id": student, "kind": "student"}])
    return Event("consent.erasure.requested", data, SCHOOL)


def apply(database: Database, keys: KeyStore, *events: Event) -> None:
    handlers = build_handlers(keys)
    for event in events:
        CONTRACTS.validate(event.to_dict())
        with database.transaction() as session:
            handlers[event.type](session, event)


def two_children_with_a_backup(
    database: Database, keys: KeyStore, tmp_path: Path
) -> tuple[str, str, Backup]:
    anna, boris = str(uuid.uuid4()), str(uuid.uuid4())
    apply(database, keys, mark_for(anna), mark_for(boris), finals_for(anna, boris))
    with database.transaction() as session:
        backup = make_backup(session, SCHOOL, tmp_path / "backups", "on_demand")
        session.expunge(backup)
    return anna, boris, backup


def test_each_child_reads_back_only_their_own_share_of_a_class_event(
    database: Database, keys: KeyStore, tmp_path: Path
) -> None:
    anna, boris, _ = two_children_with_a_backup(database, keys, tmp_path)
    with database.transaction() as session:
        annas = read_records(session, keys, anna)
    assert [r["type"] for r in annas] == ["journal.mark.recorded", "journal.period.finalized"]
    assert [f["student_id"] for f in annas[1]["data"]["finals"]] == [anna]
    assert boris not in json.dumps(annas)


def test_after_the_erasure_the_backup_still_holds_the_bytes_but_nobody_can_open_them(
    database: Database, keys: KeyStore, tmp_path: Path
) -> None:
    anna, boris, backup = two_children_with_a_backup(database, keys, tmp_path)
    apply(database, keys, erasure_of(anna))

    with gzip.open(tmp_path / "backups" / backup.file_name, "rt") as backup_file:
        lines = [json.loads(line) for line in backup_file]
    # The file is unchanged, and names nobody: only the keys' references.
    assert {line["key_id"] for line in lines} == {keys.ref(anna), keys.ref(boris)}
    assert not {"event_type", "occurred_at"} & set(lines[0])
    with gzip.open(tmp_path / "backups" / backup.file_name) as backup_file:
        raw = backup_file.read()
    assert anna.encode() not in raw and boris.encode() not in raw
    with database.transaction() as session:
        assert keys.existing_key(session, anna) is None
        assert read_records(session, keys, anna) == []
        assert len(read_records(session, keys, boris)) == 2


def test_a_restore_brings_back_what_was_lost_but_never_an_erased_child(
    database: Database, keys: KeyStore, tmp_path: Path
) -> None:
    anna, boris, backup = two_children_with_a_backup(database, keys, tmp_path)
    apply(database, keys, erasure_of(anna))
    with database.transaction() as session:
        session.execute(delete(ArchivedRecord))  # the live store is lost

    with database.transaction() as session:
        report = restore(session, session.merge(backup), tmp_path / "backups", keys)
    assert (report.restored, report.skipped_erased) == (2, 2)
    with database.transaction() as session:
        assert len(read_records(session, keys, boris)) == 2
        assert session.scalars(select(ArchivedRecord.key_id).distinct()).all() == [keys.ref(boris)]


def test_a_tampered_backup_is_detected_and_refused_for_a_restore(
    database: Database, keys: KeyStore, tmp_path: Path
) -> None:
    _, _, backup = two_children_with_a_backup(database, keys, tmp_path)
    path = tmp_path / "backups" / backup.file_name
    path.write_bytes(path.read_bytes() + b"\0")
    assert verify(backup, tmp_path / "backups") != backup.sha256
    with pytest.raises(BackupBroken), database.transaction() as session:
        restore(session, session.merge(backup), tmp_path / "backups", keys)


def test_erasing_twice_confirms_again_with_nothing_left_to_destroy(
    database: Database, keys: KeyStore, tmp_path: Path
) -> None:
    anna, _, _ = two_children_with_a_backup(database, keys, tmp_path)
    erase = eraser(keys)
    counts = []
    for _ in range(2):
        with database.transaction() as session:
            counts.append(erase(session, ErasureRequest.from_event(erasure_of(anna))).counts)
    assert counts == [
        {"subject_keys": 1, "archived_records": 2},
        {"subject_keys": 0, "archived_records": 0},
    ]


def test_a_late_event_about_an_erased_child_inside_a_class_event_is_not_archived(
    database: Database, keys: KeyStore, tmp_path: Path
) -> None:
    anna, boris, _ = two_children_with_a_backup(database, keys, tmp_path)
    apply(database, keys, erasure_of(anna), finals_for(anna, boris))
    with database.transaction() as session:
        assert keys.existing_key(session, anna) is None
        assert (
            session.scalars(
                select(ArchivedRecord).where(ArchivedRecord.key_id == keys.ref(anna))
            ).all()
            == []
        )
