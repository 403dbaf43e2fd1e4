"""The transactional outbox: an event is stored in the same transaction as the change it reports."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from schoolkit.contracts import Contracts, load_contracts
from schoolkit.events import Event
from schoolkit.settings import project_root
from schoolkit.tables import outbox
from schoolkit.wakeup import note_outbox_write

_INSERT_INTO_OUTBOX = insert(outbox)


def default_contracts() -> Contracts:
    """The project's contracts; found once per SCHOOL_ROOT, not with a walk up the file
    system on every publish."""
    return _contracts_of(os.environ.get("SCHOOL_ROOT"))


@lru_cache(maxsize=4)
def _contracts_of(_configured_root: str | None) -> Contracts:
    return load_contracts(project_root() / "contracts")


def publish(session: Session, event: Event, contracts: Contracts | None = None) -> None:
    """Add `event` to the outbox inside the caller's transaction.

    On PostgreSQL the relays are woken once the transaction commits (schoolkit.wakeup).

    An event that breaks its contract is a programming error: ContractViolation is
    raised here, before anything is stored, and the caller's transaction must not commit.
    """
    envelope = event.to_dict()
    (contracts or default_contracts()).validate(envelope)
    session.execute(
        _INSERT_INTO_OUTBOX,
        {
            "event_id": event.id,
            "event_type": event.type,
            "body": json.dumps(envelope, ensure_ascii=False, separators=(",", ":")),
            "created_at": datetime.now(UTC),
            "attempts": 0,
        },
    )
    note_outbox_write(session)


def publish_many(
    session: Session, events: Sequence[Event], contracts: Contracts | None = None
) -> None:
    """Add many events to the outbox in one executemany insert (a generated timetable adds
    thousands at once). Every event is validated first: one that breaks its contract raises
    ContractViolation and none of them is stored."""
    if not events:
        return
    rules = contracts or default_contracts()
    envelopes = [event.to_dict() for event in events]
    for envelope in envelopes:
        rules.validate(envelope)
    now = datetime.now(UTC)
    session.execute(
        _INSERT_INTO_OUTBOX,
        [
            {
                "event_id": event.id,
                "event_type": event.type,
                "body": json.dumps(envelope, ensure_ascii=False, separators=(",", ":")),
                "created_at": now,
                "attempts": 0,
            }
            for event, envelope in zip(events, envelopes, strict=True)
        ],
    )
    note_outbox_write(session)


def backlog(session: Session) -> tuple[int, float]:
    """How many events wait in the outbox, and the age in seconds of the oldest."""
    count, oldest = session.execute(select(func.count(), func.min(outbox.c.created_at))).one()
    if oldest is None:
        return 0, 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), max(0.0, (datetime.now(UTC) - oldest).total_seconds())
