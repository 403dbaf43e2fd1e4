"""Corrections of a locked period: the teacher asks, the deputy director decides (R-ROLE-4).

The request keeps who asked, when, why, the value before and the value asked for; the
decision keeps who decided and when. An approved request changes the mark and publishes
journal.mark.corrected naming the request.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from journal import audit, lessons
from journal.models import CorrectionRequest, Mark
from journal.scales import work_type_of
from schoolkit.auth import Principal
from schoolkit.errors import ApiError


def request_correction(
    session: Session, caller: Principal, fields: dict[str, Any]
) -> CorrectionRequest:
    mark = session.get(Mark, str(fields["mark_id"]))
    if mark is None or mark.school_id != caller.school_id:
        raise lessons.mark_not_found()
    # The lesson's teacher asks: of the whole class, or of its group (a group's final marks
    # lock it too), else not_your_class; another class's mark is as unknown (reach.py).
    lessons.lesson_for_teaching(session, caller, mark.lesson_id, not_found=lessons.mark_not_found())
    work_type = work_type_of(session, caller.school_id, mark.work_type_id)
    value = lessons.value_on_scale(session, caller.school_id, work_type, str(fields["value"]))
    request = CorrectionRequest(
        school_id=caller.school_id,
        mark_id=mark.mark_id,
        value=value,
        previous_value=mark.value,
        reason=fields["reason"],
        requested_by=caller.user_id,
        requested_at=datetime.now(UTC),
        status="pending",
    )
    session.add(request)
    session.flush()
    after = {"mark_id": mark.mark_id, "value": value, "reason": request.reason, "status": "pending"}
    audit.record_by(
        session,
        caller,
        "added",
        "correction_request",
        request.request_id,
        subject_id=mark.student_id,
        before=None,
        after=after,
    )
    return request


def decide(
    session: Session, caller: Principal, request_id: str, approve: bool
) -> CorrectionRequest:
    request = session.get(CorrectionRequest, request_id)
    if request is None or request.school_id != caller.school_id:
        raise ApiError(404, "correction_not_found", "No such correction request.")
    if request.status != "pending":
        raise ApiError(409, "already_decided", f"The request was already {request.status}.")
    request.status = "approved" if approve else "rejected"
    request.decided_by = caller.user_id
    request.decided_at = datetime.now(UTC)
    _audit_decision(session, caller, request)
    if approve:
        # The deputy director may change a locked period (journal.finals), so the ordinary
        # correction path applies the value and publishes the event.
        lessons.correct_mark(
            session,
            caller,
            request.mark_id,
            {"value": request.value},
            correction_request_id=request.request_id,
        )
    return request


def _audit_decision(session: Session, caller: Principal, request: CorrectionRequest) -> None:
    mark = session.get(Mark, request.mark_id)
    audit.record_by(
        session,
        caller,
        "changed",
        "correction_request",
        request.request_id,
        subject_id=mark.student_id if mark else None,
        before={"status": "pending"},
        after={"status": request.status},
    )
