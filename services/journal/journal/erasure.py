"""The journal's part of an erasure (DESIGN §4, issue 4 §10).

For the students among the subjects it destroys, per requested category: marks (with the
correction requests that quote them), attendance, enrolments (with their history) and
final marks — unless the request retains a category (final marks are usually kept under
Federal Law 273-FZ art. 28), in which case they stay and the retention is confirmed.
Tombstones and the confirmation event are the kit's (schoolkit.erasure).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from journal.models import (
    Attendance,
    AuditValues,
    CorrectionRequest,
    Enrolment,
    EnrolmentMove,
    Finalization,
    FinalMark,
    Mark,
)
from schoolkit.erasure import ErasureOutcome, ErasureRequest


def erase(session: Session, request: ErasureRequest) -> ErasureOutcome:
    outcome = ErasureOutcome()
    students = request.subject_ids
    school = request.school_id
    for category, destroy in (
        ("marks", _erase_marks),
        ("attendance", _erase_attendance),
        ("enrolments", _erase_enrolments),
        ("final_marks", _erase_final_marks),
    ):
        retention = request.retention_of(category)
        if retention is not None:
            outcome.retained.append(retention)
        elif request.asks_for(category):
            outcome.count(category, destroy(session, school, students))
    # The chain keeps only digests; the values of the subjects' entries go with their data.
    outcome.count("audit_values", _erase_audit_values(session, students))
    return outcome


def _erase_audit_values(session: Session, students: list[str]) -> int:
    result = session.execute(delete(AuditValues).where(AuditValues.subject_id.in_(students)))
    return result.rowcount or 0


def _erase_marks(session: Session, school: str, students: list[str]) -> int:
    marks = select(Mark.mark_id).where(Mark.school_id == school, Mark.student_id.in_(students))
    session.execute(delete(CorrectionRequest).where(CorrectionRequest.mark_id.in_(marks)))
    result = session.execute(
        delete(Mark).where(Mark.school_id == school, Mark.student_id.in_(students))
    )
    return result.rowcount or 0


def _erase_attendance(session: Session, school: str, students: list[str]) -> int:
    result = session.execute(
        delete(Attendance).where(
            Attendance.school_id == school, Attendance.student_id.in_(students)
        )
    )
    return result.rowcount or 0


def _erase_enrolments(session: Session, school: str, students: list[str]) -> int:
    enrolments = select(Enrolment.enrolment_id).where(
        Enrolment.school_id == school, Enrolment.student_id.in_(students)
    )
    session.execute(delete(EnrolmentMove).where(EnrolmentMove.enrolment_id.in_(enrolments)))
    result = session.execute(
        delete(Enrolment).where(Enrolment.school_id == school, Enrolment.student_id.in_(students))
    )
    return result.rowcount or 0


def _erase_final_marks(session: Session, school: str, students: list[str]) -> int:
    of_school = select(Finalization.finalization_id).where(Finalization.school_id == school)
    result = session.execute(
        delete(FinalMark).where(
            FinalMark.finalization_id.in_(of_school), FinalMark.student_id.in_(students)
        )
    )
    return result.rowcount or 0
