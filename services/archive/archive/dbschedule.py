"""The archive worker's database backup job: back up what is due, verify again what is
old, and keep the gauges that ops alert on (issue 18 §1, §2, §7).

A periodic task of the worker, never an HTTP request. Intervals are hours:
ARCHIVE_DATABASE_BACKUP_INTERVAL_HOURS (24) for every service, overridden per service by
ARCHIVE_DATABASE_BACKUP_INTERVAL_HOURS_<SERVICE> (e.g. 1 for the journal's hourly copy);
ARCHIVE_VERIFY_INTERVAL_HOURS (24) between verifications of a kept set.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import time as clock
from pathlib import Path

from prometheus_client import Gauge
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.dbbackups import Source, back_up, sources_from_env, verify_set
from archive.models import BackupSet, Drill, ErasureLedgerEntry
from archive.retention import Rotation, rotate
from archive.store import DirectoryStore, taken_at
from archive.vault import BackupRefused
from schoolkit.db import Database
from schoolkit.events import as_utc
from schoolkit.times import school_zone

log = logging.getLogger(__name__)

# The label is `database` (the service whose database it is), not `service`: Prometheus
# gives every target of the archive's worker `service="archive"` already.
LAST_SET = Gauge(
    "database_backup_last_success_timestamp_seconds",
    "When the newest completed backup set of a service's database finished (Unix time).",
    ["database"],
)
LAST_VERIFIED = Gauge(
    "database_backup_last_verification_timestamp_seconds",
    "When a backup set of the service was last verified (Unix time).",
    ["database"],
)
VERIFIED_OK = Gauge(
    "database_backup_verification_ok",
    "1 when the service's last verified backup set was intact, 0 when it was refused.",
    ["database"],
)
LAST_DRILL = Gauge(
    "database_restore_drill_last_success_timestamp_seconds",
    "When a restore drill of the service last passed (Unix time).",
    ["database"],
)
DRILL_PASSED = Gauge(
    "database_restore_drill_passed",
    "1 when the service's newest restore drill passed, 0 when it failed.",
    ["database"],
)
DRILL_SECONDS = Gauge(
    "database_restore_drill_seconds",
    "How long the service's newest restore drill took, restore and ledger replay included.",
    ["database"],
)


# Three calendar days never outlast three working days: copies of the key store older
# than this are removed, so a shredded key is gone from every copy within the legal term.
KEY_STORE_KEEP = timedelta(hours=72)
ARCHIVE = "archive"


def _hours(name: str, default: float) -> timedelta:
    return timedelta(hours=float(os.environ.get(name) or default))


def interval_of(service: str) -> timedelta:
    every = _hours("ARCHIVE_DATABASE_BACKUP_INTERVAL_HOURS", 24).total_seconds() / 3600
    return _hours(f"ARCHIVE_DATABASE_BACKUP_INTERVAL_HOURS_{service.upper()}", every)


def nightly_at() -> clock | None:
    """ARCHIVE_DATABASE_BACKUP_AT (`02:30`): the school's local time of the nightly sets."""
    configured = os.environ.get("ARCHIVE_DATABASE_BACKUP_AT")
    return clock.fromisoformat(configured) if configured else None


def is_due(service: str, last: datetime | None, now: datetime, zone: tzinfo) -> bool:
    """A service with an interval of its own runs by it (the journal's hourly sets);
    the others once a night at ARCHIVE_DATABASE_BACKUP_AT in the school's time zone when
    it is set, else once per ARCHIVE_DATABASE_BACKUP_INTERVAL_HOURS."""
    if last is None:
        return True
    own = f"ARCHIVE_DATABASE_BACKUP_INTERVAL_HOURS_{service.upper()}" in os.environ
    at = nightly_at()
    if own or at is None:
        return now - as_utc(last) >= interval_of(service)
    local = now.astimezone(zone)
    slot = datetime.combine(local.date(), at, tzinfo=zone)
    if slot > local:
        slot -= timedelta(days=1)
    return as_utc(last) < slot


class DatabaseBackups:
    """Called by the worker every minute; each turn does only what is due."""

    def __init__(
        self,
        var_dir: Path,
        master_key: bytes,
        sources: Sequence[Source] | None = None,
        store: DirectoryStore | None = None,
    ) -> None:
        self.master_key = master_key
        self.sources = list(sources) if sources is not None else sources_from_env()
        self.store = store or DirectoryStore.from_env(var_dir)
        self.verify_every = _hours("ARCHIVE_VERIFY_INTERVAL_HOURS", 24)
        self.rotation = Rotation.from_env()

    def __call__(self, database: Database) -> None:
        for source in self.sources:
            with database.transaction() as session:
                if self._due(session, source.service):
                    made = back_up(session, source, self.store, self.master_key)
                    log.info("backup set %s of %s: %s", made.id, source.service, made.status)
                    rotate(session, self.store, source.service, self.rotation, school_zone())
        with database.transaction() as session:
            self.verify_old_sets(session)
            expire_key_store_copies(session, self.store)
            refresh_gauges(session)

    def _due(self, session: Session, service: str) -> bool:
        last = session.scalar(
            select(func.max(BackupSet.finished_at)).where(
                BackupSet.service == service, BackupSet.status == "completed"
            )
        )
        return is_due(service, last, datetime.now(UTC), school_zone())

    def verify_old_sets(self, session: Session) -> None:
        """Verification on a schedule, not only on request (R-ARC-3)."""
        stale = datetime.now(UTC) - self.verify_every
        due = session.scalars(
            select(BackupSet).where(
                BackupSet.status == "completed",
                (BackupSet.verified_at.is_(None)) | (BackupSet.verified_at < stale),
            )
        )
        for found in due:
            verify_catalogued(found, self.store, self.master_key)


def expire_key_store_copies(
    session: Session, store: DirectoryStore, now: datetime | None = None
) -> list[str]:
    """Remove the archive's own sets (its key store) older than the legal term, so no
    restore can bring a shredded key back after it (DESIGN §4.6). The newest copy stays
    while nobody was erased after it was taken: losing it would lose every key."""
    cutoff = (now or datetime.now(UTC)) - KEY_STORE_KEEP
    copies = store.set_ids(ARCHIVE)
    last_erasure = session.scalar(select(func.max(ErasureLedgerEntry.recorded_at)))
    newest_outdated = (
        bool(copies) and last_erasure is not None and (taken_at(copies[-1]) < as_utc(last_erasure))
    )
    doomed = copies[:-1] + (copies[-1:] if newest_outdated else [])
    removed = [set_id for set_id in doomed if taken_at(set_id) < cutoff]
    for set_id in removed:
        store.remove(ARCHIVE, set_id)
        catalogued = session.get(BackupSet, set_id)
        if catalogued is not None:
            catalogued.status = "expired"
        log.info("key-store copy %s expired and removed", set_id)
    return removed


def verify_catalogued(found: BackupSet, store: DirectoryStore, master_key: bytes) -> None:
    try:
        verify_set(store.root / found.service / found.id, master_key)
    except BackupRefused as refused:
        found.verified_ok, found.failure = False, str(refused)[:400]
        log.error("backup set %s of %s failed verification", found.id, found.service)
    else:
        found.verified_ok, found.failure = True, None
    found.verified_at = datetime.now(UTC)


def refresh_gauges(session: Session) -> None:
    """Every gauge from the catalogue, so a drill run from the command line shows too."""
    for service, finished in session.execute(
        select(BackupSet.service, func.max(BackupSet.finished_at))
        .where(BackupSet.status == "completed")
        .group_by(BackupSet.service)
    ):
        LAST_SET.labels(service).set(as_utc(finished).timestamp())
    for service in session.scalars(select(BackupSet.service).distinct()):
        _verification_gauges(session, service)
    for service in session.scalars(select(Drill.service).distinct()):
        _drill_gauges(session, service)


def _verification_gauges(session: Session, service: str) -> None:
    newest = session.scalars(
        select(BackupSet)
        .where(BackupSet.service == service, BackupSet.verified_at.is_not(None))
        .order_by(BackupSet.verified_at.desc())
        .limit(1)
    ).first()
    if newest is not None and newest.verified_at is not None:
        LAST_VERIFIED.labels(service).set(as_utc(newest.verified_at).timestamp())
        VERIFIED_OK.labels(service).set(1 if newest.verified_ok else 0)


def _drill_gauges(session: Session, service: str) -> None:
    newest = session.scalars(
        select(Drill).where(Drill.service == service).order_by(Drill.started_at.desc()).limit(1)
    ).first()
    if newest is None:
        return
    DRILL_PASSED.labels(service).set(1 if newest.passed else 0)
    DRILL_SECONDS.labels(service).set(newest.seconds or 0)
    passed = session.scalar(
        select(func.max(Drill.finished_at)).where(Drill.service == service, Drill.passed)
    )
    if passed is not None:
        LAST_DRILL.labels(service).set(as_utc(passed).timestamp())
