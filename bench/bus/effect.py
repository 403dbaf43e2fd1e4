"""The diary side of the bus benchmark, run inside a real worker process.

Its handler applies each mark to a table; after every commit the time is noted per
mark and written to BENCH_STAMPS_FILE when the worker stops (CommitClock), so the
benchmark can measure commit-to-commit latency without adding load to the path.
"""

from __future__ import annotations

from sqlalchemy import Column, MetaData, String, Table, insert
from sqlalchemy.orm import Session

from schoolkit.events import Event
from schoolkit.testing import CommitClock

bench_metadata = MetaData()
written = Table("bench_written", bench_metadata, Column("mark_id", String(64), primary_key=True))
applied = Table("bench_applied", bench_metadata, Column("mark_id", String(64), primary_key=True))

clock = CommitClock()
# Built once, as a service's hot path would: building and keying a statement per event
# costs more than running it.
APPLY_MARK = insert(applied)
WRITE_MARK = insert(written)


def apply_mark(session: Session, incoming: Event) -> None:
    mark_id = incoming.data["mark_id"]
    session.execute(APPLY_MARK, {"mark_id": mark_id})
    clock.note(session, mark_id)


HANDLERS = {"journal.mark.recorded": apply_mark}
