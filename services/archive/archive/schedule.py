"""Scheduled backups (R-ARC-2): each school's archive is backed up once per interval.

A periodic task of the archive worker; it also keeps the `backup_last_success_timestamp_seconds`
gauge that the ops alert on a stale backup reads.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from prometheus_client import Gauge
from sqlalchemy import func, select

from archive.backups import backup_dir, make_backup, write_backup
from archive.models import ArchivedRecord, Backup
from schoolkit.db import Database
from schoolkit.events import as_utc

LAST_BACKUP = Gauge(
    "backup_last_success_timestamp_seconds",
    "When the last completed backup of a school finished (Unix time).",
    ["school_id"],
)


def backup_interval() -> timedelta:
    return timedelta(hours=float(os.environ.get("ARCHIVE_BACKUP_INTERVAL_HOURS") or 24))


class ScheduledBackups:
    def __init__(self, var_dir: Path, interval: timedelta | None = None) -> None:
        self.directory = backup_dir(var_dir)
        self.interval = interval or backup_interval()

    def __call__(self, database: Database) -> None:
        with database.transaction() as session:
            last = dict(
                session.execute(
                    select(Backup.school_id, func.max(Backup.finished_at))
                    .where(Backup.status == "completed")
                    .group_by(Backup.school_id)
                ).all()
            )
            schools = session.scalars(select(ArchivedRecord.school_id).distinct()).all()
            for school_id in schools:
                if self._due(last.get(school_id)):
                    backup = make_backup(session, school_id, self.directory, "scheduled")
                    last[school_id] = backup.finished_at
        for school_id, finished in last.items():
            if finished is not None:
                LAST_BACKUP.labels(school_id).set(as_utc(finished).timestamp())

    def _due(self, last: datetime | None) -> bool:
        return last is None or datetime.now(UTC) - as_utc(last) >= self.interval


class RequestedBackups:
    """Writes the backups an administrator asked for (POST /v1/backups), oldest first.

    A separate task with a short interval: an on-demand backup starts within seconds,
    while the scheduled check runs once a minute. Rows are claimed with SKIP LOCKED on
    PostgreSQL so that two workers never write the same backup."""

    def __init__(self, var_dir: Path) -> None:
        self.directory = backup_dir(var_dir)

    def __call__(self, database: Database) -> None:
        while self._write_next(database):
            pass

    def _write_next(self, database: Database) -> bool:
        with database.transaction() as session:
            query = select(Backup).where(Backup.status == "queued").order_by(Backup.started_at)
            backup = session.scalars(query.limit(1).with_for_update(skip_locked=True)).first()
            if backup is None:
                return False
            write_backup(session, backup, self.directory)
            return True
