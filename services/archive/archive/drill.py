"""The restore drill (issue 18 §4): destroy, restore, replay, check, and time it; and the
operators' commands around backups.

    archive-backup [--service journal …]     a backup set now, on demand (R-ARC-2)
    archive-drill --service journal
    archive-restore --service journal [--at 2026-12-07T21:00:00+03:00]

A drill destroys the service's database (point it at a drill copy, never at the school's
live database, unless the point is a real restore), restores the newest set, checks that
every table holds the rows it held when the set was taken, replays the erasure ledger and
checks that no person it erased is left in any table (residue 0). Both commands need the
master key and the service's package (its erasure handler) where they run: the repository's
environment (`scripts/install.sh`), as ops run them; README, "Restore runbook".
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.exc import SQLAlchemyError

from archive import ledger
from archive.dbbackups import (
    Source,
    back_up,
    bring_forward_entries,
    newest_ledger_copy,
    put_back,
    restore,
    source_of,
    sources_from_env,
    usable_set,
)
from archive.dumps import SQLITE, ToolFailed, dump_format, libpq_url, row_counts, sqlite_path
from archive.keys import master_key_from_env
from archive.models import Drill
from archive.store import DirectoryStore
from archive.vault import BackupRefused
from schoolkit.db import Database
from schoolkit.settings import Settings

# The ledger and the tombstones: the one place an erased person's opaque id belongs.
LEDGER_TABLES = frozenset({"tombstones", "erasure_ledger", "alembic_version"})


@dataclass
class DrillReport:
    service: str
    set_id: str = ""
    taken_at: str = ""
    passed: bool = False
    seconds: float = 0.0
    restored_rows: int = 0
    missing: dict[str, list[int]] = field(default_factory=dict)  # table: [expected, found]
    replayed_erasures: int = 0
    erased_checked: int = 0
    residue: dict[str, int] = field(default_factory=dict)  # table: rows naming the erased
    failure: str | None = None


def destroy(url: str) -> None:
    """What a lost disk does to the service's database."""
    if dump_format(url) == SQLITE:
        path = sqlite_path(url)
        for gone in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
            gone.unlink(missing_ok=True)
        return
    with psycopg.connect(libpq_url(url), autocommit=True) as connection:
        connection.execute("DROP SCHEMA public CASCADE")
        connection.execute("CREATE SCHEMA public")


def drill(
    source: Source,
    store: DirectoryStore,
    master_key: bytes,
    live_ledger: Sequence[ledger.Entry] = (),
) -> DrillReport:
    """One drill; the set is checked whole before the database is destroyed."""
    report = DrillReport(source.service)
    started = time.perf_counter()
    directory = store.latest(source.service)
    manifest = usable_set(source.service, source.url, directory, master_key)
    assert directory is not None
    report.set_id, report.taken_at = manifest.set_id, manifest.created_at
    destroy(source.url)
    put_back(source.url, directory, manifest, master_key)
    found = row_counts(source.url)
    report.restored_rows = sum(found.values())
    report.missing = {
        table: [expected, found.get(table, 0)]
        for table, expected in manifest.row_counts.items()
        if found.get(table, 0) != expected
    }
    entries = ledger.merged(newest_ledger_copy(store, master_key), live_ledger)
    report.replayed_erasures = bring_forward_entries(
        source.service, source.url, entries, master_key
    )
    report.seconds = time.perf_counter() - started
    erased = _buried(source.url, entries)
    report.erased_checked = len(erased)
    report.residue = residue(source.url, erased)
    report.passed = not report.missing and not report.residue
    return report


def _buried(url: str, entries: Sequence[ledger.Entry]) -> set[str]:
    database = Database(url)
    try:
        return ledger.buried_subjects(database, entries)
    finally:
        database.dispose()


def residue(url: str, erased: set[str]) -> dict[str, int]:
    """Per table, the rows that still name an erased person anywhere in them."""
    if not erased:
        return {}
    if dump_format(url) == SQLITE:
        return _sqlite_residue(sqlite_path(url), erased)
    return _postgres_residue(libpq_url(url), erased)


def _postgres_residue(url: str, erased: set[str]) -> dict[str, int]:
    patterns = [f"%{subject}%" for subject in erased]
    found: dict[str, int] = {}
    with psycopg.connect(url) as connection:
        tables = connection.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ).fetchall()
        for (table,) in tables:
            if table in LEDGER_TABLES:
                continue
            query = sql.SQL("SELECT count(*) FROM {} AS r WHERE r::text LIKE ANY(%s)").format(
                sql.Identifier(table)
            )
            row = connection.execute(query, (patterns,)).fetchone()
            if row and row[0]:
                found[table] = int(row[0])
    return found


def _sqlite_residue(path: Path, erased: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    with sqlite3.connect(path) as connection:
        for table in row_counts(f"sqlite:///{path}"):
            if table in LEDGER_TABLES:
                continue
            rows = connection.execute(f'SELECT * FROM "{table}"')
            naming = sum(1 for row in rows if any(s in str(row) for s in erased))
            if naming:
                found[table] = naming
    return found


def record(catalogue: Database, report: DrillReport) -> None:
    """The drill's verdict in the archive's catalogue, where the worker's gauges read it."""
    with catalogue.transaction() as session:
        session.add(
            Drill(
                service=report.service,
                backup_set_id=report.set_id or None,
                finished_at=datetime.now(UTC),
                passed=report.passed,
                seconds=report.seconds,
                replayed_erasures=report.replayed_erasures,
                residue=sum(report.residue.values()),
                failure=report.failure,
            )
        )


def _live_ledger(catalogue: Database | None) -> list[ledger.Entry]:
    if catalogue is None:
        return []
    try:
        with catalogue.transaction() as session:
            return ledger.entries(session)
    except SQLAlchemyError:
        return []  # the archive's own database is the one lost: its sealed copies serve


def _arguments(argv: Sequence[str] | None, with_time: bool) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--service", required=True)
    if with_time:
        parser.add_argument("--database-url", help="default: the service's own setting")
    else:
        # A drill destroys the database it is given: never by default the live one.
        parser.add_argument("--database-url", required=True, help="a drill copy, destroyed")
    if with_time:
        parser.add_argument("--at", type=datetime.fromisoformat, help="ISO time with offset")
    return parser.parse_args(argv)


def _setup(args: argparse.Namespace) -> tuple[Source, DirectoryStore, Database | None]:
    url = args.database_url or source_of(args.service).url
    archive = Settings.from_env("archive")
    catalogue = None if args.service == "archive" else Database(archive.database_url)
    return Source(args.service, url), DirectoryStore.from_env(archive.var_dir), catalogue


def drill_main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv, with_time=False)
    source, store, catalogue = _setup(args)
    try:
        report = drill(source, store, master_key_from_env(), _live_ledger(catalogue))
    except (BackupRefused, ToolFailed) as failed:
        report = DrillReport(source.service, failure=str(failed))
    print(json.dumps(asdict(report), indent=1))  # noqa: T201 - the command's answer
    if catalogue is not None:
        record(catalogue, report)
    return 0 if report.passed else 1


def restore_main(argv: Sequence[str] | None = None) -> int:
    args = _arguments(argv, with_time=True)
    source, store, catalogue = _setup(args)
    at = args.at
    if at is not None and at.tzinfo is None:
        print("--at needs its offset, e.g. 2026-12-07T21:00:00+03:00", file=sys.stderr)  # noqa: T201
        return 2
    try:
        report = restore(
            source.service,
            source.url,
            store,
            master_key_from_env(),
            live_ledger=_live_ledger(catalogue),
            at=at,
        )
    except BackupRefused as refused:
        print(f"refused, nothing was written: {refused}", file=sys.stderr)  # noqa: T201
        return 1
    except ToolFailed as failed:
        # pg_restore runs in one transaction: what it refused left the database as it was.
        print(f"the restore failed and was rolled back: {failed}", file=sys.stderr)  # noqa: T201
        return 1
    print(json.dumps(asdict(report), indent=1))  # noqa: T201 - the command's answer
    return 0


def backup_main(argv: Sequence[str] | None = None) -> int:
    """Back up now the named databases (every source without --service)."""
    parser = argparse.ArgumentParser(description="Back up services' databases now.")
    parser.add_argument("--service", action="append", default=[])
    args = parser.parse_args(argv)
    archive = Settings.from_env("archive")
    catalogue, store = Database(archive.database_url), DirectoryStore.from_env(archive.var_dir)
    chosen = [s for s in sources_from_env() if not args.service or s.service in args.service]
    master_key, failed = master_key_from_env(), False
    for source in chosen:
        with catalogue.transaction() as session:
            made = back_up(session, source, store, master_key)
            answer = {"service": source.service, "set_id": made.id, "status": made.status}
            answer |= {"size_bytes": made.size_bytes, "failure": made.failure}
        print(json.dumps(answer))  # noqa: T201 - the command's answer
        failed = failed or answer["status"] != "completed"
    return 1 if failed else 0
