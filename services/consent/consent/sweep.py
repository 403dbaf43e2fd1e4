"""The coordinator's periodic turn in the worker: ask again, warn, start due terminations,
and keep the gauges the ops alerts read (deploy/prometheus/alerts.yml)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import Gauge
from sqlalchemy import Select, func, select

from consent.coordinator import Coordinator
from consent.models import Erasure
from consent.registry import start_due_agreement_erasures
from schoolkit.db import Database
from schoolkit.events import as_utc

OPEN = Gauge("erasures_open", "Erasure requests not yet confirmed by every participant.")
OVERDUE = Gauge(
    "erasures_overdue",
    "Open erasures past the warning point of their legal term (consent.erasure.overdue "
    "raised), and erasures that finished past their deadline in the last week.",
)
# A late erasure may finish between two scrapes; it keeps the alert up this long, so that
# somebody reads its act (which says by how much the deadline was missed).
LATE_SHOWN_FOR = timedelta(days=7)
REMAINING = Gauge(
    "erasure_deadline_seconds_remaining",
    "Seconds before the deadline of the open erasure with the least time left.",
)


class Sweep:
    def __init__(self, coordinator: Coordinator) -> None:
        self.coordinator = coordinator

    def __call__(self, database: Database) -> None:
        now = datetime.now(UTC)
        with database.transaction() as session:
            start_due_agreement_erasures(session, self.coordinator, now)
            self.coordinator.sweep(session, now)
        with database.transaction() as session:
            open_ones = session.scalars(select(Erasure).where(Erasure.status == "open")).all()
            late = session.scalar(finished_late_since(now - LATE_SHOWN_FOR)) or 0
        OPEN.set(len(open_ones))
        OVERDUE.set(sum(1 for e in open_ones if e.overdue_raised_at is not None) + late)
        deadlines = [as_utc(e.deadline) for e in open_ones]
        REMAINING.set(min((d - now).total_seconds() for d in deadlines) if deadlines else 0)


def finished_late_since(since: datetime) -> Select[tuple[int]]:
    return select(func.count()).where(
        Erasure.status == "finished",
        Erasure.finished_at >= since,
        Erasure.finished_at > Erasure.deadline,
    )
