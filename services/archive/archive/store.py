"""The backup store for database backup sets: a directory, which may be a mounted disk,
and optionally an S3-compatible bucket that holds a second copy (archive/s3.py).

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
from archive.s3 import S3Mirror

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
    """The directory, and the S3 bucket that mirrors it when one is configured."""

    root: Path
    mirror: S3Mirror | None = None

    @classmethod
    def from_env(cls, var_dir: Path) -> DirectoryStore:
        """ARCHIVE_DATABASE_BACKUP_DIR, else `databases/` under the archive's backup dir."""
        configured = os.environ.get("ARCHIVE_DATABASE_BACKUP_DIR")
        root = Path(configured) if configured else backup_dir(var_dir) / "databases"
        return cls(root, S3Mirror.from_env())

    def publish(self, directory: Path) -> None:
        """A verified set goes to the mirror too."""
        if self.mirror is not None:
            self.mirror.upload(directory.parent.name, directory)

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
        """The newest set taken at or before `at` (now, without it), on the disk or, when
        the disk lacks it, fetched from the mirror."""
        local = {p.name for p in self.sets(service)}
        found = [i for i in self.set_ids(service) if at is None or taken_at(i) <= at]
        if not found:
            return None
        if found[-1] not in local:
            return self._fetch(service, found[-1])
        return self.root / service / found[-1]

    def _fetch(self, service: str, set_id: str) -> Path:
        assert self.mirror is not None
        self.discard_partials(service)
        partial = self.partial(service, set_id)
        self.mirror.download(service, set_id, partial)
        return self.finish(partial)

    def set_ids(self, service: str) -> list[str]:
        """The service's complete sets wherever they are (disk, mirror), oldest first:
        what retention and the key store's expiry judge, so no copy escapes them."""
        local = {p.name for p in self.sets(service)}
        remote = set(self.mirror.set_ids(service)) if self.mirror is not None else set()
        return sorted(local | remote)

    def remove(self, service: str, set_id: str) -> None:
        """Remove the set from the disk and from the mirror."""
        shutil.rmtree(self.root / service / set_id, ignore_errors=True)
        if self.mirror is not None:
            self.mirror.remove(service, set_id)
