"""Retention of database backup sets: keep-daily, keep-weekly, keep-monthly (issue 18 §5).

The newest set of each of the last `daily` days, `weekly` ISO weeks and `monthly`
months that have one is kept (days, weeks and months in the school's time zone,
SCHOOL_TIMEZONE), and the newest set always; every other set is removed, and each
removal is logged and marked `pruned` in the catalogue. The archive's own sets (its key
store) also expire after the legal term (dbschedule.expire_key_store_copies), whatever
this keeps.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from sqlalchemy.orm import Session

from archive.models import BackupSet
from archive.store import DirectoryStore, taken_at

log = logging.getLogger(__name__)

Bucket = Callable[[datetime], tuple[int, ...]]


def _day(moment: datetime) -> tuple[int, ...]:
    return (moment.year, moment.month, moment.day)


def _week(moment: datetime) -> tuple[int, ...]:
    iso = moment.isocalendar()
    return (iso.year, iso.week)


def _month(moment: datetime) -> tuple[int, ...]:
    return (moment.year, moment.month)


@dataclass(frozen=True)
class Rotation:
    daily: int = 7
    weekly: int = 4
    monthly: int = 12

    @classmethod
    def from_env(cls) -> Rotation:
        return cls(
            int(os.environ.get("ARCHIVE_KEEP_DAILY") or cls.daily),
            int(os.environ.get("ARCHIVE_KEEP_WEEKLY") or cls.weekly),
            int(os.environ.get("ARCHIVE_KEEP_MONTHLY") or cls.monthly),
        )

    def kept(self, set_ids: Sequence[str], zone: tzinfo) -> set[str]:
        newest_first = sorted(set_ids, reverse=True)
        keep = set(newest_first[:1])
        for bucket, count in ((_day, self.daily), (_week, self.weekly), (_month, self.monthly)):
            keep |= _newest_per_bucket(newest_first, bucket, count, zone)
        return keep


def _newest_per_bucket(
    newest_first: Sequence[str], bucket: Bucket, count: int, zone: tzinfo
) -> set[str]:
    seen: set[tuple[int, ...]] = set()
    chosen: set[str] = set()
    for set_id in newest_first:
        key = bucket(taken_at(set_id).astimezone(zone))
        if key not in seen and len(seen) < count:
            seen.add(key)
            chosen.add(set_id)
    return chosen


def rotate(
    session: Session, store: DirectoryStore, service: str, rotation: Rotation, zone: tzinfo
) -> list[str]:
    """Remove the service's sets the rotation does not keep; returns their ids."""
    everywhere = store.set_ids(service)
    keep = rotation.kept(everywhere, zone)
    pruned = sorted(set(everywhere) - keep)
    for set_id in pruned:
        store.remove(service, set_id)
        catalogued = session.get(BackupSet, set_id)
        if catalogued is not None:
            catalogued.status = "pruned"
        log.info("backup set %s of %s pruned by the retention rotation", set_id, service)
    return pruned
