"""What the reliability tests' consumer does with a mark: a table it changes, and its handler.

Test code, standing for a service's own handler: it counts how often each mark was
applied, honours entity versions, and can be told to fail or to hang on one event.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.orm import Session

from schoolkit.events import Event
from schoolkit.ordering import accept_version

effects_metadata = MetaData()

applied_marks = Table(
    "applied_marks",
    effects_metadata,
    Column("mark_id", String(64), primary_key=True),
    Column("value", String(16), nullable=False),
    Column("version", Integer, nullable=False),
    Column("applications", Integer, nullable=False),
)

# A mark listed here makes the handler raise, as a bug would, until the row is removed.
refused_marks = Table(
    "refused_marks", effects_metadata, Column("mark_id", String(64), primary_key=True)
)

written_marks = Table(
    "written_marks",
    effects_metadata,
    Column("mark_id", String(64), primary_key=True),
    Column("value", String(16), nullable=False),
)


class MarkRefused(RuntimeError):
    pass


def _hang_if_asked(event: Event) -> None:
    if os.environ.get("EFFECTS_HANG_ON_EVENT") == event.id:
        Path(os.environ["EFFECTS_STARTED_FILE"]).write_text(event.id)
        time.sleep(120)


def apply_mark(session: Session, event: Event) -> str | None:
    mark_id = event.data["mark_id"]
    _hang_if_asked(event)
    if session.execute(select(refused_marks).where(refused_marks.c.mark_id == mark_id)).first():
        raise MarkRefused("the handler refuses this mark")
    version = event.data["entity_version"]
    if not accept_version(session, "mark", mark_id, version):
        return "stale"
    value = str(event.data["value"])
    current = session.execute(
        select(applied_marks.c.applications).where(applied_marks.c.mark_id == mark_id)
    ).scalar_one_or_none()
    if current is None:
        session.execute(
            insert(applied_marks).values(
                mark_id=mark_id, value=value, version=version, applications=1
            )
        )
    else:
        session.execute(
            update(applied_marks)
            .where(applied_marks.c.mark_id == mark_id)
            .values(value=value, version=version, applications=current + 1)
        )
    return None


HANDLERS = {"journal.mark.recorded": apply_mark, "journal.mark.corrected": apply_mark}
