"""Backups happen on their own, once per interval per school (R-ARC-2)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from prometheus_client import REGISTRY
from sqlalchemy import select

from archive.handlers import build_handlers
from archive.keys import KeyStore
from archive.models import Backup, Base
from archive.schedule import ScheduledBackups
from schoolkit.contracts import load_contracts
from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.settings import project_root
from schoolkit.tables import kit_metadata


def archive_with_one_mark(tmp_path: Path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'archive.db'}")
    Base.metadata.create_all(database.engine)
    kit_metadata.create_all(database.engine)
    example = load_contracts(project_root() / "contracts").example("journal.mark.recorded")
    event = Event("journal.mark.recorded", example["data"], "school-7", subject=example["subject"])
    with database.transaction() as session:
        build_handlers(KeyStore(b"k" * 32))[event.type](session, event)
    return database


def test_a_school_without_a_recent_backup_gets_one_and_then_waits_for_the_interval(
    tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ARCHIVE_BACKUP_DIR", str(tmp_path / "external-drive"))
    database = archive_with_one_mark(tmp_path)
    scheduled = ScheduledBackups(tmp_path, interval=timedelta(hours=24))
    scheduled(database)
    scheduled(database)
    with database.transaction() as session:
        made = session.scalars(select(Backup)).all()
    assert [(b.school_id, b.kind, b.status) for b in made] == [
        ("school-7", "scheduled", "completed")
    ]
    assert list((tmp_path / "external-drive" / "school-7").glob("*.jsonl.gz"))
    last = REGISTRY.get_sample_value(
        "backup_last_success_timestamp_seconds", {"school_id": "school-7"}
    )
    assert last is not None and last > 0
