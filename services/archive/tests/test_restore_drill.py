"""The restore drill on PostgreSQL (issue 18 §4): a service's database is destroyed and
restored from its newest backup set, the erasure ledger is replayed before it takes
traffic, everything from before the backup is back and nobody erased is there."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from archive.dbbackups import Source, back_up
from archive.dbschedule import refresh_gauges
from archive.drill import drill, drill_main, record, residue, restore_main
from archive.dumps import libpq_url
from archive.handlers import build_handlers
from archive.keys import KeyStore
from archive.ledger import entries
from archive.models import Base, Drill
from archive.store import DirectoryStore
from identity.models import Person
from journal.generator import Size, generate
from journal.handlers import HANDLERS as JOURNAL_HANDLERS
from schoolkit.db import Database
from schoolkit.erasure import REQUESTED
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.tables import kit_metadata

MASTER = b"m" * 32
JOURNAL_CATEGORIES = ["enrolments", "marks", "attendance", "audit_values", "final_marks"]
IDENTITY_CATEGORIES = ["account", "sessions", "contacts", "guardianships", "invitations", "profile"]


def archive_catalogue(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'archive.db'}")
    Base.metadata.create_all(database.engine)
    kit_metadata.create_all(database.engine)
    return database


def erasure(school_id: str, student_id: str, categories: list[str]) -> Event:
    data = {
        "erasure_id": str(uuid.uuid4()),
        "subjects": [{"subject_id": student_id, "kind": "student"}],
        "reason": "consent_revoked",
        "categories": [*categories, "backups"],
        "retain": [],
        "deadline": "2026-12-10T23:59:59.000Z",
        "attempt": 1,
    }
    return Event(REQUESTED, data, school_id)


def consent_orders(archive: Database, event: Event) -> None:
    """What the archive's worker does with the request: its ledger keeps it."""
    with archive.transaction() as session:
        build_handlers(KeyStore(MASTER))[REQUESTED](session, event)


def count_naming(url: str, table: str, column: str, person_id: str) -> int:
    with psycopg.connect(libpq_url(url)) as connection:
        row = connection.execute(
            f"SELECT count(*) FROM {table} WHERE {column} = %s",
            (person_id,),
        ).fetchone()
    return int(row[0]) if row else 0


def test_the_journal_comes_back_whole_and_without_the_student_erased_after_the_backup(
    tmp_path: Path, postgres_url: str
) -> None:
    upgrade("journal", postgres_url)
    school = generate(postgres_url, Size.for_students(50), seed=18)
    erased_before, erased_after, kept = [
        s for c in school.class_ids for s in school.students_by_class[c]
    ][:3]
    archive, store = archive_catalogue(tmp_path), DirectoryStore(tmp_path / "backups")
    journal = Database(postgres_url)
    early = erasure(school.school_id, erased_before, JOURNAL_CATEGORIES)
    consent_orders(archive, early)
    with journal.transaction() as session:
        JOURNAL_HANDLERS[REQUESTED](session, early)
    journal.dispose()
    with archive.transaction() as session:
        assert back_up(session, Source("journal", postgres_url), store, MASTER).status == (
            "completed"
        )
    consent_orders(archive, erasure(school.school_id, erased_after, JOURNAL_CATEGORIES))
    marks_of_kept = count_naming(postgres_url, "marks", "student_id", kept)
    assert count_naming(postgres_url, "marks", "student_id", erased_after) > 0
    # The check finds a person who is there: without the replay, this one would be.
    assert residue(postgres_url, {erased_after}).get("marks", 0) > 0

    with archive.transaction() as session:
        live = entries(session)
    report = drill(Source("journal", postgres_url), store, MASTER, live)

    assert report.passed, report
    assert report.missing == {} and report.residue == {}
    assert report.replayed_erasures == 1  # the later one; the backup had buried the first
    assert report.erased_checked == 2
    assert count_naming(postgres_url, "marks", "student_id", erased_after) == 0
    assert count_naming(postgres_url, "marks", "student_id", kept) == marks_of_kept > 0
    assert report.seconds > 0


def test_identity_comes_back_without_the_erased_and_the_drill_is_catalogued(
    tmp_path: Path, postgres_url: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    upgrade("identity", postgres_url)
    school_id = "school-18"
    people = [
        Person(school_id=school_id, kind="student", last_name="Иванова", first_name=f"Ученица {n}")
        for n in range(3)
    ]
    identity = Database(postgres_url)
    with identity.transaction() as session:
        session.add_all(people)
        session.flush()
        ids = [p.id for p in people]
    identity.dispose()
    archive, store = archive_catalogue(tmp_path), DirectoryStore(tmp_path / "backups")
    with archive.transaction() as session:
        back_up(session, Source("identity", postgres_url), store, MASTER)
    consent_orders(archive, erasure(school_id, ids[0], IDENTITY_CATEGORIES))
    with archive.transaction() as session:
        live = entries(session)

    report = drill(Source("identity", postgres_url), store, MASTER, live)
    record(archive, report)

    assert report.passed, report
    assert count_naming(postgres_url, "people", "id", ids[0]) == 0
    assert count_naming(postgres_url, "people", "id", ids[1]) == 1
    with archive.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Drill).where(Drill.passed)) == 1
        refresh_gauges(session)
    labels = {"database": "identity"}
    assert REGISTRY.get_sample_value("database_restore_drill_passed", labels) == 1
    seconds = REGISTRY.get_sample_value("database_restore_drill_seconds", labels)
    assert seconds is not None and seconds > 0


@pytest.mark.parametrize("service", ["diary", "consent", "notify", "archive"])
def test_every_other_service_survives_a_drill_with_an_erasure_to_replay(
    tmp_path: Path, postgres_url: str, service: str
) -> None:
    upgrade(service, postgres_url)
    archive, store = archive_catalogue(tmp_path), DirectoryStore(tmp_path / "backups")
    with archive.transaction() as session:
        made = back_up(session, Source(service, postgres_url), store, MASTER)
        assert made.status == "completed", made.failure
    everything = [*JOURNAL_CATEGORIES, *IDENTITY_CATEGORIES, "diary", "deliveries"]
    consent_orders(archive, erasure("school-18", str(uuid.uuid4()), everything))
    with archive.transaction() as session:
        live = entries(session)

    report = drill(Source(service, postgres_url), store, MASTER, live)

    assert report.passed, report
    assert report.replayed_erasures == 1


def test_a_restore_at_a_time_without_its_offset_is_refused(capsys) -> None:  # type: ignore[no-untyped-def]
    assert restore_main(["--service", "journal", "--at", "2026-12-07T21:00:00"]) == 2
    assert "offset" in capsys.readouterr().err


def test_a_drill_without_any_backup_fails_and_says_why(
    tmp_path: Path, postgres_url: str, monkeypatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ARCHIVE_DATABASE_BACKUP_DIR", str(tmp_path / "empty-disk"))
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", f"sqlite:///{tmp_path / 'archive.db'}")
    archive_catalogue(tmp_path).dispose()
    assert drill_main(["--service", "journal", "--database-url", postgres_url]) == 1
    assert "there is no backup set of journal" in capsys.readouterr().out


def test_a_drill_is_never_pointed_at_the_live_database_by_default() -> None:
    with pytest.raises(SystemExit):
        drill_main(["--service", "journal"])
