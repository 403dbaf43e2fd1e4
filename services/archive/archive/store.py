"""The backup store for database backup sets: a directory, which may be a mounted disk.

    <root>/<service>/<set id>/manifest.json, data.zst.gcm, ledger.zst.gcm

A set is written under `.partial-<set id>` and renamed into place only once its signed
manifest is written: a backup killed half-way leaves no set that anything would read,
and the next run removes what it left.
"""

from __future__ import annotations

import os
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from archive.backups import backup_dir

PARTIAL = ".partial-"
STAMP = "%Y%m%dT%H%M%S%fZ"


def new_set_id(now: datetime | None = None) -> str:
    """Sorts by time, so the newest set is the last name: 20261207T223000123456Z-1a2b3c4d."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment.strftime(STAMP)}-{secrets.token_hex(4)}"


def taken_at(set_id: str) -> datetime:
    return datetime.strptime(set_id.split("-", 1)[0], STAMP).replace(tzinfo=UTC)


@dataclass(frozen=True)
class DirectoryStore:
    root: Path

    @classmethod
    def from_env(cls, var_dir: Path) -> DirectoryStore:
        """ARCHIVE_DATABASE_BACKUP_DIR, else `databases/` under the archive's backup dir."""
        configured = os.environ.get("ARCHIVE_DATABASE_BACKUP_DIR")
        return cls(Path(configured) if configured else backup_dir(var_dir) / "databases")

    def partial(self, service: str, set_id: str) -> Path:
        path = self.root / service / f"{PARTIAL}{set_id}"
        path.mkdir(parents=True)
        return path

    def finish(self, partial: Path) -> Path:
        final = partial.with_name(partial.name.removeprefix(PARTIAL))
        partial.rename(final)
        return final

    def discard_partials(self, service: str) -> int:
        """Remove what killed backups left; returns how many."""
        left = list((self.root / service).glob(f"{PARTIAL}*"))
        for path in left:
            shutil.rmtree(path, ignore_errors=True)
        return len(left)

    def sets(self, service: str) -> list[Path]:
        """The service's complete sets, oldest first."""
        folder = self.root / service
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))

    def latest(self, service: str, at: datetime | None = None) -> Path | None:
        """The newest set taken at or before `at` (now, without it)."""
        found = [p for p in self.sets(service) if at is None or taken_at(p.name) <= at]
        return found[-1] if found else None

    def remove(self, directory: Path) -> None:
        shutil.rmtree(directory)
