"""Tombstones: the opaque ids of erased people, so that late events cannot bring them back."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from schoolkit.tables import tombstones


def bury(session: Session, subject_id: str, erasure_id: str | None = None) -> None:
    """Remember that `subject_id` was erased; burying twice is harmless (one statement:
    every participant buries every subject of every erasure)."""
    values = {"subject_id": subject_id, "erasure_id": erasure_id, "erased_at": datetime.now(UTC)}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert_for = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = insert_for(tombstones).values(**values)
        session.execute(statement.on_conflict_do_nothing(index_elements=["subject_id"]))
    elif not is_erased(session, subject_id):
        session.execute(insert(tombstones).values(**values))


def is_erased(session: Session, *subject_ids: str | None) -> bool:
    """True when any of the given people was erased here."""
    wanted = [subject_id for subject_id in subject_ids if subject_id]
    if not wanted:
        return False
    found = session.execute(
        select(tombstones.c.subject_id).where(tombstones.c.subject_id.in_(wanted)).limit(1)
    ).first()
    return found is not None


def erased_among(session: Session, subject_ids: list[str | None]) -> set[str]:
    """The ones among `subject_ids` that were erased here (one query for a whole batch)."""
    wanted = {subject_id for subject_id in subject_ids if subject_id}
    if not wanted:
        return set()
    found = session.execute(
        select(tombstones.c.subject_id).where(tombstones.c.subject_id.in_(wanted))
    )
    return set(found.scalars())


def exempt_from_tombstones(event_type: str) -> bool:
    """Erasure events concern erased people by nature: they must still be handled."""
    return ".erasure." in event_type
