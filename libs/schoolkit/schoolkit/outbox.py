"""The transactional outbox: an event is stored in the same transaction as the change it reports."""

from __future__ import annotations

import json
import weakref
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from schoolkit.contracts import Contracts, load_contracts
from schoolkit.events import Event
from schoolkit.settings import project_root
from schoolkit.tables import outbox

NOTIFY_CHANNEL = "schoolkit_outbox"
_NOTIFY = text(f"NOTIFY {NOTIFY_CHANNEL}")
_NOTIFIED = "schoolkit_outbox_notified"
_INSERT_INTO_OUTBOX = insert(outbox)


def default_contracts() -> Contracts:
    return load_contracts(project_root() / "contracts")


def publish(session: Session, event: Event, contracts: Contracts | None = None) -> None:
    """Add `event` to the outbox inside the caller's transaction.

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
    _wake_the_relay_on_commit(session)


def _wake_the_relay_on_commit(session: Session) -> None:
    """NOTIFY once per transaction: PostgreSQL delivers it only when (and if) it commits."""
    if session.get_bind().dialect.name != "postgresql":
        return
    transaction = session.get_transaction()
    notified = session.info.get(_NOTIFIED)
    if notified is not None and notified() is transaction:
        return
    session.execute(_NOTIFY)
    session.info[_NOTIFIED] = weakref.ref(transaction) if transaction else None


def backlog(session: Session) -> tuple[int, float]:
    """How many events wait in the outbox, and the age in seconds of the oldest."""
    count, oldest = session.execute(select(func.count(), func.min(outbox.c.created_at))).one()
    if oldest is None:
        return 0, 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), max(0.0, (datetime.now(UTC) - oldest).total_seconds())
