"""One rule of reach for every journal object (R-ROLE-2…4, issue 14).

An object is looked up in the caller's school and in the caller's reach; anything else
answers exactly as an id that does not exist (same status, code and message), so that
nobody learns by probing ids what exists in another class. The one refusal kept is for a
caller who *sees* the object's class (oversees the journals, leads the class, or teaches
in it or in one of its groups or streams) but may not do this to it: a class teacher
who leads a class without teaching its subject knows its lessons exist.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import literal, or_, select
from sqlalchemy.orm import Session

from journal.models import Assignment, GroupClass, SchoolClass
from journal.roster import OVERSEES_ALL_JOURNALS, class_not_found, class_of
from schoolkit.auth import Principal
from schoolkit.errors import ApiError


def sees_class(session: Session, caller: Principal, class_id: str) -> bool:
    """Whether the class is in the caller's reach: the whole school's for the director and
    deputy (R-ROLE-2), the led class (R-ROLE-3), a class taught whole or in a group or
    stream (R-ROLE-4)."""
    if caller.has_any_role(*OVERSEES_ALL_JOURNALS):
        return True
    led = select(literal(True)).where(
        SchoolClass.class_id == class_id,
        SchoolClass.school_id == caller.school_id,
        SchoolClass.class_teacher_id == caller.user_id,
    )
    groups_of_class = select(GroupClass.group_id).where(GroupClass.class_id == class_id)
    load = select(literal(True)).where(
        Assignment.school_id == caller.school_id,
        Assignment.teacher_id == caller.user_id,
        or_(Assignment.class_id == class_id, Assignment.group_id.in_(groups_of_class)),
    )
    # A literal, not a column: a group's load has no class_id, and a NULL would read as "no".
    return session.scalars(led.union_all(load).limit(1)).first() is not None


def class_in_reach(session: Session, caller: Principal, class_id: str) -> SchoolClass:
    """The class a body names, if the caller reaches it; else `class_not_found`, as for an
    unknown id. Ask this before looking up the body's other objects (subject, period,
    room, group): their own 404 for another class would tell the caller it exists."""
    school_class = class_of(session, caller.school_id, class_id)
    if not sees_class(session, caller, school_class.class_id):
        raise class_not_found()
    return school_class


def refusal(
    session: Session,
    caller: Principal,
    class_ids: Iterable[str | None],
    *,
    not_found: ApiError,
    forbidden: ApiError,
) -> ApiError:
    """What to answer a caller who may not do this to an object of these classes:
    `forbidden` if they see one of them, else the object's own `not_found`."""
    seen = any(sees_class(session, caller, c) for c in class_ids if c is not None)
    return forbidden if seen else not_found
