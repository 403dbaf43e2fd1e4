"""Final marks per period, and the lock they set (R-JRN-10, R-ROLE-4).

Once final marks are set for a class, subject and period, subject teachers can no longer
change that period's lessons and marks (`period_locked`); the director and deputy
director still can, and only they may set the finals again (a new entity_version).
A teacher whose load is a group sets that group's final marks within the class; they
lock the group's lessons, and the class's own final marks lock every lesson there.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session

from journal import audit, contingent, groups
from journal.models import Finalization, FinalMark, Period
from journal.reach import class_in_reach, refusal
from journal.roster import class_not_found, subject_of, teaches
from journal.scales import scale_marks
from schoolkit.auth import DEPUTY_DIRECTOR, DIRECTOR, Principal
from schoolkit.errors import ApiError
from schoolkit.events import Event, iso_utc
from schoolkit.outbox import publish

MAY_CHANGE_A_LOCKED_PERIOD = (DIRECTOR, DEPUTY_DIRECTOR)


def require_unlocked(  # noqa: PLR0917 - a lesson's own facts, in the order a lesson has them
    session: Session,
    caller: Principal,
    period_id: str,
    class_id: str,
    subject_id: str,
    group_id: str | None = None,
) -> None:
    if caller.has_any_role(*MAY_CHANGE_A_LOCKED_PERIOD):
        return
    locks = locks_of(period_id, class_id, subject_id, group_id)
    require_open(caller, locked=session.scalars(locks.limit(1)).first() is not None)


def require_open(caller: Principal, *, locked: bool) -> None:
    """Refuse a change of a locked period, unless the caller may still change it."""
    if locked and not caller.has_any_role(*MAY_CHANGE_A_LOCKED_PERIOD):
        raise ApiError(
            409,
            "period_locked",
            "Final marks are set for this period: a change needs the deputy director.",
            {"period_id": "Locked by its final marks."},
        )


def locks_of(period_id: Any, class_id: Any, subject_id: Any, group_id: Any) -> Select[tuple[str]]:
    """The final marks that lock a lesson's period: the whole class's in the subject, or
    its group's (values, or columns of an outer query; a NULL group matches no group)."""
    return select(Finalization.finalization_id).where(
        Finalization.period_id == period_id,
        Finalization.class_id == class_id,
        Finalization.subject_id == subject_id,
        or_(Finalization.group_id.is_(None), Finalization.group_id == group_id),
    )


def set_finals(session: Session, caller: Principal, fields: dict[str, Any]) -> Finalization:
    # Reach first: another class's unknown subject, period or group must not answer its
    # own 404, which would tell the caller that the class exists (issue 14).
    school_class = class_in_reach(session, caller, fields["class_id"])
    subject = subject_of(session, caller.school_id, fields["subject_id"])
    period = _period_of(session, caller.school_id, str(fields["period_id"]))
    overseer = caller.has_any_role(*MAY_CHANGE_A_LOCKED_PERIOD)
    group_id = groups.group_id_of_class(session, caller, fields.get("group_id"), school_class)
    if not overseer:
        _require_teaches(session, caller, school_class.class_id, subject.subject_id, group_id)
    _require_each_student_once(fields["finals"])
    _require_marks_of_scale(session, caller.school_id, fields["scale"], fields["finals"])
    if group_id:
        _require_members(session, caller.school_id, group_id, fields["finals"])
    else:
        _require_in_class(
            session, caller.school_id, school_class.class_id, period, fields["finals"]
        )
    finalization = _finalization(
        session, period.period_id, school_class.class_id, subject.subject_id, group_id
    )
    if finalization is None:
        finalization = Finalization(
            school_id=caller.school_id,
            period_id=period.period_id,
            class_id=school_class.class_id,
            subject_id=subject.subject_id,
            group_id=group_id,
            version=0,
        )
        session.add(finalization)
    elif not overseer:
        require_unlocked(
            session, caller, period.period_id, school_class.class_id, subject.subject_id, group_id
        )
    before = _finalization_values(finalization) if finalization.version else None
    finalization.scale = fields["scale"]
    finalization.finalized_by = caller.user_id
    finalization.finalized_at = datetime.now(UTC)
    finalization.version += 1
    session.flush()
    new_values = {str(final["student_id"]): final["value"] for final in fields["finals"]}
    _audit_finals(session, caller, finalization, before, new_values)
    session.execute(
        delete(FinalMark).where(FinalMark.finalization_id == finalization.finalization_id)
    )
    session.add_all(
        FinalMark(finalization_id=finalization.finalization_id, student_id=student, value=value)
        for student, value in new_values.items()
    )
    session.flush()
    _publish(session, finalization, period)
    return finalization


def _audit_finals(
    session: Session,
    caller: Principal,
    finalization: Finalization,
    before: dict[str, Any] | None,
    new_values: dict[str, str],
) -> None:
    """One link for the finalization, and one per student whose final mark changed, so an
    erasure drops that student's values and no one else's."""
    old_values = {
        final.student_id: final.value
        for final in session.scalars(
            select(FinalMark).where(FinalMark.finalization_id == finalization.finalization_id)
        )
    }
    entity_id = finalization.finalization_id
    changes = [
        audit.Change(
            "added" if before is None else "changed",
            "finalization",
            entity_id,
            None,
            before,
            _finalization_values(finalization),
        )
    ]
    for student in sorted(old_values.keys() | new_values.keys()):
        old, new = old_values.get(student), new_values.get(student)
        if old == new:
            continue
        action = "added" if old is None else "removed" if new is None else "changed"
        changes.append(
            audit.Change(
                action,
                "final_mark",
                entity_id,
                student,
                None if old is None else {"student_id": student, "value": old},
                None if new is None else {"student_id": student, "value": new},
            )
        )
    audit.record_many(session, caller.school_id, caller.user_id, changes)


def _finalization_values(finalization: Finalization) -> dict[str, Any]:
    return {
        "period_id": finalization.period_id,
        "class_id": finalization.class_id,
        "group_id": finalization.group_id,
        "subject_id": finalization.subject_id,
        "scale": finalization.scale,
        "version": finalization.version,
    }


def _require_teaches(
    session: Session, caller: Principal, class_id: str, subject_id: str, group_id: str | None
) -> None:
    # The whole class's teacher of the subject sets any of its finals; a group's teacher
    # only their group's (R-ROLE-4).
    if teaches(session, caller.user_id, class_id, subject_id):
        return
    if group_id is not None and groups.teaches_group(session, caller.user_id, group_id, subject_id):
        return
    # A class out of the caller's reach is answered as one that does not exist (reach.py).
    raise refusal(
        session,
        caller,
        [class_id],
        not_found=class_not_found(),
        forbidden=ApiError(
            403,
            "not_your_class",
            "You do not teach this subject in this class or group.",
            {"group_id" if group_id else "class_id": "Not in your teaching load."},
        ),
    )


def _require_members(
    session: Session, school_id: str, group_id: str, finals: list[dict[str, Any]]
) -> None:
    members = set(groups.members_of(session, groups.group_of(session, school_id, group_id)))
    _refuse_strangers(finals, members, "not_in_group", "group", "Not a student of the group.")


def _require_in_class(
    session: Session, school_id: str, class_id: str, period: Period, finals: list[dict[str, Any]]
) -> None:
    """A whole class's finals are for students who were in it during the period: one who
    left before it ended keeps their mark, one who never was in it gets none."""
    students = {str(final["student_id"]) for final in finals}
    days = (period.starts_on, period.ends_on)
    members = contingent.in_class_during(session, school_id, class_id, days, students)
    _refuse_strangers(
        finals, members, "not_in_class", "class", "Not in the class during the period."
    )


def _refuse_strangers(
    finals: list[dict[str, Any]], members: set[str], code: str, whose: str, why: str
) -> None:
    """A 422 naming each final mark whose student is not among `members`."""
    strangers = {
        f"finals.{i}.student_id": why
        for i, final in enumerate(finals)
        if str(final["student_id"]) not in members
    }
    if strangers:
        raise ApiError(422, code, f"A {whose}'s final marks are for its students only.", strangers)


def _require_each_student_once(finals: list[dict[str, Any]]) -> None:
    students = [str(final["student_id"]) for final in finals]
    if len(set(students)) != len(students):
        raise ApiError(
            422,
            "duplicate_students",
            "A student has one final mark in a period.",
            {"finals": "A student repeats."},
        )


def _require_marks_of_scale(
    session: Session, school_id: str, scale: str, finals: list[dict[str, Any]]
) -> None:
    allowed = {mark["mark"] for mark in scale_marks(session, school_id, scale)}
    wrong = {
        str(i): f"«{f['value']}» is not a mark of {scale}."
        for i, f in enumerate(finals)
        if f["value"] not in allowed
    }
    if wrong:
        raise ApiError(422, "mark_out_of_scale", "Some final marks are not of the scale.", wrong)


def _period_of(session: Session, school_id: str, period_id: str) -> Period:
    period = session.get(Period, period_id)
    if period is None or period.school_id != school_id:
        raise ApiError(404, "period_not_found", "No such study period.", {"period_id": "Unknown."})
    return period


def _finalization(
    session: Session, period_id: str, class_id: str, subject_id: str, group_id: str | None
) -> Finalization | None:
    query = select(Finalization).where(
        Finalization.period_id == period_id,
        Finalization.class_id == class_id,
        Finalization.subject_id == subject_id,
        Finalization.group_id.is_(None) if group_id is None else Finalization.group_id == group_id,
    )
    return session.scalars(query).first()


def _publish(session: Session, finalization: Finalization, period: Period) -> None:
    finals = session.scalars(
        select(FinalMark).where(FinalMark.finalization_id == finalization.finalization_id)
    )
    data = {
        "finalization_id": finalization.finalization_id,
        "period_id": period.period_id,
        "period_starts_on": period.starts_on.isoformat(),
        "period_ends_on": period.ends_on.isoformat(),
        "class_id": finalization.class_id,
        "school_subject_id": finalization.subject_id,
        "finals": [
            {
                "student_id": final.student_id,
                "scale": finalization.scale,
                "value": int(final.value) if final.value.isdigit() else final.value,
            }
            for final in finals
        ],
        # The kit's one form (UTC, `Z`): a time read back from SQLite has no zone.
        "finalized_at": iso_utc(finalization.finalized_at),
        "finalized_by": finalization.finalized_by,
        "entity_version": finalization.version,
    }
    if finalization.group_id:
        data["group_id"] = finalization.group_id
    publish(
        session,
        Event(type="journal.period.finalized", data=data, school_id=finalization.school_id),
    )
