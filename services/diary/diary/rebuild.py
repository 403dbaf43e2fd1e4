"""`diary-rebuild`: throw the read model away and build it again from the diary's event log.

Acknowledgements (the diary's own records, not a projection) and the event log stay;
everything projected from events is emptied, the entity versions of the read model are
forgotten, and every logged event is applied again, oldest first, in one transaction.
Run it with the worker stopped (or accept that events arriving meanwhile wait for the lock).
"""

from __future__ import annotations

import argparse
import logging
import sys

from sqlalchemy import delete
from sqlalchemy.orm import Session

from diary import eventlog, gate
from diary.handlers import REPLAYED
from diary.models import (
    Agreement,
    Attendance,
    ChangeCounter,
    EnrolmentSpan,
    FinalMark,
    Guardianship,
    Holiday,
    Homework,
    Lesson,
    Mark,
    Message,
    MessageRecipient,
    Period,
    Person,
    SchoolClass,
    SchoolYear,
    Subject,
)
from schoolkit.db import Database
from schoolkit.logs import configure_logging
from schoolkit.settings import Settings
from schoolkit.tables import entity_versions

log = logging.getLogger(__name__)

PROJECTED = (
    SchoolYear,
    Period,
    Holiday,
    Subject,
    SchoolClass,
    Person,
    Lesson,
    Homework,
    Message,
    MessageRecipient,
    EnrolmentSpan,
    Guardianship,
    Agreement,
    Mark,
    Attendance,
    FinalMark,
)


def rebuild(session: Session) -> int:
    """Rebuild the read model in `session`'s transaction; returns how many events were replayed."""
    for table in PROJECTED:
        session.execute(delete(table))
    # The counters only ever go up, so a client's cached ETag can never match by accident.
    session.execute(delete(entity_versions))
    replayed = 0
    token = gate.replaying.set(True)
    try:
        for event in eventlog.replay_order(session):
            REPLAYED[event.type](session, event)
            replayed += 1
    finally:
        gate.replaying.reset(token)
    _raise_every_counter(session)
    return replayed


def _raise_every_counter(session: Session) -> None:
    for counter in session.query(ChangeCounter):
        counter.counter += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="diary-rebuild", description=__doc__)
    parser.parse_args(argv)
    settings = Settings.from_env("diary")
    configure_logging("diary", settings.log_level)
    database = Database(settings.database_url)
    with database.transaction() as session:
        replayed = rebuild(session)
    log.info("diary read model rebuilt", extra={"events_replayed": replayed})
    print(f"diary read model rebuilt from {replayed} logged events")  # noqa: T201
    database.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
