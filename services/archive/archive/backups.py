"""Backups of the archive (R-ARC-2…4): files of sealed records, checksummed, restorable.

A backup holds sealed records only, never a key: the keys stay in the archive's key
store, so destroying a person's key (erasure) makes their records unreadable in every
backup ever made. A restore checks the file's SHA-256 first, then puts back only what
can still be opened and is not about an erased person (the erasure ledger is replayed).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.keys import KeyStore, seal, unseal
from archive.models import ArchivedRecord, Backup
from archive.records import context_of
from schoolkit.events import Event, iso_utc
from schoolkit.outbox import publish
from schoolkit.tables import EVERY_SCHOOL
from schoolkit.tables import tombstones as tombstone_table

UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def backup_dir(var_dir: Path) -> Path:
    """ARCHIVE_BACKUP_DIR may be external media (R-ARC-2); var/backups by default."""
    return Path(os.environ.get("ARCHIVE_BACKUP_DIR") or var_dir / "backups")


@dataclass(frozen=True)
class RestoreReport:
    restored: int
    already_present: int
    skipped_erased: int
    skipped_unreadable: int


class BackupBroken(Exception):
    """The file is missing or its checksum does not match the catalogue."""


def request_backup(session: Session, school_id: str) -> Backup:
    """Catalogue an on-demand backup for the worker to write (never inside a request)."""
    backup = Backup(school_id=school_id, kind="on_demand", status="queued", services=[])
    session.add(backup)
    session.flush()
    return backup


def make_backup(session: Session, school_id: str, directory: Path, kind: str) -> Backup:
    """Write every sealed record of the school to a new file and catalogue it."""
    backup = Backup(school_id=school_id, kind=kind, status="running", services=[])
    session.add(backup)
    session.flush()
    return write_backup(session, backup, directory)


def write_backup(session: Session, backup: Backup, directory: Path) -> Backup:
    """Write a catalogued backup's file; the backup ends completed or failed."""
    backup.status = "running"
    try:
        _write(session, backup, directory)
    except OSError as error:
        backup.status = "failed"
        backup.failure = type(error).__name__
        backup.finished_at = datetime.now(UTC)
        publish(session, _failed_event(backup))
        return backup
    backup.status = "completed"
    backup.finished_at = datetime.now(UTC)
    publish(session, _completed_event(backup))
    return backup


def _write(session: Session, backup: Backup, directory: Path) -> None:
    relative = Path(UNSAFE.sub("_", backup.school_id)) / f"{backup.id}.jsonl.gz"
    path = directory / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    records = session.scalars(
        select(ArchivedRecord).where(ArchivedRecord.school_id == backup.school_id)
    )
    count, sources = 0, set()
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(_line(record)) + "\n")
            count += 1
            sources.add(record.source)
    backup.file_name = str(relative)
    backup.sha256 = sha256_of(path)
    backup.size_bytes = path.stat().st_size
    backup.records = count
    backup.services = sorted(sources | {"archive"})


def _line(record: ArchivedRecord) -> dict[str, str]:
    return {
        "id": record.id,
        "event_id": record.event_id,
        "source": record.source,
        "key_id": record.key_id,
        "sealed": base64.b64encode(record.sealed).decode(),
    }


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for chunk in iter(lambda: data.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify(backup: Backup, directory: Path) -> str | None:
    """The file's actual SHA-256, or None when the file is gone."""
    path = directory / (backup.file_name or "")
    return sha256_of(path) if backup.file_name and path.is_file() else None


def restore(session: Session, backup: Backup, directory: Path, keys: KeyStore) -> RestoreReport:
    actual = verify(backup, directory)
    if actual is None or actual != backup.sha256:
        raise BackupBroken("missing" if actual is None else "checksum_mismatch")
    lines = _read(directory / (backup.file_name or ""))
    erased = erased_refs(session, keys, backup.school_id)
    counts = {"restored": 0, "already_present": 0, "skipped_erased": 0, "skipped_unreadable": 0}
    for line in lines:
        counts[_restore_line(session, backup.school_id, line, erased, keys)] += 1
    return RestoreReport(**counts)


def erased_refs(session: Session, keys: KeyStore, school_id: str) -> set[str]:
    """The key references of everyone erased in the school: what a restore skips."""
    buried = session.scalars(
        select(tombstone_table.c.subject_id).where(
            tombstone_table.c.school_id.in_([school_id, EVERY_SCHOOL])
        )
    )
    return {keys.ref(subject_id) for subject_id in buried}


def _read(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as source:
        return [json.loads(line) for line in source]


def _restore_line(
    session: Session, school_id: str, line: dict[str, str], erased: set[str], keys: KeyStore
) -> str:
    # Files written before migration 0006 name the person in clear: filed by reference now.
    legacy = not line["key_id"].startswith("k:")
    ref = keys.ref(line["key_id"]) if legacy else line["key_id"]
    if ref in erased:
        return "skipped_erased"
    key = keys.key_by_ref(session, ref)
    if key is None:
        return "skipped_unreadable"
    if session.get(ArchivedRecord, line["id"]) is not None:
        return "already_present"
    sealed = base64.b64decode(line["sealed"])
    if legacy:
        opened = unseal(key, sealed, context_of(line["id"], line["key_id"]))
        sealed = seal(key, opened, context_of(line["id"], ref))
    session.add(
        ArchivedRecord(
            id=line["id"],
            event_id=line["event_id"],
            school_id=school_id,
            source=line["source"],
            key_id=ref,
            sealed=sealed,
        )
    )
    return "restored"


def _completed_event(backup: Backup) -> Event:
    return Event(
        type="archive.backup.completed",
        school_id=backup.school_id,
        data={
            "backup_id": backup.id,
            "kind": backup.kind,
            "started_at": iso_utc(backup.started_at),
            "completed_at": iso_utc(backup.finished_at),
            "size_bytes": backup.size_bytes or 0,
            "sha256": backup.sha256,
            "services": backup.services,
        },
    )


def _failed_event(backup: Backup) -> Event:
    return Event(
        type="archive.backup.failed",
        school_id=backup.school_id,
        data={
            "backup_id": backup.id,
            "kind": backup.kind,
            "started_at": iso_utc(backup.started_at),
            "failed_at": iso_utc(backup.finished_at),
            "reason": "storage_unavailable",
            "services": ["archive"],
        },
    )
