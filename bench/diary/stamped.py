"""The diary's own handler table, noting when each mark was committed (bench only).

Loaded into the diary's real worker process (`python -m schoolkit.worker --service diary
--handlers stamped:HANDLERS`): the same consumer and the same handlers; after each commit
the time is noted for the marks it applied, and the times are written to
BENCH_STAMPS_FILE when the worker stops. Freshness is thus measured at the diary's
commit (from then on every reader sees the mark) without polling its database.
"""

from __future__ import annotations

import atexit
import json
import os
import time

from sqlalchemy import event
from sqlalchemy.orm import Session

from diary.handlers import HANDLERS as DIARY_HANDLERS
from schoolkit.consumer import Handler
from schoolkit.events import Event

commit_times: dict[str, float] = {}
apply_mark = DIARY_HANDLERS["journal.mark.recorded"]


def apply_and_note(session: Session, incoming: Event) -> str | None:
    outcome = apply_mark(session, incoming)
    if outcome is None:  # applied, not skipped
        session.info.setdefault("bench_marks", []).append(incoming.data["mark_id"])
    return outcome


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

HANDLERS: dict[str, Handler] = {**DIARY_HANDLERS, "journal.mark.recorded": apply_and_note}
