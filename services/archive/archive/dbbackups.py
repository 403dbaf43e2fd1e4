"""Backups of every service's database, and their restore (issue 18; R-ARC-2…4).

Who takes the dump: the archive's worker, as a job of its own (never in a request). It
holds, per service, a connection that can read that service's database (in a deployment
a role with `pg_read_all_data`, nothing more) and treats the dump as opaque bytes: it
seals it, never parses it. That keeps the master key in one process instead of six, and
the catalogue beside the backups it describes. A restore writes into a service's database
and so is an operator's command run with that service's own credentials (`archive-restore`,
README runbook), never something the archive's web or worker process does.

A set is sealed with keys derived from the master key (ARCHIVE_MASTER_KEY), which is
never written beside it. The set's signed manifest is checked, and every file's size and
digest, before a restore writes anything.
"""

from __future__ import annotations

import io
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy.orm import Session

from archive import ledger
from archive.dumps import ToolFailed, dump_format, dumped, restore_into
from archive.manifest import FileEntry, Manifest, check_files, read_manifest, write_manifest
from archive.models import BackupSet
from archive.store import DirectoryStore, new_set_id
from archive.vault import (
    BackupRefused,
    check_stream,
    file_key,
    key_check,
    seal_stream,
    unseal_stream,
)
from schoolkit.db import Database
from schoolkit.events import iso_utc
from schoolkit.migrate import alembic_config, upgrade
from schoolkit.settings import Settings

DATA = "data.zst.gcm"
LEDGER = "ledger.zst.gcm"
SERVICES = ("identity", "journal", "diary", "consent", "notify", "archive")
FAILURE_CHARS = 400
# What fails a backup (recorded, alerted on) rather than the worker's turn.
FAILURES = (ToolFailed, BackupRefused, OSError, psycopg.Error, sqlite3.Error)


@dataclass(frozen=True)
class Source:
    """A service's database as the backup job reaches it."""

    service: str
    url: str


def sources_from_env() -> list[Source]:
    """ARCHIVE_SOURCES (default: all six); each URL from ARCHIVE_SOURCE_<SERVICE>_URL,
    else `<SERVICE>_DATABASE_URL` (a local run), else the service's SQLite file."""
    names = os.environ.get("ARCHIVE_SOURCES") or ",".join(SERVICES)
    return [source_of(name.strip()) for name in names.split(",") if name.strip()]


def source_of(service: str) -> Source:
    if service == "archive":
        return Source(service, Settings.from_env(service).database_url)
    own = os.environ.get(f"ARCHIVE_SOURCE_{service.upper()}_URL") or os.environ.get(
        f"{service.upper()}_DATABASE_URL"
    )
    # Never the bare DATABASE_URL: in the archive's container that is the archive's own.
    return Source(service, own or f"sqlite:///{Settings.from_env('archive').var_dir / service}.db")


def back_up(
    session: Session, source: Source, store: DirectoryStore, master_key: bytes
) -> BackupSet:
    """Dump, seal, sign, verify and catalogue one backup set of `source`.

    The catalogue row is written in the caller's one transaction with the final status:
    a killed backup leaves no row and only a `.partial-` folder that the next run removes.
    """
    store.discard_partials(source.service)
    set_id = new_set_id()
    row = BackupSet(id=set_id, service=source.service, started_at=datetime.now(UTC))
    partial = store.partial(source.service, set_id)
    try:
        manifest = _write_set(session, source, partial, set_id, master_key)
        final = store.finish(partial)
        verify_set(final, master_key)
        store.publish(final)
    except (*FAILURES, BotoCoreError, ClientError) as error:
        store.discard_partials(source.service)
        row.status, row.failure = "failed", _short(error)
    else:
        row.status, row.verified_ok = "completed", True
        row.size_bytes = sum(entry.size for entry in manifest.files)
        row.ledger_position, row.schema_revision = (
            manifest.ledger_position,
            manifest.schema_revision,
        )
        row.verified_at = datetime.now(UTC)
    row.finished_at = datetime.now(UTC)
    session.add(row)
    return row


def _write_set(
    session: Session, source: Source, folder: Path, set_id: str, master_key: bytes
) -> Manifest:
    salt = os.urandom(16)
    created_at = iso_utc(datetime.now(UTC))
    position = ledger.position(session)
    with dumped(source.url) as (stream, snapshot):
        data = seal_stream(stream, folder / DATA, file_key(master_key, salt, set_id, DATA))
    # The ledger travels with every set: restoring the archive itself needs it too.
    ledger_copy = io.BytesIO(ledger.to_lines(ledger.entries(session)))
    kept = seal_stream(ledger_copy, folder / LEDGER, file_key(master_key, salt, set_id, LEDGER))
    manifest = Manifest(
        set_id=set_id,
        service=source.service,
        created_at=created_at,
        dump_format=dump_format(source.url),
        schema_revision=snapshot.schema_revision,
        ledger_position=position,
        salt=salt.hex(),
        key_check=key_check(master_key, salt),
        files=(FileEntry(DATA, data.size, data.sha256), FileEntry(LEDGER, kept.size, kept.sha256)),
        row_counts=snapshot.row_counts,
    )
    write_manifest(folder, manifest, master_key)
    return manifest


def _short(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:FAILURE_CHARS]


def verify_set(directory: Path, master_key: bytes) -> Manifest:
    """Signature, every file's size and digest, and every chunk opened: BackupRefused
    says what is wrong."""
    manifest = read_manifest(directory, master_key)
    check_files(directory, manifest)
    for entry in manifest.files:
        check_stream(directory / entry.name, _key(master_key, manifest, entry.name))
    return manifest


def _key(master_key: bytes, manifest: Manifest, name: str) -> bytes:
    return file_key(master_key, manifest.salt_bytes, manifest.set_id, name)


@dataclass(frozen=True)
class Restored:
    set_id: str
    taken_at: str
    manifest: Manifest
    seconds: float


def usable_set(service: str, url: str, directory: Path | None, master_key: bytes) -> Manifest:
    """The set's manifest once everything a restore needs holds; BackupRefused before
    anything is written otherwise."""
    if directory is None:
        raise BackupRefused(f"there is no backup set of {service} in the store")
    manifest = read_manifest(directory, master_key)
    if manifest.service != service:
        raise BackupRefused(f"backup set {manifest.set_id} is of {manifest.service}, not {service}")
    if manifest.dump_format != dump_format(url):
        raise BackupRefused(
            f"backup set {manifest.set_id} is a {manifest.dump_format} dump; "
            f"the target database is {dump_format(url)}"
        )
    check_files(directory, manifest)
    _refuse_newer_schema(service, url, manifest)
    return manifest


def _refuse_newer_schema(service: str, url: str, manifest: Manifest) -> None:
    if manifest.schema_revision is None:
        return
    script = ScriptDirectory.from_config(alembic_config(service, url))
    try:
        known = script.get_revision(manifest.schema_revision)
    except (RevisionError, CommandError):
        known = None
    if known is None:
        raise BackupRefused(
            f"backup set {manifest.set_id} is of schema revision {manifest.schema_revision}, "
            f"newer than this code knows (head {script.get_current_head()}): "
            "restore it with the release that made it"
        )


def put_back(url: str, directory: Path, manifest: Manifest, master_key: bytes) -> None:
    """Replace the database with the set's dump, streaming (one transaction on PostgreSQL)."""
    key = _key(master_key, manifest, DATA)
    restore_into(url, lambda sink: unseal_stream(directory / DATA, key, sink))


def ledger_copy(directory: Path, manifest: Manifest, master_key: bytes) -> list[ledger.Entry]:
    sink = io.BytesIO()
    unseal_stream(directory / LEDGER, _key(master_key, manifest, LEDGER), sink)
    return ledger.from_lines(sink.getvalue())


def newest_ledger_copy(store: DirectoryStore, master_key: bytes) -> list[ledger.Entry]:
    """The longest ledger among the newest set of every service: the archive restores
    its own database with it, when the live ledger went down with that database."""
    best: list[ledger.Entry] = []
    for service in SERVICES:
        directory = store.latest(service)
        if directory is None:
            continue
        try:
            manifest = read_manifest(directory, master_key)
            check_files(directory, manifest)
            copy = ledger_copy(directory, manifest, master_key)
        except BackupRefused:
            continue
        if len(copy) > len(best):
            best = copy
    return best


@dataclass(frozen=True)
class RestoreReport:
    service: str
    set_id: str
    taken_at: str
    replayed_erasures: int
    seconds: float


def restore(
    service: str,
    url: str,
    store: DirectoryStore,
    master_key: bytes,
    *,
    live_ledger: Iterable[ledger.Entry] = (),
    at: datetime | None = None,
) -> RestoreReport:
    """Restore the newest set (at or before `at`), migrate it, replay the erasure ledger:
    only then may the service take traffic."""
    started = time.perf_counter()
    directory = store.latest(service, at)
    manifest = usable_set(service, url, directory, master_key)
    assert directory is not None
    put_back(url, directory, manifest, master_key)
    replayed = bring_forward(service, url, store, master_key, live_ledger)
    return RestoreReport(
        service, manifest.set_id, manifest.created_at, replayed, time.perf_counter() - started
    )


def bring_forward(
    service: str,
    url: str,
    store: DirectoryStore,
    master_key: bytes,
    live_ledger: Iterable[ledger.Entry],
) -> int:
    """Migrate the restored database to this code's schema and replay the ledger: the
    live one merged with the newest sealed copy, which outlives the archive's database."""
    entries = ledger.merged(newest_ledger_copy(store, master_key), live_ledger)
    return bring_forward_entries(service, url, entries, master_key)


def bring_forward_entries(
    service: str, url: str, entries: Iterable[ledger.Entry], master_key: bytes
) -> int:
    upgrade(service, url)
    database = Database(url)
    try:
        return ledger.replay(service, database, entries, master_key)
    finally:
        database.dispose()
