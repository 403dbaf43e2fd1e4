"""The web app's worker (`web-worker`): the deny-list events, and forgetting old sessions."""

from __future__ import annotations

import os

from schoolkit.db import Database
from schoolkit.worker import PeriodicTask, run_worker
from web.handlers import HANDLERS
from web.sessions import forget_stale

SWEEP_SECONDS = 600.0


def main() -> None:
    days = int(os.environ.get("WEB_SESSION_DAYS") or 30)

    def sweep(database: Database) -> None:
        with database.transaction() as session:
            forget_stale(session, days)

    run_worker("web", HANDLERS, tasks=[PeriodicTask("sessions", SWEEP_SECONDS, sweep)])
