"""The contingent: enrolment, transfer between classes with history, leaving (R-JRN-3).

A student has at most one current enrolment in a school. The enrolment events carry the
student's study groups and streams (`group_ids`), which the diary's access rules read; when
those change, the student's last move is announced again as a newer snapshot. Leaving sends
journal.student.left, which starts the erasure in the consent service; the journal does
not know guardians, so it names the student only and consent resolves the guardians.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from journal import audit
from journal.models import Enrolment, EnrolmentMove, GroupClass, GroupMember, StudyGroup
from journal.reach import refusal
from journal.roster import class_not_found, class_of
from schoolkit.auth import DEPUTY_DIRECTOR, DIRECTOR, Principal
from schoolkit.errors import ApiError
from schoolkit.events import Event
from schoolkit.outbox import publish


def enrol(session: Session, caller: Principal, class_id: str, fields: dict[str, Any]) -> Enrolment:
    school_class = class_of(session, caller.school_id, class_id)
    # R-ROLE-3: the class teacher keeps their own class's roster; R-ROLE-2: the deputy any.
    if not caller.has_any_role(DIRECTOR, DEPUTY_DIRECTOR) and (
        school_class.class_teacher_id != caller.user_id
    ):
        raise refusal(
            session,
            caller,
            [school_class.class_id],
            not_found=class_not_found(),
            forbidden=ApiError(
                403, "not_your_class", "Only the class's own class teacher enrols here."
            ),
        )
    student_id = str(fields["student_id"])
    if current_enrolment(session, caller.school_id, student_id) is not None:
        raise ApiError(
            409, "already_enrolled", "The student is already in a class: transfer them instead."
        )
    enrolment = Enrolment(
        school_id=caller.school_id,
        student_id=student_id,
        class_id=school_class.class_id,
        individual_plan=fields["individual_plan"],
        enrolled_on=fields["on"],
        version=1,
    )
    session.add(enrolment)
    session.flush()
    _record_move(
        session,
        caller,
        enrolment,
        kind="enrolled",
        from_class_id=None,
        to_class_id=school_class.class_id,
        on=fields["on"],
    )
    _publish(
        session,
        enrolment,
        "journal.student.enrolled",
        {
            "class_id": enrolment.class_id,
            "group_ids": group_ids_of(session, caller.school_id, student_id),
            "individual_plan": enrolment.individual_plan,
            "enrolled_on": enrolment.enrolled_on.isoformat(),
        },
    )
    return enrolment


def transfer(
    session: Session, caller: Principal, student_id: str, fields: dict[str, Any]
) -> Enrolment:
    enrolment = _require_enrolled(session, caller.school_id, student_id)
    target = class_of(session, caller.school_id, fields["to_class_id"])
    if target.class_id == enrolment.class_id:
        raise ApiError(
            422,
            "same_class",
            "The student is already in that class.",
            {"to_class_id": "Same class."},
        )
    from_class_id = enrolment.class_id
    enrolment.class_id = target.class_id
    enrolment.version += 1
    _leave_groups_outside(session, enrolment, caller.user_id)
    _record_move(
        session,
        caller,
        enrolment,
        kind="transferred",
        from_class_id=from_class_id,
        to_class_id=target.class_id,
        on=fields["on"],
    )
    _publish(
        session,
        enrolment,
        "journal.student.transferred",
        {
            "from_class_id": from_class_id,
            "to_class_id": target.class_id,
            "group_ids": group_ids_of(session, caller.school_id, student_id),
            "transferred_on": fields["on"].isoformat(),
        },
    )
    return enrolment


def leave(
    session: Session, caller: Principal, student_id: str, fields: dict[str, Any]
) -> Enrolment:
    enrolment = _require_enrolled(session, caller.school_id, student_id)
    enrolment.left_on = fields["on"]
    enrolment.leave_reason = fields["reason"]
    enrolment.version += 1
    _record_move(
        session,
        caller,
        enrolment,
        kind="left",
        from_class_id=enrolment.class_id,
        to_class_id=None,
        on=fields["on"],
        reason=fields["reason"],
    )
    _publish(
        session,
        enrolment,
        "journal.student.left",
        {
            "class_id": enrolment.class_id,
            "reason": fields["reason"],
            "left_on": fields["on"].isoformat(),
        },
    )
    return enrolment


def set_individual_plan(
    session: Session, caller: Principal, student_id: str, individual_plan: bool
) -> Enrolment:
    """Put a student on an individual study plan or take them off it (R-JRN-2)."""
    enrolment = _require_enrolled(session, caller.school_id, student_id)
    before = enrolment.individual_plan
    enrolment.individual_plan = individual_plan
    audit.record(
        session,
        caller.school_id,
        caller.user_id,
        "changed",
        "enrolment",
        enrolment.enrolment_id,
        subject_id=enrolment.student_id,
        before={"individual_plan": before},
        after={"individual_plan": individual_plan},
    )
    announce_groups(session, caller.school_id, enrolment.student_id)
    return enrolment


def group_ids_of(session: Session, school_id: str, student_id: str) -> list[str]:
    """The student's study groups, streams and individual plan groups, in a stable order."""
    query = (
        select(GroupMember.group_id)
        .join(StudyGroup, StudyGroup.group_id == GroupMember.group_id)
        .where(StudyGroup.school_id == school_id, GroupMember.student_id == student_id)
        .order_by(GroupMember.group_id)
    )
    return list(session.scalars(query))


def announce_groups(session: Session, school_id: str, student_id: str) -> None:
    """Send the student's last move again with their groups as they are now.

    The diary keeps enrolment events as snapshots newer by version, so repeating the
    enrolment (or the latest transfer) is how it learns of a changed group membership.
    """
    enrolment = current_enrolment(session, school_id, student_id)
    if enrolment is None:
        return
    enrolment.version += 1
    session.flush()
    announce_enrolment(session, enrolment)


def announce_enrolment(session: Session, enrolment: Enrolment) -> None:
    """The student's last move (enrolled, or transferred) as it stands, at its version."""
    school_id, student_id = enrolment.school_id, enrolment.student_id
    last = session.scalars(
        select(EnrolmentMove)
        .where(EnrolmentMove.enrolment_id == enrolment.enrolment_id)
        .order_by(EnrolmentMove.at.desc())
        .limit(1)
    ).first()
    group_ids = group_ids_of(session, school_id, student_id)
    if last is not None and last.kind == "transferred":
        details = {
            "from_class_id": last.from_class_id,
            "to_class_id": enrolment.class_id,
            "group_ids": group_ids,
            "transferred_on": last.on.isoformat(),
        }
        _publish(session, enrolment, "journal.student.transferred", details)
        return
    details = {
        "class_id": enrolment.class_id,
        "group_ids": group_ids,
        "individual_plan": enrolment.individual_plan,
        "enrolled_on": enrolment.enrolled_on.isoformat(),
    }
    _publish(session, enrolment, "journal.student.enrolled", details)


def _leave_groups_outside(session: Session, enrolment: Enrolment, by: str) -> None:
    # A group of the old class is no place for the student any more; a stream that also
    # takes the new class keeps them.
    in_new_class = select(GroupClass.group_id).where(GroupClass.class_id == enrolment.class_id)
    mine = select(GroupMember).where(
        GroupMember.student_id == enrolment.student_id,
        GroupMember.group_id.in_(
            select(StudyGroup.group_id).where(StudyGroup.school_id == enrolment.school_id)
        ),
        GroupMember.group_id.not_in(in_new_class),
    )
    for membership in list(session.scalars(mine)):
        audit.record(
            session,
            enrolment.school_id,
            by,
            "removed",
            "group_member",
            membership.group_id,
            subject_id=membership.student_id,
            before={"student_id": membership.student_id},
            after=None,
        )
        session.delete(membership)
    session.flush()


def current_enrolment(session: Session, school_id: str, student_id: str) -> Enrolment | None:
    query = select(Enrolment).where(
        Enrolment.school_id == school_id,
        Enrolment.student_id == student_id,
        Enrolment.left_on.is_(None),
    )
    return session.scalars(query).first()


def class_on(session: Session, school_id: str, student_id: str, day: date) -> str | None:
    """The class the student was in on that day, by the history of their moves: a move
    takes effect on its day, and a student who has left is in no class."""
    return session.scalars(class_on_query(school_id, student_id, day)).first()


def class_on_query(school_id: Any, student_id: Any, day: Any) -> Select[tuple[str | None]]:
    """`class_on` as a query: the values, or columns of an outer query (a lesson's day)."""
    return (
        select(EnrolmentMove.to_class_id)
        .join(Enrolment, Enrolment.enrolment_id == EnrolmentMove.enrolment_id)
        .where(
            Enrolment.school_id == school_id,
            Enrolment.student_id == student_id,
            EnrolmentMove.on <= day,
        )
        .order_by(EnrolmentMove.on.desc(), EnrolmentMove.at.desc())
        .limit(1)
    )


def in_class_during(
    session: Session, school_id: str, class_id: str, days: tuple[date, date], students: set[str]
) -> set[str]:
    """Those of `students` who were in the class on at least one of `days` (first, last):
    in it on the first day, or moved into it on a later one."""
    first, last = days
    moved_in = (
        select(Enrolment.student_id)
        .join(EnrolmentMove, EnrolmentMove.enrolment_id == Enrolment.enrolment_id)
        .where(
            Enrolment.school_id == school_id,
            Enrolment.student_id.in_(students),
            EnrolmentMove.to_class_id == class_id,
            EnrolmentMove.on > first,
            EnrolmentMove.on <= last,
        )
    )
    found = set(session.scalars(moved_in))
    return found | {
        student
        for student in students - found
        if class_on(session, school_id, student, first) == class_id
    }


def history(session: Session, school_id: str, student_id: str) -> list[EnrolmentMove]:
    query = (
        select(EnrolmentMove)
        .join(Enrolment, Enrolment.enrolment_id == EnrolmentMove.enrolment_id)
        .where(Enrolment.school_id == school_id, Enrolment.student_id == student_id)
        .order_by(EnrolmentMove.at)
    )
    return list(session.scalars(query))


def _require_enrolled(session: Session, school_id: str, student_id: str) -> Enrolment:
    enrolment = current_enrolment(session, school_id, student_id)
    if enrolment is None:
        raise ApiError(404, "not_enrolled", "The student is in no class of this school.")
    return enrolment


def _record_move(
    session: Session,
    caller: Principal,
    enrolment: Enrolment,
    *,
    kind: str,
    from_class_id: str | None,
    to_class_id: str | None,
    on: date,
    reason: str | None = None,
) -> None:
    audit.record_by(
        session,
        caller,
        "added" if kind == "enrolled" else "changed",
        "enrolment",
        enrolment.enrolment_id,
        subject_id=enrolment.student_id,
        before=None if from_class_id is None else {"class_id": from_class_id},
        after={
            "move": kind,
            "class_id": to_class_id,
            "individual_plan": enrolment.individual_plan,
            "on": on,
            "reason": reason,
        },
    )
    session.add(
        EnrolmentMove(
            enrolment_id=enrolment.enrolment_id,
            kind=kind,
            from_class_id=from_class_id,
            to_class_id=to_class_id,
            on=on,
            reason=reason,
            by=caller.user_id,
        )
    )


def _publish(
    session: Session, enrolment: Enrolment, event_type: str, details: dict[str, Any]
) -> None:
    data = {
        "enrolment_id": enrolment.enrolment_id,
        "student_id": enrolment.student_id,
        **details,
        "entity_version": enrolment.version,
    }
    publish(
        session,
        Event(
            type=event_type, data=data, school_id=enrolment.school_id, subject=enrolment.student_id
        ),
    )
