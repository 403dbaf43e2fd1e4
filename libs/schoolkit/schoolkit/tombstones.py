"""Tombstones: the opaque ids of erased people, so that late events cannot bring them back.

A tombstone belongs to the school whose erasure wrote it (DESIGN §4 6a): the same id in
another school's event is not dropped, and an erasure of one school can never silence
another. Tombstones written before they had a school count in every school.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from schoolkit.errors import ApiError
from schoolkit.tables import EVERY_SCHOOL, tombstones

# Events that only restrict what an erased person can do: identity ends the erased
# people's sessions with them, and a service that buried the subject first must still
# refuse their tokens.
DENY_LIST_EVENTS = frozenset(
    {"identity.account.blocked", "identity.session.revoked"},
)


def bury(session: Session, subject_id: str, erasure_id: str | None, school_id: str) -> None:
    """Remember that `subject_id` was erased in `school_id`; burying twice is harmless
    (one statement: every participant buries every subject of every erasure)."""
    values = {
        "subject_id": subject_id,
        "school_id": school_id,
        "erasure_id": erasure_id,
        "erased_at": datetime.now(UTC),
    }
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert_for = postgresql_insert if dialect == "postgresql" else sqlite_insert
        statement = insert_for(tombstones).values(**values)
        keys = ["subject_id", "school_id"]
        session.execute(statement.on_conflict_do_nothing(index_elements=keys))
    elif not is_erased(session, school_id, subject_id):
        session.execute(insert(tombstones).values(**values))


def _in_school(school_id: str) -> ColumnElement[bool]:
    return tombstones.c.school_id.in_([school_id, EVERY_SCHOOL])


def is_erased(session: Session, school_id: str, *subject_ids: str | None) -> bool:
    """True when any of the given people was erased in `school_id`."""
    wanted = [subject_id for subject_id in subject_ids if subject_id]
    if not wanted:
        return False
    found = session.execute(
        select(tombstones.c.subject_id)
        .where(tombstones.c.subject_id.in_(wanted), _in_school(school_id))
        .limit(1)
    ).first()
    return found is not None


def erased_among(session: Session, subject_ids: Iterable[str | None], school_id: str) -> set[str]:
    """The ones among `subject_ids` erased in `school_id` (one query for a whole batch)."""
    wanted = {subject_id for subject_id in subject_ids if subject_id}
    if not wanted:
        return set()
    found = session.execute(
        select(tombstones.c.subject_id).where(
            tombstones.c.subject_id.in_(wanted), _in_school(school_id)
        )
    )
    return set(found.scalars())


def erased_pairs(session: Session, about: Iterable[tuple[str | None, str]]) -> set[tuple[str, str]]:
    """The (subject, school) pairs among `about` whose subject was erased in that school."""
    by_school: dict[str, set[str]] = {}
    for subject_id, school_id in about:
        if subject_id:
            by_school.setdefault(school_id, set()).add(subject_id)
    return {
        (subject_id, school_id)
        for school_id, subjects in by_school.items()
        for subject_id in erased_among(session, subjects, school_id)
    }


def refuse_erased(
    session: Session, school_id: str, *person_ids: str | None, not_found: ApiError
) -> None:
    """For a write path: raise `not_found` when it names a person erased in the school.

    A buried id is answered exactly as an id the service never knew (`not_found` is
    that answer), so the response cannot tell that the person existed; and nothing
    is written that the erasure would have had to destroy.
    """
    if is_erased(session, school_id, *person_ids):
        raise not_found


def exempt_from_tombstones(event_type: str) -> bool:
    """Erasure events concern erased people by nature: they must still be handled. So
    must the deny-list's events, which only take access away."""
    return ".erasure." in event_type or event_type in DENY_LIST_EVENTS
