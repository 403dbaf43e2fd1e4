"""The diary side of the bus benchmark, run inside a real worker process.

Its handler applies each mark to a table; after every commit it notes the time per
mark, and writes those times to BENCH_STAMPS_FILE when the worker stops, so the
benchmark can measure commit-to-commit latency without adding load to the path.
"""

from __future__ import annotations

import atexit
import json
import os
import time

from sqlalchemy import Column, MetaData, String, Table, event, insert
from sqlalchemy.orm import Session

from schoolkit.events import Event

bench_metadata = MetaData()
written = Table("bench_written", bench_metadata, Column("mark_id", String(64), primary_key=True))
applied = Table("bench_applied", bench_metadata, Column("mark_id", String(64), primary_key=True))

commit_times: dict[str, float] = {}
# Built once, as a service's hot path would: building and keying a statement per event
# costs more than running it.
APPLY_MARK = insert(applied)
WRITE_MARK = insert(written)


def apply_mark(session: Session, incoming: Event) -> None:
    mark_id = incoming.data["mark_id"]
    session.execute(APPLY_MARK, {"mark_id": mark_id})
    session.info.setdefault("bench_marks", []).append(mark_id)


def _stamp(session: Session) -> None:
    now = time.time()
    for mark_id in session.info.pop("bench_marks", ()):
        commit_times[mark_id] = now


def _forget(session: Session) -> None:
    session.info.pop("bench_marks", None)


def _dump() -> None:
    path = os.environ.get("BENCH_STAMPS_FILE")
    if path:
        with open(path, "w") as file:
            json.dump(commit_times, file)


event.listen(Session, "after_commit", _stamp)
event.listen(Session, "after_rollback", _forget)
atexit.register(_dump)

HANDLERS = {"journal.mark.recorded": apply_mark}
