"""Calendar-thematic plans (R-JRN-5): per subject, class or group, and study period, the
topic planned for each lesson number, shown against the lessons held.

The subject teacher whose teaching load has that class or group writes the plan, and the
director or deputy director any plan (R-ROLE-2, R-ROLE-4); the class teacher of its class
reads it too (R-ROLE-3). The n-th lesson held is set against the n-th planned topic, which
is how a programme's completion is checked (R-JRN-12); a lesson may take its topic from
the plan when it is opened.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from journal import audit, groups
from journal.models import Lesson, Period, PlannedTopic, SchoolClass, ThematicPlan
from journal.reach import class_in_reach, refusal, sees_class
from journal.roster import OVERSEES_ALL_JOURNALS, class_not_found, subject_of, teaches
from schoolkit.auth import Principal
from schoolkit.errors import ApiError


def create_plan(session: Session, caller: Principal, fields: dict[str, Any]) -> ThematicPlan:
    # The class or group first, in the caller's reach: another class's unknown subject or
    # period must not answer its own 404, which would tell the caller it exists (issue 14).
    class_id, group_id = _target_of(session, caller, fields)
    subject = subject_of(session, caller.school_id, fields["subject_id"])
    period = _period_of(session, caller.school_id, str(fields["period_id"]))
    where = (subject.subject_id, class_id, group_id)
    _require_writes_plans(session, caller, where, _target_not_found(class_id))
    if _plan_of(session, subject.subject_id, class_id, group_id, period.period_id) is not None:
        raise ApiError(
            409,
            "plan_exists",
            "This subject already has a plan there for the period: change its topics.",
            {"period_id": "Planned already."},
        )
    plan = ThematicPlan(
        school_id=caller.school_id,
        subject_id=subject.subject_id,
        class_id=class_id,
        group_id=group_id,
        period_id=period.period_id,
        created_by=caller.user_id,
        version=1,
    )
    session.add(plan)
    session.flush()
    topics = _write_topics(session, plan, fields["topics"])
    after = {**_plan_values(plan), "topics": topics}
    audit.record_by(
        session, caller, "added", "thematic_plan", plan.plan_id, before=None, after=after
    )
    return plan


def replace_topics(
    session: Session, caller: Principal, plan_id: str, topics: list[dict[str, Any]]
) -> ThematicPlan:
    plan = plan_of(session, caller.school_id, plan_id)
    _require_writes_plans(
        session, caller, (plan.subject_id, plan.class_id, plan.group_id), plan_not_found()
    )
    old = topics_of(session, plan)
    before = {"topics": _topics_as_values(old)}
    for topic in old:
        session.delete(topic)
    session.flush()
    after = {"topics": _write_topics(session, plan, topics)}
    plan.version += 1
    audit.record_by(
        session, caller, "changed", "thematic_plan", plan.plan_id, before=before, after=after
    )
    return plan


def plan_of(session: Session, school_id: str, plan_id: str) -> ThematicPlan:
    plan = session.get(ThematicPlan, str(plan_id))
    if plan is None or plan.school_id != school_id:
        raise plan_not_found()
    return plan


def plan_not_found() -> ApiError:
    return ApiError(404, "plan_not_found", "No such thematic plan.", {"plan_id": "Unknown."})


def plan_for_reading(session: Session, caller: Principal, plan_id: str) -> ThematicPlan:
    plan = plan_of(session, caller.school_id, plan_id)
    if not _may_read(session, caller, plan):
        raise refusal(
            session,
            caller,
            _class_ids(session, plan.school_id, plan.class_id, plan.group_id),
            not_found=plan_not_found(),
            forbidden=ApiError(
                403, "not_your_class", "You neither teach nor lead this class or group."
            ),
        )
    return plan


def plans_for(session: Session, caller: Principal, filters: dict[str, str]) -> list[ThematicPlan]:
    """The school's plans the caller may read, narrowed by class, group, subject, period."""
    query = select(ThematicPlan).where(ThematicPlan.school_id == caller.school_id)
    for name, value in filters.items():
        query = query.where(getattr(ThematicPlan, name) == value)
    return [plan for plan in session.scalars(query) if _may_read(session, caller, plan)]


def topics_of(session: Session, plan: ThematicPlan) -> list[PlannedTopic]:
    query = select(PlannedTopic).where(PlannedTopic.plan_id == plan.plan_id)
    return list(session.scalars(query.order_by(PlannedTopic.lesson_number)))


def planned_against_held(session: Session, plan: ThematicPlan) -> list[dict[str, Any]]:
    """Row n: the topic planned for lesson n and the n-th lesson held so far, if any."""
    planned = {topic.lesson_number: topic.topic for topic in topics_of(session, plan)}
    held = _lessons_held(session, plan)
    count = max([len(held), *planned.keys()])
    return [
        {
            "lesson_number": number,
            "planned_topic": planned.get(number),
            "held": _held_values(held[number - 1]) if number <= len(held) else None,
        }
        for number in range(1, count + 1)
    ]


def planned_topic(  # noqa: PLR0917 - the lesson's own facts, in the order a lesson has them
    session: Session,
    subject_id: str,
    class_id: str,
    group_id: str | None,
    period_id: str,
    lesson_number: int,
) -> str:
    """The topic a new lesson takes from its plan (of its group, else of its class)."""
    plan = _plan_of(session, subject_id, None if group_id else class_id, group_id, period_id)
    topic = None if plan is None else session.get(PlannedTopic, (plan.plan_id, lesson_number))
    if topic is None:
        raise ApiError(
            422,
            "not_in_plan",
            "The thematic plan has no topic for that lesson number.",
            {"plan_lesson_number": "No planned topic."},
        )
    return topic.topic


def _lessons_held(session: Session, plan: ThematicPlan) -> list[Lesson]:
    query = select(Lesson).where(
        Lesson.subject_id == plan.subject_id,
        Lesson.period_id == plan.period_id,
        Lesson.date <= datetime.now(UTC).date(),
    )
    if plan.group_id:
        query = query.where(Lesson.group_id == plan.group_id)
    else:
        query = query.where(Lesson.class_id == plan.class_id, Lesson.group_id.is_(None))
    held: dict[tuple[Any, int], Lesson] = {}
    for lesson in session.scalars(query.order_by(Lesson.date, Lesson.slot)):
        # A stream's lesson is one lesson given to each of its classes: count it once.
        held.setdefault((lesson.date, lesson.slot), lesson)
    return list(held.values())


def _held_values(lesson: Lesson) -> dict[str, Any]:
    return {"lesson_id": lesson.lesson_id, "date": lesson.date.isoformat(), "topic": lesson.topic}


def _target_of(
    session: Session, caller: Principal, fields: dict[str, Any]
) -> tuple[str | None, str | None]:
    """(class, None) or (None, group) of a new plan, in the caller's reach; a group is
    reached through one of its classes, else it is unknown (reach.py)."""
    if not fields.get("group_id"):
        return class_in_reach(session, caller, fields["class_id"]).class_id, None
    group = groups.group_of(session, caller.school_id, fields["group_id"])
    if not any(sees_class(session, caller, c) for c in groups.class_ids_of(session, group)):
        raise groups.group_not_found()
    return None, group.group_id


def _require_writes_plans(
    session: Session,
    caller: Principal,
    where: tuple[str, str | None, str | None],
    not_found: ApiError,
) -> None:
    """`where` is (subject, class or None, group or None); who does not even see the class
    or group is answered `not_found` (reach.py)."""
    subject_id, class_id, group_id = where
    if _teaches_there(session, caller, subject_id, class_id, group_id):
        return
    raise refusal(
        session,
        caller,
        _class_ids(session, caller.school_id, class_id, group_id),
        not_found=not_found,
        forbidden=ApiError(
            403,
            "not_your_class",
            "Only the teacher of this subject there, or the deputy director, plans it.",
            {"class_id" if class_id else "group_id": "Not in your teaching load."},
        ),
    )


def _target_not_found(class_id: str | None) -> ApiError:
    return class_not_found() if class_id else groups.group_not_found()


def _class_ids(
    session: Session, school_id: str, class_id: str | None, group_id: str | None
) -> list[str]:
    """The class of a class's plan, or the classes of a group's or stream's."""
    if group_id:
        return groups.class_ids_of(session, groups.group_of(session, school_id, group_id))
    return [class_id] if class_id else []


def _teaches_there(
    session: Session,
    caller: Principal,
    subject_id: str,
    class_id: str | None,
    group_id: str | None,
) -> bool:
    if caller.has_any_role(*OVERSEES_ALL_JOURNALS):
        return True
    if group_id:
        return groups.teaches_group(session, caller.user_id, group_id, subject_id)
    return class_id is not None and teaches(session, caller.user_id, class_id, subject_id)


def _may_read(session: Session, caller: Principal, plan: ThematicPlan) -> bool:
    if _teaches_there(session, caller, plan.subject_id, plan.class_id, plan.group_id):
        return True
    class_ids = _class_ids(session, plan.school_id, plan.class_id, plan.group_id)
    led = select(SchoolClass.class_id).where(
        SchoolClass.class_id.in_(class_ids), SchoolClass.class_teacher_id == caller.user_id
    )
    return session.scalars(led.limit(1)).first() is not None


def _write_topics(
    session: Session, plan: ThematicPlan, topics: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    numbers = [topic["lesson_number"] for topic in topics]
    if len(set(numbers)) != len(numbers):
        raise ApiError(
            422,
            "duplicate_lesson_numbers",
            "A plan gives each lesson number one topic.",
            {"topics": "A lesson number repeats."},
        )
    rows = [
        PlannedTopic(plan_id=plan.plan_id, lesson_number=t["lesson_number"], topic=t["topic"])
        for t in sorted(topics, key=lambda t: t["lesson_number"])
    ]
    session.add_all(rows)
    session.flush()
    return _topics_as_values(rows)


def _topics_as_values(topics: list[PlannedTopic]) -> list[dict[str, Any]]:
    return [{"lesson_number": t.lesson_number, "topic": t.topic} for t in topics]


def _plan_values(plan: ThematicPlan) -> dict[str, Any]:
    return {
        "subject_id": plan.subject_id,
        "class_id": plan.class_id,
        "group_id": plan.group_id,
        "period_id": plan.period_id,
    }


def _plan_of(
    session: Session, subject_id: str, class_id: str | None, group_id: str | None, period_id: str
) -> ThematicPlan | None:
    query = select(ThematicPlan).where(
        ThematicPlan.subject_id == subject_id,
        ThematicPlan.period_id == period_id,
        ThematicPlan.class_id.is_(None) if class_id is None else ThematicPlan.class_id == class_id,
        ThematicPlan.group_id.is_(None) if group_id is None else ThematicPlan.group_id == group_id,
    )
    return session.scalars(query).first()


def _period_of(session: Session, school_id: str, period_id: str) -> Period:
    period = session.get(Period, period_id)
    if period is None or period.school_id != school_id:
        raise ApiError(404, "period_not_found", "No such study period.", {"period_id": "Unknown."})
    return period
