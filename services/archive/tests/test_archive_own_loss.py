"""The archive survives its own loss (issue 18 §3): its key store and erasure ledger are
backed up like every database, it comes back from its backup and the master key alone,
and a key that an erasure destroyed is gone from every later copy, and from the older
copies once the legal term has passed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import select

from archive.dbbackups import Source, back_up, restore
from archive.dbschedule import expire_key_store_copies
from archive.drill import destroy
from archive.dumps import libpq_url
from archive.handlers import build_handlers
from archive.keys import KeyStore
from archive.models import SubjectKey
from archive.records import read_records
from archive.store import DirectoryStore
from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.erasure import REQUESTED
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.settings import project_root
from schoolkit.testing import create_database, drop_database

MASTER = b"m" * 32
SCHOOL = "school-18"
KEYS = KeyStore(MASTER)


def mark_about(student: str) -> Event:
    example = load_contracts(project_root() / "contracts").example("journal.mark.recorded")
    return Event("journal.mark.recorded", example["data"], SCHOOL, subject=student)


def erasure_of(student: str) -> Event:
    data = {
        "erasure_id": str(uuid.uuid4()),
        "subjects": [{"subject_id": student, "kind": "student"}],
        "reason": "consent_revoked",
        "categories": ["backups"],
        "retain": [],
        "deadline": "2026-12-10T23:59:59.000Z",
        "attempt": 1,
    }
    return Event(REQUESTED, data, SCHOOL)


def deliver(archive: Database, event: Event) -> None:
    with archive.transaction() as session:
        build_handlers(KEYS)[event.type](session, event)


def backup_of(archive: Database, source: Source, store: DirectoryStore) -> str:
    with archive.transaction() as session:
        made = back_up(session, source, store, MASTER)
        assert made.status == "completed", made.failure
        return made.id


def keys_in(url: str) -> set[str]:
    with psycopg.connect(libpq_url(url)) as connection:
        return {row[0] for row in connection.execute("SELECT key_id FROM subject_keys")}


def test_the_archive_comes_back_from_its_backup_and_the_master_key_alone(
    tmp_path: Path, postgres_url: str
) -> None:
    anna, boris = str(uuid.uuid4()), str(uuid.uuid4())
    upgrade("archive", postgres_url)
    archive, store = Database(postgres_url), DirectoryStore(tmp_path / "external-disk")
    deliver(archive, mark_about(anna))
    deliver(archive, mark_about(boris))
    own = Source("archive", postgres_url)
    before_erasure = backup_of(archive, own, store)
    deliver(archive, erasure_of(anna))
    # Any later set carries the ledger, sealed: here the notify database's.
    notify = f"sqlite:///{tmp_path / 'notify.db'}"
    upgrade("notify", notify)
    backup_of(archive, Source("notify", notify), store)
    archive.dispose()

    destroy(postgres_url)
    report = restore("archive", postgres_url, store, MASTER)  # no live ledger: it was lost

    assert report.set_id == before_erasure and report.replayed_erasures == 1
    archive = Database(postgres_url)
    with archive.transaction() as session:
        assert read_records(session, KEYS, anna) == []
        assert len(read_records(session, KEYS, boris)) == 1
        assert session.scalars(select(SubjectKey.key_id)).all() == [KEYS.ref(boris)]
    after_erasure = backup_of(archive, own, store)
    archive.dispose()

    scratch = create_database("archive_copy")
    try:
        restore("archive", scratch, store, MASTER)
        assert keys_in(scratch) == {KEYS.ref(boris)}  # the later copy never held anna's key
    finally:
        drop_database(scratch)

    with Database(postgres_url).transaction() as session:
        later = datetime.now(UTC) + timedelta(days=3, hours=1)
        removed = expire_key_store_copies(session, store, now=later)
    assert removed == [before_erasure]
    assert [p.name for p in store.sets("archive")] == [after_erasure]
