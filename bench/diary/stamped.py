"""The diary's own handler table, noting when each mark was committed (bench only).

Loaded into the diary's real worker process (`python -m schoolkit.worker --service diary
--handlers stamped:HANDLERS`): the same consumer and the same handlers; after each commit
the time is noted for the marks it applied, and the times are written to
BENCH_STAMPS_FILE when the worker stops (schoolkit.testing.CommitClock). Freshness is thus
measured at the diary's commit (from then on every reader sees the mark) without polling
its database.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from diary.handlers import HANDLERS as DIARY_HANDLERS
from schoolkit.consumer import Handler
from schoolkit.events import Event
from schoolkit.testing import CommitClock

clock = CommitClock()
apply_mark = DIARY_HANDLERS["journal.mark.recorded"]


def apply_and_note(session: Session, incoming: Event) -> str | None:
    outcome = apply_mark(session, incoming)
    if outcome is None:  # applied, not skipped
        clock.note(session, incoming.data["mark_id"])
    return outcome


HANDLERS: dict[str, Handler] = {**DIARY_HANDLERS, "journal.mark.recorded": apply_and_note}
