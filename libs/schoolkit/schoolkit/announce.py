"""The shape of every `<service>-announce` command: one school's state, announced again.

A service that others keep copies of (identity's people, the journal's classes) can
re-publish its current state into its outbox so that a copy made empty or stale (an
upgraded installation, a consumer restored from an old backup) fills again. The
service supplies what to announce and how to say what it did; this runs it in one
transaction against the service's database. The worker's relay sends the events.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session

from schoolkit.db import Database
from schoolkit.settings import Settings

Done = TypeVar("Done")


def announce_command(
    service: str,
    description: str | None,
    announce: Callable[[Session, str], Done],
    summary: Callable[[Done], str],
    argv: list[str] | None = None,
) -> int:
    """Parse `--school`, announce that school's state, print the summary."""
    parser = argparse.ArgumentParser(prog=f"{service}-announce", description=description)
    parser.add_argument("--school", required=True, help="the school's id, e.g. school-1")
    arguments = parser.parse_args(argv)
    database = Database(Settings.from_env(service).database_url)
    try:
        with database.transaction() as session:
            done = announce(session, arguments.school)
    finally:
        database.dispose()
    sys.stdout.write(f"announced: {summary(done)} (the {service} worker sends them)\n")
    return 0
