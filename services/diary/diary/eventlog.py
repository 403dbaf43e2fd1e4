"""The diary's own log of accepted events, which `diary-rebuild` replays.

Choice (R-DRY-1): the journal does not re-send its history, and a replay queue on the
broker would hold every student's data outside any erasure. So the diary keeps, per
entity, the newest event it accepted (each is a full snapshot), already filtered by the
consent gate. The log is erased with its subjects like every other table.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from diary.gate import replaying
from diary.models import LoggedEvent, LoggedEventPerson
from diary.store import put, put_many, put_new
from schoolkit.events import Event


def remember(
    session: Session,
    event: Event,
    entity: tuple[str, str],
    people: Iterable[str] = (),
    data: dict[str, Any] | None = None,
) -> None:
    """Keep `event` (with `data` instead of its own, when filtered) as its entity's newest."""
    if replaying.get():
        return
    entity_type, entity_id = entity
    people = sorted(set(people))
    envelope = event.to_dict()
    if data is not None:
        envelope["data"] = data
    put(
        session,
        LoggedEvent,
        school_id=event.school_id,
        entity_type=entity_type,
        entity_id=entity_id,
        # Replay order only matters within an entity, which keeps one row: time will do.
        sequence=time.time_ns(),
        event_type=event.type,
        body=json.dumps(envelope, ensure_ascii=False),
        person_id=people[0] if len(people) == 1 else None,
    )
    if len(people) < 2:
        return  # the common case (a mark, a name): one statement
    put_new(
        session,
        LoggedEventPerson,
        [
            {
                "school_id": event.school_id,
                "entity_type": entity_type,
                "entity_id": entity_id,
                "person_id": person_id,
            }
            for person_id in people
        ],
    )


def remember_each(
    session: Session, logged: list[tuple[Event, tuple[str, str]]], person_id: str
) -> None:
    """`remember` for many events about one person (a snapshot's marks), in one executemany."""
    if replaying.get() or not logged:
        return
    first = time.time_ns()
    rows = [
        {
            "school_id": event.school_id,
            "entity_type": entity_type,
            "entity_id": entity_id,
            # Distinct, so that replay_order's paging (sequence > last) skips none of them.
            "sequence": first + index,
            "event_type": event.type,
            "body": json.dumps(event.to_dict(), ensure_ascii=False),
            "person_id": person_id,
        }
        for index, (event, (entity_type, entity_id)) in enumerate(logged)
    ]
    put_many(session, LoggedEvent, rows)


def replay_order(session: Session, batch: int = 1000) -> Iterator[Event]:
    """Every logged event, oldest first."""
    last = -1
    while True:
        rows = session.execute(
            select(LoggedEvent.sequence, LoggedEvent.body)
            .where(LoggedEvent.sequence > last)
            .order_by(LoggedEvent.sequence)
            .limit(batch)
        ).all()
        if not rows:
            return
        for sequence, body in rows:
            last = sequence
            yield Event.from_dict(json.loads(body))
