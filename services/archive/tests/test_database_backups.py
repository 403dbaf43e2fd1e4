"""Every service's database backed up: sealed, signed, verified, and refused when wrong."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import psycopg
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from archive import dbbackups
from archive.dbbackups import Source, back_up, restore, verify_set
from archive.dbschedule import DatabaseBackups
from archive.drill import backup_main
from archive.dumps import libpq_url
from archive.models import BackupSet, Base
from archive.store import DirectoryStore
from archive.vault import BackupRefused
from schoolkit.db import Database
from schoolkit.migrate import upgrade
from schoolkit.tables import kit_metadata

MASTER = b"m" * 32
OTHER_MASTER = b"o" * 32
MARKER = "a-value-that-must-never-show-in-a-backup-file"


def catalogue(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'catalogue.db'}")
    Base.metadata.create_all(database.engine)
    kit_metadata.create_all(database.engine)
    return database


def notify_on_sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'notify.db'}"
    upgrade("notify", url)
    with sqlite3.connect(url.split(":///", 1)[1]) as connection:
        connection.execute("CREATE TABLE drill_marker (value TEXT)")
        connection.execute("INSERT INTO drill_marker VALUES (?)", (MARKER,))
    return url


def take(tmp_path: Path, source: Source, master: bytes = MASTER) -> tuple[BackupSet, Path]:
    store = DirectoryStore(tmp_path / "external-disk")
    with catalogue(tmp_path).transaction() as session:
        made = back_up(session, source, store, master)
        session.flush()
        session.expunge(made)
    latest = store.latest(source.service)
    assert latest is not None
    return made, latest


def test_a_sqlite_database_is_backed_up_sealed_signed_and_verified(tmp_path: Path) -> None:
    made, folder = take(tmp_path, Source("notify", notify_on_sqlite(tmp_path)))
    assert (made.status, made.verified_ok, made.failure) == ("completed", True, None)
    assert sorted(p.name for p in folder.iterdir()) == [
        "data.zst.gcm",
        "ledger.zst.gcm",
        "manifest.json",
    ]
    for path in folder.iterdir():
        assert MARKER.encode() not in path.read_bytes()
    manifest = verify_set(folder, MASTER)
    assert manifest.row_counts["drill_marker"] == 1
    assert manifest.schema_revision == made.schema_revision is not None
    assert manifest.created_at.endswith("Z")


def test_a_postgres_database_is_dumped_in_one_snapshot_with_its_counts(
    tmp_path: Path, postgres_url: str
) -> None:
    upgrade("journal", postgres_url)
    with psycopg.connect(libpq_url(postgres_url)) as connection:
        connection.execute(
            "INSERT INTO tombstones (subject_id, school_id, erased_at) VALUES ('x', 's', now())"
        )
    made, folder = take(tmp_path, Source("journal", postgres_url))
    assert made.status == "completed", made.failure
    manifest = verify_set(folder, MASTER)
    assert manifest.dump_format == "postgresql-custom"
    assert manifest.row_counts["tombstones"] == 1


def test_a_changed_byte_in_the_data_is_refused(tmp_path: Path) -> None:
    _, folder = take(tmp_path, Source("notify", notify_on_sqlite(tmp_path)))
    data = folder / "data.zst.gcm"
    content = bytearray(data.read_bytes())
    content[len(content) // 2] ^= 0x01
    data.write_bytes(bytes(content))
    with pytest.raises(BackupRefused, match=r"data\.zst\.gcm .* was changed: bad SHA-256"):
        verify_set(folder, MASTER)


def test_a_truncated_file_is_refused(tmp_path: Path) -> None:
    _, folder = take(tmp_path, Source("notify", notify_on_sqlite(tmp_path)))
    data = folder / "data.zst.gcm"
    data.write_bytes(data.read_bytes()[:-100])
    with pytest.raises(BackupRefused, match=r"wrong size .*truncated or changed"):
        verify_set(folder, MASTER)


def test_a_changed_manifest_is_refused_for_its_signature(tmp_path: Path) -> None:
    _, folder = take(tmp_path, Source("notify", notify_on_sqlite(tmp_path)))
    path = folder / "manifest.json"
    signed = json.loads(path.read_text())
    signed["manifest"]["ledger_position"] = 0 if signed["manifest"]["ledger_position"] else 7
    path.write_text(json.dumps(signed))
    with pytest.raises(BackupRefused, match="was changed: bad signature"):
        verify_set(folder, MASTER)


def test_the_wrong_master_key_is_named_as_such(tmp_path: Path) -> None:
    _, folder = take(tmp_path, Source("notify", notify_on_sqlite(tmp_path)))
    with pytest.raises(BackupRefused, match="made with another master key"):
        verify_set(folder, OTHER_MASTER)


def test_a_refused_restore_writes_nothing(tmp_path: Path) -> None:
    url = notify_on_sqlite(tmp_path)
    take(tmp_path, Source("notify", url))
    before = Path(url.split(":///", 1)[1]).read_bytes()
    store = DirectoryStore(tmp_path / "external-disk")
    with pytest.raises(BackupRefused, match="another master key"):
        restore("notify", url, store, OTHER_MASTER)
    assert Path(url.split(":///", 1)[1]).read_bytes() == before


def test_a_backup_of_a_newer_schema_than_the_code_is_refused(tmp_path: Path) -> None:
    url = notify_on_sqlite(tmp_path)
    with sqlite3.connect(url.split(":///", 1)[1]) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999_from_the_future'")
    take(tmp_path, Source("notify", url))
    store = DirectoryStore(tmp_path / "external-disk")
    with pytest.raises(BackupRefused, match="newer than this code knows"):
        restore("notify", url, store, MASTER)


def test_a_killed_backup_leaves_no_set_and_the_next_run_starts_clean(tmp_path: Path) -> None:
    store = DirectoryStore(tmp_path / "external-disk")
    store.partial("notify", "20261207T000000Z-deadbeef")  # what a kill leaves
    assert store.sets("notify") == []
    take(tmp_path, Source("notify", notify_on_sqlite(tmp_path)))
    names = [p.name for p in (tmp_path / "external-disk" / "notify").iterdir()]
    assert len(names) == 1 and not names[0].startswith(".")


def test_a_failed_dump_is_catalogued_as_failed_and_leaves_nothing(tmp_path: Path) -> None:
    missing = "postgresql+psycopg://postgres@127.0.0.1:5432/no_such_database_here"
    made, _ = take_failing(tmp_path, Source("journal", missing))
    assert made.status == "failed" and "no_such_database_here" in (made.failure or "")
    assert DirectoryStore(tmp_path / "external-disk").sets("journal") == []


def take_failing(tmp_path: Path, source: Source) -> tuple[BackupSet, None]:
    store = DirectoryStore(tmp_path / "external-disk")
    database = catalogue(tmp_path)
    with database.transaction() as session:
        back_up(session, source, store, MASTER)
    with database.transaction() as session:
        made = session.scalars(select(BackupSet)).one()
        session.expunge(made)
    return made, None


def test_the_sources_default_to_every_service(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHIVE_SOURCES", raising=False)
    monkeypatch.setenv("ARCHIVE_SOURCE_JOURNAL_URL", "postgresql://backup@db/journal")
    sources = {s.service: s.url for s in dbbackups.sources_from_env()}
    assert set(sources) == set(dbbackups.SERVICES)
    assert sources["journal"] == "postgresql://backup@db/journal"


def test_the_worker_job_backs_up_what_is_due_and_verifies_again_on_its_schedule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARCHIVE_VERIFY_INTERVAL_HOURS", "0")  # every turn, for the test
    database = catalogue(tmp_path)
    store = DirectoryStore(tmp_path / "external-disk")
    job = DatabaseBackups(tmp_path, MASTER, [Source("notify", notify_on_sqlite(tmp_path))], store)
    job(database)
    job(database)
    [folder] = store.sets("notify")
    assert REGISTRY.get_sample_value("database_backup_verification_ok", {"database": "notify"}) == 1
    (folder / "ledger.zst.gcm").write_bytes(b"changed on the external disk")
    job(database)
    with database.transaction() as session:
        [made] = session.scalars(select(BackupSet)).all()
        assert (made.verified_ok, made.status) == (False, "completed")
        assert "ledger.zst.gcm" in (made.failure or "")
    assert REGISTRY.get_sample_value("database_backup_verification_ok", {"database": "notify"}) == 0
    last = REGISTRY.get_sample_value(
        "database_backup_last_success_timestamp_seconds", {"database": "notify"}
    )
    assert last is not None and last > 0


def test_the_responsible_employee_backs_up_on_demand_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalogue(tmp_path).dispose()
    monkeypatch.setenv("ARCHIVE_DATABASE_URL", f"sqlite:///{tmp_path / 'catalogue.db'}")
    monkeypatch.setenv("NOTIFY_DATABASE_URL", notify_on_sqlite(tmp_path))
    monkeypatch.setenv("ARCHIVE_DATABASE_BACKUP_DIR", str(tmp_path / "external-disk"))
    monkeypatch.setenv("ARCHIVE_SOURCES", "notify,journal")
    assert backup_main(["--service", "notify"]) == 0
    # The command's answer is its one line with a set id (a log line may share stdout).
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    [answer] = [line for line in lines if "set_id" in line]
    assert (answer["service"], answer["status"]) == ("notify", "completed")
    assert [p.name for p in DirectoryStore(tmp_path / "external-disk").sets("notify")] == [
        answer["set_id"]
    ]


def test_a_source_never_falls_back_to_the_archives_own_database_url(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://archive@db/archive")  # a container's
    monkeypatch.setenv("SCHOOL_VAR_DIR", str(tmp_path))
    monkeypatch.delenv("DIARY_DATABASE_URL", raising=False)
    monkeypatch.delenv("ARCHIVE_SOURCE_DIARY_URL", raising=False)
    sources = {s.service: s.url for s in dbbackups.sources_from_env()}
    assert sources["diary"] == f"sqlite:///{tmp_path / 'diary.db'}"
    assert sources["archive"] == "postgresql://archive@db/archive"


def test_a_service_that_never_ran_fails_its_backup_and_gets_no_empty_database(
    tmp_path: Path,
) -> None:
    made, _ = take_failing(tmp_path, Source("diary", f"sqlite:///{tmp_path / 'diary.db'}"))
    assert made.status == "failed" and "no database" in (made.failure or "")
    assert not (tmp_path / "diary.db").exists()
