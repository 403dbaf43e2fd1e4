"""Writes naming an erased student are refused (DESIGN §4 6a), as for an unknown student.

The journal knows a student by the id its writes name: the tombstone the erasure left in
the caller's school is the only trace that the id was once a student here. A 404 like
that of any id the school never had tells nothing more, and nothing is written that the
erasure would have had to destroy.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from schoolkit import tombstones
from schoolkit.auth import current_principal
from schoolkit.errors import ApiError


def unknown_student() -> ApiError:
    return ApiError(
        404, "student_not_found", "No such student in this school.", {"student_id": "Unknown."}
    )


def refuse_erased_students(session: Session, student_ids: Iterable[Any]) -> None:
    """Raise a 404 when any of `student_ids` was erased in the caller's school."""
    wanted = [str(student_id) for student_id in student_ids if student_id]
    school = current_principal().school_id
    tombstones.refuse_erased(session, school, *wanted, not_found=unknown_student())
