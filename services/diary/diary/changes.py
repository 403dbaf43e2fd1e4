"""Change counters: what a diary's ETag is made of (a cheap one, R-DRY-4 polling).

A student's diary changes when their own data changes (student counter), when their
class's lessons, homework or messages change (class counter), or when the school's
calendar, subjects or teachers' names change (school counter).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from diary.models import ChangeCounter
from diary.store import increment

STUDENT = "student"
CLASS = "class"
SCHOOL = "school"


def bump(session: Session, school_id: str, scope: str, scope_id: str) -> None:
    increment(
        session, ChangeCounter, "counter", school_id=school_id, scope=scope, scope_id=scope_id
    )


def counters(session: Session, school_id: str, student_id: str, class_ids: list[str]) -> str:
    """The version of everything a student's diary shows, as one string (one query)."""
    wanted = [(STUDENT, student_id), (SCHOOL, school_id)] + [(CLASS, c) for c in class_ids]
    rows = session.execute(
        select(ChangeCounter.scope, ChangeCounter.scope_id, ChangeCounter.counter).where(
            ChangeCounter.school_id == school_id,
            ChangeCounter.scope_id.in_([scope_id for _, scope_id in wanted]),
        )
    ).all()
    found = {(scope, scope_id): counter for scope, scope_id, counter in rows}
    return "-".join(str(found.get(key, 0)) for key in wanted)
