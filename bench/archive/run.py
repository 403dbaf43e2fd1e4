"""bench/archive: backing up, restoring and drilling the journal's year (issue 18, Speed).

1. The journal's generated year (1,000 students by default) in a fresh PostgreSQL database.
2. Backup: `pg_dump -Fc | zstd` to a file (bare) against the archive's backup set of the
   same database (pg_dump in a snapshot, zstandard, AES-GCM chunks, signed manifest,
   verification of every chunk): rates and ratio (target >= 0.7).
3. Restore: `zstd -dc | pg_restore` into an empty database (bare) against the archive's
   restore (checks, pg_restore in one transaction, migrations, the ledger replayed with
   one erasure of a student of the year): ratio (target >= 0.5).
4. The drill of every service (destroy, restore, count rows, replay, residue): seconds.

No timed assertions: it prints what it measured. Run: `.venv/bin/python bench/archive/run.py`
(option: --students for a quicker run).
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from archive.dbbackups import SERVICES, Source, back_up, restore
from archive.drill import drill
from archive.dumps import libpq_url
from archive.handlers import build_handlers
from archive.keys import KeyStore
from archive.ledger import Entry, entries
from archive.models import Base
from archive.store import DirectoryStore
from journal.generator import Size, generate
from schoolkit.db import Database
from schoolkit.erasure import REQUESTED
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.tables import kit_metadata
from schoolkit.testing import create_database, drop_database, require_postgres

MASTER = b"b" * 32
JOURNAL_CATEGORIES = ["enrolments", "marks", "attendance", "audit_values", "final_marks"]


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def bare_dump(url: str, target: Path) -> None:
    command = f"pg_dump -Fc -d '{libpq_url(url)}' | zstd -q -3 -o '{target}'"
    subprocess.run(command, shell=True, check=True)  # noqa: S602 - fixed bench command


def bare_restore(source: Path, url: str) -> None:
    command = f"zstd -dc '{source}' | pg_restore --no-owner -d '{libpq_url(url)}'"
    subprocess.run(command, shell=True, check=True)  # noqa: S602 - fixed bench command


def catalogue(folder: Path) -> Database:
    database = Database(f"sqlite:///{folder / 'archive.db'}")
    Base.metadata.create_all(database.engine)
    kit_metadata.create_all(database.engine)
    return database


def erase_one(archive: Database, school_id: str, student_id: str) -> None:
    data = {
        "erasure_id": str(uuid.uuid4()),
        "subjects": [{"subject_id": student_id, "kind": "student"}],
        "reason": "consent_revoked",
        "categories": [*JOURNAL_CATEGORIES, "backups"],
        "retain": [],
        "deadline": "2026-12-10T23:59:59.000Z",
        "attempt": 1,
    }
    with archive.transaction() as session:
        build_handlers(KeyStore(MASTER))[REQUESTED](session, Event(REQUESTED, data, school_id))


def line(label: str, value: str) -> None:
    print(f"  {label:<52}{value}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    args = parser.parse_args()
    require_postgres()
    journal = create_database("bench_archive")
    scratch: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-archive-") as folder:
            run(Path(folder), journal, args.students, scratch)
    finally:
        for url in [journal, *scratch]:
            drop_database(url)


def run(folder: Path, journal: str, students: int, scratch: list[str]) -> None:
    upgrade("journal", journal)
    school = generate(journal, Size.for_students(students), seed=7)
    print(f"archive benchmark, 2 cores: the journal's year of {students} students")
    archive, store = catalogue(folder), DirectoryStore(folder / "store")

    bare_backup = timed(lambda: bare_dump(journal, folder / "bare.dump.zst"))
    with archive.transaction() as session:
        ours_backup = timed(lambda: back_up(session, Source("journal", journal), store, MASTER))
    size = sum(p.stat().st_size for p in store.sets("journal")[-1].iterdir())
    line("backup: pg_dump -Fc | zstd", f"{bare_backup:8.2f} s")
    line(
        "backup: archive set (sealed, signed, verified)",
        f"{ours_backup:8.2f} s  {size / 1e6:.1f} MB",
    )
    line("backup ratio (bare time / ours, target >= 0.7)", f"{bare_backup / ours_backup:8.2f}")

    erase_one(archive, school.school_id, school.students_by_class[school.class_ids[0]][0])
    with archive.transaction() as session:
        live = entries(session)
    bare_target, ours_target = create_database("bench_bare"), create_database("bench_ours")
    scratch += [bare_target, ours_target]
    bare = timed(lambda: bare_restore(folder / "bare.dump.zst", bare_target))
    ours = timed(lambda: restore("journal", ours_target, store, MASTER, live_ledger=live))
    line("restore: zstd -dc | pg_restore", f"{bare:8.2f} s")
    line("restore: archive (checks, restore, migrate, replay)", f"{ours:8.2f} s")
    line("restore ratio (bare time / ours, target >= 0.5)", f"{bare / ours:8.2f}")

    for service in SERVICES:
        seconds = drill_seconds(service, journal, archive, store, live=live, scratch=scratch)
        line(f"drill: {service}", seconds)


def drill_seconds(
    service: str,
    journal: str,
    archive: Database,
    store: DirectoryStore,
    *,
    live: list[Entry],
    scratch: list[str],
) -> str:
    url = journal
    if service != "journal":
        url = create_database(f"bench_{service}")
        scratch.append(url)
        upgrade(service, url)
        with archive.transaction() as session:
            back_up(session, Source(service, url), store, MASTER)
    report = drill(Source(service, url), store, MASTER, live)
    verdict = "passed" if report.passed else f"FAILED {report.missing} {report.residue}"
    return f"{report.seconds:8.2f} s  {verdict}, {report.restored_rows} rows"


if __name__ == "__main__":
    main()
