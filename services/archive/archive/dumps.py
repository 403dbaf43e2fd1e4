"""Taking a service's database out and putting it back, with the standard tools.

PostgreSQL: `pg_dump -Fc` inside an exported snapshot, so the row counts and the schema
revision in the manifest are those of the very data dumped; `pg_restore` in a single
transaction, so a failed restore leaves nothing half-written. SQLite (the local default):
the online backup API, which copies a consistent database while the service writes.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import psycopg
from psycopg import sql

POSTGRES = "postgresql-custom"
SQLITE = "sqlite"
STDERR_TAIL = 600


class ToolFailed(Exception):
    """pg_dump or pg_restore failed; what it said is in the message."""


@dataclass
class Snapshot:
    """What the manifest says of the dumped data, read in the dump's own snapshot."""

    row_counts: dict[str, int] = field(default_factory=dict)
    schema_revision: str | None = None


def dump_format(url: str) -> str:
    return SQLITE if url.startswith("sqlite") else POSTGRES


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as pg_dump and psycopg read it."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgresql") else url


def sqlite_path(url: str) -> Path:
    return Path(url.split(":///", 1)[1])


@contextmanager
def dumped(url: str) -> Iterator[tuple[BinaryIO, Snapshot]]:
    """The database's dump as a stream to read, with its snapshot's counts and revision."""
    if dump_format(url) == SQLITE:
        with _sqlite_dump(sqlite_path(url)) as dump:
            yield dump
    else:
        with _postgres_dump(libpq_url(url)) as dump:
            yield dump


@contextmanager
def _postgres_dump(url: str) -> Iterator[tuple[BinaryIO, Snapshot]]:
    with psycopg.connect(url) as connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        row = connection.execute("SELECT pg_export_snapshot()").fetchone()
        assert row is not None
        snapshot = Snapshot(_postgres_counts(connection), _postgres_revision(connection))
        # -Z0: zstandard compresses it afterwards, better and faster than pg_dump's gzip.
        command = ["pg_dump", "-Fc", "-Z0", f"--snapshot={row[0]}", "--no-owner", "-d", url]
        with _tool(command, stdout=subprocess.PIPE) as (process, _):
            assert process.stdout is not None
            yield process.stdout, snapshot
        connection.rollback()


def _postgres_counts(connection: psycopg.Connection) -> dict[str, int]:  # type: ignore[type-arg]
    tables = connection.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    ).fetchall()
    counts = {}
    for (table,) in tables:
        query = sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))
        found = connection.execute(query).fetchone()
        counts[table] = int(found[0]) if found else 0
    return counts


def _postgres_revision(connection: psycopg.Connection) -> str | None:  # type: ignore[type-arg]
    exists = connection.execute("SELECT to_regclass('public.alembic_version')").fetchone()
    if not exists or exists[0] is None:
        return None
    found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    return str(found[0]) if found else None


@contextmanager
def _sqlite_dump(path: Path) -> Iterator[tuple[BinaryIO, Snapshot]]:
    # The copy is plaintext for the moment it takes to seal it: a private temporary
    # directory, removed at once, never the backup store.
    if not path.is_file():
        # sqlite3 would create an empty database: a service that never ran has nothing.
        raise FileNotFoundError(f"no database at {path.name}")
    with tempfile.TemporaryDirectory(prefix="archive-dump-") as private:
        copy = Path(private) / "copy.db"
        source, target = sqlite3.connect(f"file:{path}?mode=ro", uri=True), sqlite3.connect(copy)
        try:
            source.backup(target)
            snapshot = Snapshot(_sqlite_counts(target), _sqlite_revision(target))
        finally:
            source.close()
            target.close()
        with copy.open("rb") as stream:
            yield stream, snapshot


def _sqlite_counts(connection: sqlite3.Connection) -> dict[str, int]:
    names = connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).fetchall()
    return {
        name: int(connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0])
        for (name,) in names
    }


def _sqlite_revision(connection: sqlite3.Connection) -> str | None:
    try:
        found = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:
        return None
    return str(found[0]) if found else None


def row_counts(url: str) -> dict[str, int]:
    """Every table's rows now: what a drill compares with the manifest's counts."""
    if dump_format(url) == SQLITE:
        with sqlite3.connect(sqlite_path(url)) as connection:
            return _sqlite_counts(connection)
    with psycopg.connect(libpq_url(url)) as connection:
        return _postgres_counts(connection)


def restore_into(url: str, feed: Callable[[BinaryIO], None]) -> None:
    """Replace the database at `url` with what `feed` writes (the dump, streaming)."""
    if dump_format(url) == SQLITE:
        _restore_sqlite(sqlite_path(url), feed)
    else:
        _restore_postgres(libpq_url(url), feed)


def _restore_postgres(url: str, feed: Callable[[BinaryIO], None]) -> None:
    command = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges"]
    command += ["--single-transaction", "--exit-on-error", "-d", url]
    with _tool(command, stdin=subprocess.PIPE) as (process, _):
        assert process.stdin is not None
        try:
            feed(process.stdin)
        finally:
            process.stdin.close()


def _restore_sqlite(path: Path, feed: Callable[[BinaryIO], None]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    incoming = path.with_name(path.name + ".restoring")
    with incoming.open("wb") as target:
        feed(target)
    for companion in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        companion.unlink(missing_ok=True)
    os.replace(incoming, path)  # atomic: the old file or the whole new one, never half


@contextmanager
def _tool(command: list[str], **pipes: int) -> Iterator[tuple[subprocess.Popen[bytes], BinaryIO]]:
    """Run pg_dump or pg_restore; its stderr goes to a file (a pipe could fill and stall)."""
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, stderr=errors, **pipes)  # noqa: S603 - fixed tools
        try:
            yield process, errors  # type: ignore[misc]
        except BaseException:
            process.kill()
            process.wait()
            raise
        if process.wait() != 0:
            errors.seek(0)
            said = errors.read().decode(errors="replace")[-STDERR_TAIL:]
            raise ToolFailed(f"{command[0]} failed ({process.returncode}): {said}")
