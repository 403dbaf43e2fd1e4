"""The journal's part of an erasure (DESIGN §4, issue 4 §10).

For the students among the subjects it destroys, per requested category: marks (with the
correction requests that quote them, and the teachers' messages addressed to them by name,
which speak of their progress), attendance, enrolments (with their history and their
study-group memberships) and final marks — unless the request retains a category (final marks are usually kept under
Federal Law 273-FZ art. 28), in which case they stay and the retention is confirmed.
Tombstones and the confirmation event are the kit's (schoolkit.erasure).
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from journal import audit
from journal.models import (
    Attendance,
    AuditEntry,
    AuditValues,
    CorrectionRequest,
    Enrolment,
    EnrolmentMove,
    Finalization,
    FinalMark,
    GroupMember,
    LessonMessage,
    Mark,
    StudyGroup,
)
from schoolkit.erasure import ErasureOutcome, ErasureRequest

# What the journal holds (consent's participants.toml): only a request that covers all of
# it buries the subjects. An ended diary agreement asks nothing of the journal, whose
# marks and their audit values stay while the student is at school.
HOLDS = frozenset({"enrolments", "marks", "attendance", "audit_values", "final_marks"})
# The audit's author of an erasure: consent's coordinator, which orders every one.
ERASURE_AUTHOR = "consent"


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
    if request.asks_for("audit_values"):
        # The chain keeps only digests; the values of the subjects' entries go with their data.
        outcome.count("audit_values", _erase_audit_values(session, school, students))
    _audit_the_erasure(session, request, outcome)
    return outcome


def _audit_the_erasure(session: Session, request: ErasureRequest, outcome: ErasureOutcome) -> None:
    """The erasure itself joins the chain: who ordered it (consent's act names the people),
    how many records of each kind went and what was kept, never whose they were."""
    audit.record(
        session,
        request.school_id,
        ERASURE_AUTHOR,
        "erased",
        "erasure",
        request.erasure_id,
        subject_id=None,
        before=None,
        after={
            "reason": request.reason,
            "subjects": len(request.subject_ids),
            "destroyed": dict(sorted(outcome.counts.items())),
            "retained": sorted(retention.category for retention in outcome.retained),
        },
    )


def _erase_audit_values(session: Session, school: str, students: list[str]) -> int:
    of_school = select(AuditEntry.entry_id).where(AuditEntry.school_id == school)
    result = session.execute(
        delete(AuditValues).where(
            AuditValues.subject_id.in_(students), AuditValues.entry_id.in_(of_school)
        )
    )
    return result.rowcount or 0


def _erase_marks(session: Session, school: str, students: list[str]) -> int:
    marks = select(Mark.mark_id).where(Mark.school_id == school, Mark.student_id.in_(students))
    session.execute(delete(CorrectionRequest).where(CorrectionRequest.mark_id.in_(marks)))
    result = session.execute(
        delete(Mark).where(Mark.school_id == school, Mark.student_id.in_(students))
    )
    return (result.rowcount or 0) + _erase_messages_to(session, school, students)


def _erase_messages_to(session: Session, school: str, students: list[str]) -> int:
    """Messages addressed by name: the erased students leave the list, and a message left
    addressed to no one goes. (The JSON list is read here: no portable SQL filters it.)"""
    erased = set(students)
    query = select(LessonMessage).where(
        LessonMessage.school_id == school, LessonMessage.student_ids.is_not(None)
    )
    count = 0
    for message in session.scalars(query):
        remaining = [s for s in message.student_ids or [] if s not in erased]
        if len(remaining) == len(message.student_ids or []):
            continue
        count += 1
        if remaining:
            message.student_ids = remaining
        else:
            session.delete(message)
    return count


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
    session.execute(
        delete(GroupMember).where(
            GroupMember.student_id.in_(students),
            GroupMember.group_id.in_(
                select(StudyGroup.group_id).where(StudyGroup.school_id == school)
            ),
        )
    )
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
