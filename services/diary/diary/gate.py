"""The consent gate (R-DRY-3): whose personal data the diary may hold and show right now.

A student is covered while a guardian of theirs has a diary agreement in force: concluded,
and neither terminated (from its effective moment) nor revoked. A guardian is covered
while they have such an agreement for one of their children. Events carrying personal
data of someone not covered are dropped, not stored.
"""

from __future__ import annotations

from contextvars import ContextVar
from datetime import UTC, datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, exists, or_, select
from sqlalchemy.orm import Session

from diary.models import Agreement

# While diary-rebuild replays the log, the gate already judged every logged event.
replaying: ContextVar[bool] = ContextVar("diary_replaying", default=False)


def now() -> datetime:
    return datetime.now(UTC)


def in_force(moment: datetime | None = None):  # type: ignore[no-untyped-def]
    """The SQL condition "this agreement is in force at `moment`"."""
    moment = moment or now()
    return or_(Agreement.ends_at.is_(None), Agreement.ends_at > moment)


def student_is_covered(session: Session, school_id: str, student_id: str) -> bool:
    if replaying.get():
        return True
    values = {"school_id": school_id, "student_id": student_id, "now": now()}
    return bool(session.execute(_student_covered_statement(), values).scalar())


@cache
def _student_covered_statement() -> Select[Any]:
    """Asked for every mark and attendance applied: built once, run with parameters."""
    return select(
        exists().where(
            Agreement.school_id == bindparam("school_id"),
            Agreement.student_id == bindparam("student_id"),
            or_(Agreement.ends_at.is_(None), Agreement.ends_at > bindparam("now")),
        )
    )


def guardian_is_covered(session: Session, school_id: str, guardian_id: str) -> bool:
    if replaying.get():
        return True
    query = select(
        exists().where(
            Agreement.school_id == school_id, Agreement.guardian_id == guardian_id, in_force()
        )
    )
    return bool(session.execute(query).scalar())


def covered_among(session: Session, school_id: str, student_ids: list[str]) -> list[str]:
    """The covered ones among `student_ids`, in their order (one query)."""
    if replaying.get() or not student_ids:
        return list(student_ids)
    found = set(
        session.execute(
            select(Agreement.student_id).where(
                Agreement.school_id == school_id,
                Agreement.student_id.in_(student_ids),
                in_force(),
            )
        ).scalars()
    )
    return [student_id for student_id in student_ids if student_id in found]
