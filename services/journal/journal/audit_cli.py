"""`journal-audit-verify`: verify every school's audit chain; exit 1 at the first broken one.

Prints one line per school (ids only) and, for a broken chain, the first broken link.
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import select

from journal import audit
from journal.models import AuditHead
from schoolkit.db import Database
from schoolkit.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="journal-audit-verify", description=__doc__)
    parser.add_argument("--database-url", help="defaults to the journal's configured database")
    arguments = parser.parse_args(argv)
    url = arguments.database_url or Settings.from_env("journal").database_url
    database = Database(url)
    broken = False
    with database.sessions() as session:
        for school_id in session.scalars(select(AuditHead.school_id).order_by(AuditHead.school_id)):
            verdict = audit.verify(session, school_id)
            if verdict.intact:
                sys.stdout.write(f"{school_id}: intact, {verdict.entries} entries\n")
            else:
                broken = True
                sys.stdout.write(f"{school_id}: BROKEN at entry {verdict.first_broken_seq}\n")
    database.dispose()
    return 1 if broken else 0


def run() -> None:
    sys.exit(main())
