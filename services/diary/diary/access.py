"""Who may open which student's diary (R-DRY-3, R-DRY-7, R-ROLE-5, R-ROLE-6).

A diary exists only for a covered student (a guardian's agreement in force). Then:
- a guardian: their own child, linked in identity, under their own agreement in force;
- a student: themself;
- a class teacher: students currently in the class they lead;
- a subject teacher: students of a class (and group) they teach lessons to;
- the deputy director and the director: every student of their school.
Anyone else gets 404, the same answer as for a student that does not exist, so that
nobody can probe which ids are real (another school's students included).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any

from sqlalchemy import Select, and_, bindparam, exists, literal, or_, select
from sqlalchemy.orm import Session, aliased

from diary import changes, gate
from diary.gate import in_force, student_is_covered
from diary.models import (
    Agreement,
    ChangeCounter,
    EnrolmentSpan,
    Guardianship,
    Lesson,
    Person,
    SchoolClass,
)
from schoolkit.auth import (
    CLASS_TEACHER,
    DEPUTY_DIRECTOR,
    DIRECTOR,
    GUARDIAN,
    STUDENT,
    SUBJECT_TEACHER,
    Principal,
)
from schoolkit.errors import ApiError
from schoolkit.hotread import HotRead

DIARY_READERS = (GUARDIAN, STUDENT, CLASS_TEACHER, SUBJECT_TEACHER, DEPUTY_DIRECTOR, DIRECTOR)
LEADERSHIP = (DEPUTY_DIRECTOR, DIRECTOR)


@dataclass(frozen=True)
class Span:
    class_id: str
    group_ids: frozenset[str]
    starts_on: date
    ends_on: date | None

    def covers(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


@dataclass(frozen=True)
class StudentDiary:
    """A diary the caller may open: whose, in which school, in which classes when."""

    school_id: str
    student_id: str
    spans: tuple[Span, ...]
    # The ETag, when the query that opened the diary read the change counters too.
    etag: str | None = field(default=None, compare=False)

    @property
    def class_ids(self) -> list[str]:
        return sorted({span.class_id for span in self.spans})

    def current_span(self, today: date) -> Span | None:
        return next((span for span in self.spans if span.covers(today)), None) or (
            self.spans[-1] if self.spans else None
        )

    def takes_part(self, class_id: str, group_id: str | None, day: date) -> bool:
        """Whether the student is in that class (and group, if any) on `day`."""
        return any(
            span.class_id == class_id
            and span.covers(day)
            and (group_id is None or group_id in span.group_ids)
            for span in self.spans
        )


def not_found() -> ApiError:
    return ApiError(404, "not_found", "No such student diary.")


def open_diary(session: Session, principal: Principal, student_id: str) -> StudentDiary:
    """The student's diary if `principal` may read it; otherwise a 404."""
    school = principal.school_id
    # A guardian's own agreement in force covers the student: one query answers both, and
    # reads the spans and the ETag's counters besides (the hot path of every mobile poll).
    if principal.has_any_role(GUARDIAN):
        diary = _as_guardian(session, principal, student_id)
        if diary is not None:
            return diary
    if not student_is_covered(session, school, student_id):
        raise not_found()
    diary = StudentDiary(school, student_id, _spans(session, school, student_id))
    if not _may_read(session, principal, diary):
        raise not_found()
    return diary


def is_guardian_of(session: Session, principal: Principal, student_id: str) -> bool:
    """A linked guardian with their own diary agreement in force for this child (R-DRY-3)."""
    if not principal.has_any_role(GUARDIAN):
        return False
    school, guardian = principal.school_id, principal.user_id
    linked = exists().where(
        Guardianship.school_id == school,
        Guardianship.guardian_id == guardian,
        Guardianship.student_id == student_id,
        Guardianship.active.is_(True),
    )
    agreed = exists().where(
        Agreement.school_id == school,
        Agreement.guardian_id == guardian,
        Agreement.student_id == student_id,
        in_force(),
    )
    return bool(session.execute(select(linked & agreed)).scalar())


def leads_class(session: Session, principal: Principal, class_id: str) -> bool:
    if not principal.has_any_role(CLASS_TEACHER):
        return False
    return _class_exists(
        session, principal.school_id, class_id, SchoolClass.class_teacher_id == principal.user_id
    )


def sees_class(session: Session, principal: Principal, class_id: str) -> bool:
    """The leadership any class of its school the diary knows (journal.class.changed), a
    class teacher their own; any other id is answered as unknown (issue 14)."""
    if principal.has_any_role(*LEADERSHIP):
        return _class_exists(session, principal.school_id, class_id)
    return leads_class(session, principal, class_id)


def _class_exists(session: Session, school_id: str, class_id: str, *also: Any) -> bool:
    query = select(
        exists().where(
            SchoolClass.school_id == school_id,
            SchoolClass.class_id == class_id,
            SchoolClass.removed.is_(False),
            *also,
        )
    )
    return bool(session.execute(query).scalar())


def is_class_teacher_of(session: Session, principal: Principal, diary: StudentDiary) -> bool:
    current = diary.current_span(date.today())
    return current is not None and leads_class(session, principal, current.class_id)


def _may_read(session: Session, principal: Principal, diary: StudentDiary) -> bool:
    if principal.has_any_role(*LEADERSHIP):
        return True
    if principal.has_any_role(STUDENT) and principal.user_id == diary.student_id:
        return True
    return (
        is_guardian_of(session, principal, diary.student_id)
        or is_class_teacher_of(session, principal, diary)
        or _teaches(session, principal, diary)
    )


def _teaches(session: Session, principal: Principal, diary: StudentDiary) -> bool:
    """A teacher of the student's current class, of the whole class or of the student's group."""
    if not principal.has_any_role(SUBJECT_TEACHER, CLASS_TEACHER):
        return False
    current = diary.current_span(date.today())
    if current is None:
        return False
    teacher = principal.user_id
    query = select(Lesson.group_id).where(
        Lesson.school_id == diary.school_id,
        Lesson.class_id == current.class_id,
        or_(Lesson.teacher_id == teacher, Lesson.substituted_teacher_id == teacher),
    )
    groups = set(session.execute(query.distinct()).scalars())
    return None in groups or bool(groups & current.group_ids)


def _spans(session: Session, school: str, student_id: str) -> tuple[Span, ...]:
    rows = session.execute(
        select(
            EnrolmentSpan.class_id,
            EnrolmentSpan.group_ids,
            EnrolmentSpan.starts_on,
            EnrolmentSpan.ends_on,
        )
        .where(EnrolmentSpan.school_id == school, EnrolmentSpan.student_id == student_id)
        .order_by(EnrolmentSpan.starts_on)
    ).all()
    return tuple(
        Span(row.class_id, frozenset(row.group_ids.split()), row.starts_on, row.ends_on)
        for row in rows
    )


def _as_guardian(session: Session, principal: Principal, student_id: str) -> StudentDiary | None:
    """The diary with its ETag, if `principal` is the student's guardian (one statement)."""
    school = principal.school_id
    rows = _guardian_view().rows(
        session,
        {
            "school_id": school,
            "guardian_id": principal.user_id,
            "student_id": student_id,
            "now": gate.now(),  # the gate says what time it is, as in_force() does
        },
    )
    if not rows[0].allowed:
        return None
    enrolled = [row for row in rows if row.class_id is not None]  # none: the anchor alone
    spans = tuple(
        Span(row.class_id, frozenset(row.group_ids.split()), row.starts_on, row.ends_on)
        for row in enrolled
    )
    class_counters = {row.class_id: row.class_counter or 0 for row in enrolled}
    # The same string as changes.counters: student, school, then each class in id order.
    counters = [rows[0].student_counter or 0, rows[0].school_counter or 0]
    counters += [class_counters[class_id] for class_id in sorted(class_counters)]
    return StudentDiary(school, student_id, spans, "-".join(map(str, counters)))


@cache
def _guardian_view() -> HotRead:
    """Run by the driver itself on PostgreSQL: a third of the CPU of a cached week view."""
    return HotRead(_guardian_view_statement())


def _guardian_view_statement() -> Select[Any]:
    """is_guardian_of, _spans and changes.counters as one statement: one row per span.

    Built once (_guardian_view keeps it). Portable SQL (the diary runs on SQLite too):
    an anchor row, the spans outer-joined to it so a student without spans still answers,
    and the per-student and per-school counters as scalar subqueries.
    """
    school, student = bindparam("school_id"), bindparam("student_id")
    guardian = bindparam("guardian_id")
    linked = exists().where(
        Guardianship.school_id == school,
        Guardianship.guardian_id == guardian,
        Guardianship.student_id == student,
        Guardianship.active.is_(True),
    )
    agreed = exists().where(
        Agreement.school_id == school,
        Agreement.guardian_id == guardian,
        Agreement.student_id == student,
        or_(Agreement.ends_at.is_(None), Agreement.ends_at > bindparam("now")),
    )
    anchor = select(literal(1).label("one")).subquery("anchor")
    class_counter = aliased(ChangeCounter)
    return (
        select(
            (linked & agreed).label("allowed"),
            _counter(changes.STUDENT, student).label("student_counter"),
            _counter(changes.SCHOOL, school).label("school_counter"),
            EnrolmentSpan.class_id,
            EnrolmentSpan.group_ids,
            EnrolmentSpan.starts_on,
            EnrolmentSpan.ends_on,
            class_counter.counter.label("class_counter"),
        )
        .select_from(anchor)
        .outerjoin(
            EnrolmentSpan,
            and_(EnrolmentSpan.school_id == school, EnrolmentSpan.student_id == student),
        )
        .outerjoin(
            class_counter,
            and_(
                class_counter.school_id == school,
                class_counter.scope == changes.CLASS,
                class_counter.scope_id == EnrolmentSpan.class_id,
            ),
        )
        .order_by(EnrolmentSpan.starts_on)
    )


def _counter(scope: str, scope_id: Any) -> Any:
    return (
        select(ChangeCounter.counter)
        .where(
            ChangeCounter.school_id == bindparam("school_id"),
            ChangeCounter.scope == scope,
            ChangeCounter.scope_id == scope_id,
        )
        .scalar_subquery()
    )


def own_students(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The diaries that are the caller's own: a guardian's linked children, a student's self.

    A child is listed with a name and the agreement only under the guardian's own
    agreement in force (R-DRY-3); without one, the guardian learns only that a linked
    child has no diary yet, so the web app can say why and what to do.
    """
    if principal.has_any_role(STUDENT):
        return [_own_entry(session, principal.school_id, principal.user_id, None, is_self=True)]
    if not principal.has_any_role(GUARDIAN):
        return []
    school = principal.school_id
    children = session.scalars(
        select(Guardianship.student_id)
        .where(
            Guardianship.school_id == school,
            Guardianship.guardian_id == principal.user_id,
            Guardianship.active.is_(True),
        )
        .distinct()
    ).all()
    entries = []
    for student_id in children:
        agreement = session.scalars(
            select(Agreement)
            .where(
                Agreement.school_id == school,
                Agreement.guardian_id == principal.user_id,
                Agreement.student_id == student_id,
                in_force(),
            )
            .order_by(Agreement.concluded_at.desc())
        ).first()
        entries.append(_own_entry(session, school, student_id, agreement))
    return sorted(entries, key=lambda entry: (entry["name"] is None, entry["name"] or ""))


def _own_entry(
    session: Session,
    school: str,
    student_id: str,
    agreement: Agreement | None,
    *,
    is_self: bool = False,
) -> dict[str, Any]:
    # The diary keeps a student's name only while some agreement covers them.
    person = session.get(Person, (school, student_id))
    shown = person is not None and (is_self or agreement is not None)
    name = f"{person.last_name} {person.first_name}" if shown and person else None
    return {
        "student_id": student_id,
        "name": name,
        "agreement": None
        if agreement is None
        else {
            "agreement_id": agreement.agreement_id,
            "concluded_at": agreement.concluded_at,
            "ends_at": agreement.ends_at,
        },
    }
