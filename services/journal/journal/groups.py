"""Rooms, study groups, streams, individual plans and their teaching load (R-JRN-2, R-JRN-4).

A `group` takes some students of one class (English group 1), a `stream` students of
several classes taught together (it may exceed 30), an `individual` group the one student
on an individual study plan. Lessons and timetable lines of a group carry its id, the
teaching load may give a teacher only that group (R-ROLE-4), and the students' enrolment
events carry their group ids (the diary decides access by them). Every change is recorded
in the audit chain.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from journal import audit, roster
from journal.contingent import announce_groups, current_enrolment
from journal.models import Assignment, GroupClass, GroupMember, Room, SchoolClass, StudyGroup
from journal.reach import class_in_reach, refusal, sees_class
from schoolkit.auth import Principal
from schoolkit.errors import ApiError


def create_room(session: Session, caller: Principal, fields: dict[str, Any]) -> Room:
    """A new room, or a removed one of that name back in use: its row was kept for the old
    lessons and holds the name (unique per school), so the same room returns, same id."""
    query = select(Room).where(Room.school_id == caller.school_id, Room.name == fields["name"])
    room = session.scalars(query).first()
    if room is not None and not room.removed:
        raise _room_exists()
    if room is not None:
        room.removed, room.capacity = False, fields.get("capacity")
        _audit(session, caller, "restored", "room", room.room_id, before=None, after=fields)
        return room
    room = Room(school_id=caller.school_id, removed=False, **fields)
    session.add(room)
    try:
        session.flush()
    except IntegrityError as error:  # another request added that name a moment ago
        raise _room_exists() from error
    _audit(session, caller, "added", "room", room.room_id, before=None, after=fields)
    return room


def _room_exists() -> ApiError:
    return ApiError(409, "room_exists", "The school has a room of that name.", {"name": "Taken."})


def remove_room(session: Session, caller: Principal, room_id: str) -> None:
    room = room_of(session, caller.school_id, room_id)
    room.removed = True
    _audit(session, caller, "removed", "room", room.room_id, before={"name": room.name}, after=None)


def rooms_of(session: Session, school_id: str) -> list[Room]:
    query = select(Room).where(Room.school_id == school_id, Room.removed.is_(False))
    return list(session.scalars(query.order_by(Room.name)))


def room_of(session: Session, school_id: str, room_id: str) -> Room:
    room = session.get(Room, str(room_id))
    if room is None or room.school_id != school_id or room.removed:
        raise ApiError(404, "room_not_found", "No such room.", {"room_id": "Unknown."})
    return room


def create_group(session: Session, caller: Principal, fields: dict[str, Any]) -> StudyGroup:
    # Every class in reach, as an unknown one otherwise: a stream of the caller's class and
    # another's must not answer differently from one of theirs and an unknown id (issue 14).
    classes = [class_in_reach(session, caller, c) for c in fields["class_ids"]]
    _require_may_keep_groups(session, caller, classes, roster.class_not_found())
    if len({c.year_id for c in classes}) > 1:
        raise ApiError(
            422,
            "classes_of_other_years",
            "A group's classes are of one year.",
            {"class_ids": "Mixed years."},
        )
    group = StudyGroup(
        school_id=caller.school_id,
        year_id=classes[0].year_id,
        kind=fields["kind"],
        name=fields["name"],
        version=1,
    )
    session.add(group)
    session.flush()
    session.add_all(GroupClass(group_id=group.group_id, class_id=c.class_id) for c in classes)
    session.flush()
    after = {"kind": group.kind, "name": group.name, "class_ids": [c.class_id for c in classes]}
    _audit(session, caller, "added", "group", group.group_id, before=None, after=after)
    return _replace_members(session, caller, group, fields["student_ids"])


def set_members(
    session: Session, caller: Principal, group_id: str, student_ids: list[str]
) -> StudyGroup:
    """Make the group's students exactly these; the students whose groups change are
    announced again so the diary follows (R-JRN-3)."""
    group = group_of(session, caller.school_id, group_id)
    classes = [roster.class_of(session, caller.school_id, c) for c in class_ids_of(session, group)]
    _require_may_keep_groups(session, caller, classes, group_not_found())
    if group.kind == "individual":
        raise ApiError(
            422,
            "individual_group",
            "An individual plan's group is its one student's.",
            {"student_ids": "Fixed for an individual plan."},
        )
    return _replace_members(session, caller, group, student_ids)


def _replace_members(
    session: Session, caller: Principal, group: StudyGroup, student_ids: list[str]
) -> StudyGroup:
    class_ids = class_ids_of(session, group)  # the caller may keep them: checked before
    wanted = {str(student) for student in student_ids}
    _require_students_in(session, caller.school_id, wanted, class_ids)
    current = set(members_of(session, group))
    for membership in session.scalars(
        select(GroupMember).where(
            GroupMember.group_id == group.group_id, GroupMember.student_id.in_(current - wanted)
        )
    ):
        session.delete(membership)
    session.add_all(GroupMember(group_id=group.group_id, student_id=s) for s in wanted - current)
    session.flush()
    for student_id in sorted(current ^ wanted):
        announce_groups(session, caller.school_id, student_id)
        joined = student_id in wanted
        audit.record(
            session,
            caller.school_id,
            caller.user_id,
            "added" if joined else "removed",
            "group_member",
            group.group_id,
            subject_id=student_id,
            before=None if joined else {"student_id": student_id},
            after={"student_id": student_id} if joined else None,
        )
    return group


def individual_group(session: Session, caller: Principal, student_id: str) -> StudyGroup:
    """The group of one student on an individual study plan, opened on first use."""
    enrolment = current_enrolment(session, caller.school_id, str(student_id))
    if enrolment is None:
        raise ApiError(
            404,
            "not_enrolled",
            "The student is in no class of this school.",
            {"student_id": "Unknown."},
        )
    if not enrolment.individual_plan:
        raise ApiError(
            422,
            "not_on_individual_plan",
            "The student does not study on an individual plan.",
            {"student_id": "Not on an individual plan."},
        )
    query = (
        select(StudyGroup)
        .join(GroupMember, GroupMember.group_id == StudyGroup.group_id)
        .join(GroupClass, GroupClass.group_id == StudyGroup.group_id)
        .where(
            StudyGroup.school_id == caller.school_id,
            StudyGroup.kind == "individual",
            GroupMember.student_id == enrolment.student_id,
            GroupClass.class_id == enrolment.class_id,
        )
    )
    existing = session.scalars(query).first()
    if existing is not None:
        return existing
    fields = {
        "kind": "individual",
        "name": "Индивидуальный план",
        "class_ids": [enrolment.class_id],
        "student_ids": [enrolment.student_id],
    }
    return create_group(session, caller, fields)


def group_id_of_class(
    session: Session, caller: Principal, group_id: Any, school_class: SchoolClass
) -> str | None:
    """The group a lesson or a final mark names, checked to take students of the class.
    A group none of whose classes the caller reaches is unknown to them (issue 14): a
    422 naming it "not of the class" would tell them that it exists."""
    if not group_id:
        return None
    group = group_of(session, caller.school_id, group_id)
    class_ids = class_ids_of(session, group)
    if not any(sees_class(session, caller, c) for c in class_ids):
        raise group_not_found()
    if school_class.class_id not in class_ids:
        raise ApiError(
            422,
            "group_not_of_class",
            "The group takes no students of this class.",
            {"group_id": "Not a group of the class."},
        )
    return group.group_id


def group_of(session: Session, school_id: str, group_id: str) -> StudyGroup:
    group = session.get(StudyGroup, str(group_id))
    if group is None or group.school_id != school_id:
        raise group_not_found()
    return group


def group_not_found() -> ApiError:
    return ApiError(404, "group_not_found", "No such group.", {"group_id": "Unknown."})


def class_ids_of(session: Session, group: StudyGroup) -> list[str]:
    query = select(GroupClass.class_id).where(GroupClass.group_id == group.group_id)
    return sorted(session.scalars(query))


def members_of(session: Session, group: StudyGroup) -> list[str]:
    query = select(GroupMember.student_id).where(GroupMember.group_id == group.group_id)
    return sorted(session.scalars(query))


def membership(group_id: Any, student_id: Any) -> Select[tuple[str]]:
    """The student's membership of the group (values, or columns of an outer query)."""
    return select(GroupMember.group_id).where(
        GroupMember.group_id == group_id, GroupMember.student_id == student_id
    )


def groups_of(session: Session, school_id: str, class_id: str | None) -> list[StudyGroup]:
    query = select(StudyGroup).where(StudyGroup.school_id == school_id)
    if class_id:
        query = query.join(GroupClass, GroupClass.group_id == StudyGroup.group_id).where(
            GroupClass.class_id == class_id
        )
    return list(session.scalars(query.order_by(StudyGroup.kind, StudyGroup.name)))


def assign_teacher(session: Session, caller: Principal, fields: dict[str, Any]) -> Assignment:
    """The teaching load of a class, a group or stream, or an individual-plan student."""
    if fields.get("class_id"):
        return roster.assign_teacher(session, caller, fields)
    group = (
        individual_group(session, caller, fields["student_id"])
        if fields.get("student_id")
        else group_of(session, caller.school_id, fields["group_id"])
    )
    assignment = _assign_group(session, caller.school_id, group, fields)
    session.flush()
    after = {
        "teacher_id": assignment.teacher_id,
        "subject_id": assignment.subject_id,
        "class_id": assignment.class_id,
        "group_id": assignment.group_id,
    }
    _audit(
        session, caller, "added", "assignment", assignment.assignment_id, before=None, after=after
    )
    return assignment


def _assign_group(
    session: Session, school_id: str, group: StudyGroup, fields: dict[str, Any]
) -> Assignment:
    subject = roster.subject_of(session, school_id, fields["subject_id"])
    teacher_id = str(fields["teacher_id"])
    if teaches_group(session, teacher_id, group.group_id, subject.subject_id):
        raise ApiError(
            409, "already_assigned", "The teacher already teaches this subject to this group."
        )
    assignment = Assignment(
        school_id=school_id,
        teacher_id=teacher_id,
        subject_id=subject.subject_id,
        group_id=group.group_id,
        hours_per_week=fields.get("hours_per_week"),
    )
    session.add(assignment)
    return assignment


def teaches_group(session: Session, teacher_id: str, group_id: str, subject_id: str | None) -> bool:
    query = group_load(teacher_id, group_id)
    if subject_id is not None:
        query = query.where(Assignment.subject_id == subject_id)
    return session.scalars(query.limit(1)).first() is not None


def group_load(teacher_id: Any, group_id: Any) -> Select[tuple[str]]:
    """The teaching load that gives this teacher the group (values, or outer columns)."""
    return select(Assignment.assignment_id).where(
        Assignment.teacher_id == teacher_id, Assignment.group_id == group_id
    )


def _require_may_keep_groups(
    session: Session, caller: Principal, classes: list[Any], not_found: ApiError
) -> None:
    # R-ROLE-2: the deputy keeps every group; R-ROLE-3: a class teacher their class's own.
    if caller.has_any_role(*roster.OVERSEES_ALL_JOURNALS):
        return
    if classes and all(c.class_teacher_id == caller.user_id for c in classes):
        return
    raise refusal(
        session,
        caller,
        [c.class_id for c in classes],
        not_found=not_found,
        forbidden=ApiError(
            403, "not_your_class", "Only the class's own class teacher keeps its groups."
        ),
    )


def _require_students_in(
    session: Session, school_id: str, student_ids: set[str], class_ids: list[str]
) -> None:
    strangers = [
        student
        for student in sorted(student_ids)
        if (enrolment := current_enrolment(session, school_id, student)) is None
        or enrolment.class_id not in class_ids
    ]
    if strangers:
        raise ApiError(
            422,
            "not_in_class",
            "Every student of a group must be enrolled in one of its classes.",
            {"student_ids": f"Not in the group's classes: {', '.join(strangers)}."},
        )


def _audit(
    session: Session,
    caller: Principal,
    action: str,
    entity: str,
    entity_id: str,
    *,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        caller.school_id,
        caller.user_id,
        action,
        entity,
        entity_id,
        subject_id=None,
        before=before,
        after=after,
    )
