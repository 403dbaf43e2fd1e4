"""The transactional outbox: an event is stored in the same transaction as the change it reports."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from schoolkit.contracts import Contracts, load_contracts
from schoolkit.events import Event
from schoolkit.settings import project_root
from schoolkit.tables import outbox

NOTIFY_CHANNEL = "schoolkit_outbox"


def default_contracts() -> Contracts:
    return load_contracts(project_root() / "contracts")


def publish(session: Session, event: Event, contracts: Contracts | None = None) -> None:
    """Add `event` to the outbox inside the caller's transaction.

    An event that breaks its contract is a programming error: ContractViolation is
    raised here, before anything is stored, and the caller's transaction must not commit.
    """
    (contracts or default_contracts()).validate(event.to_dict())
    session.execute(
        insert(outbox).values(
            event_id=event.id,
            event_type=event.type,
            body=event.to_json(),
            created_at=datetime.now(UTC),
            attempts=0,
        )
    )
    if session.get_bind().dialect.name == "postgresql":
        # Delivered by PostgreSQL only when (and if) the transaction commits: the relay
        # wakes at once instead of waiting for its next poll.
        session.execute(text(f"NOTIFY {NOTIFY_CHANNEL}"))


def backlog(session: Session) -> tuple[int, float]:
    """How many events wait in the outbox, and the age in seconds of the oldest."""
    count, oldest = session.execute(select(func.count(), func.min(outbox.c.created_at))).one()
    if oldest is None:
        return 0, 0.0
    if oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=UTC)
    return int(count), max(0.0, (datetime.now(UTC) - oldest).total_seconds())
