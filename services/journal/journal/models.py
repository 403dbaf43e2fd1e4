"""The journal service's own tables (SQLAlchemy 2). The kit's tables live in schoolkit.tables.

Every row carries the `school_id` of the token that wrote it; every query filters by it.
Teachers and students are identity's people: their ids are identity's person ids.
"""

import datetime as dt
from datetime import date, datetime, time
from typing import Any
from uuid import uuid4

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schoolkit.tables import utcnow


def new_uuid() -> str:
    return str(uuid4())


class Base(DeclarativeBase):
    pass


class Year(Base):
    """A school year; `calendar_version` is the entity_version of journal.calendar.changed."""

    __tablename__ = "years"

    year_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(40), nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)
    calendar_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Period(Base):
    """A study period of a year: a quarter, trimester, half-year, module or the year itself."""

    __tablename__ = "periods"

    period_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    year_id: Mapped[str] = mapped_column(ForeignKey("years.year_id"), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)


class Holiday(Base):
    """Holidays and days off of a year, an inclusive range of days."""

    __tablename__ = "holidays"

    holiday_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    year_id: Mapped[str] = mapped_column(ForeignKey("years.year_id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    starts_on: Mapped[date] = mapped_column(Date, nullable=False)
    ends_on: Mapped[date] = mapped_column(Date, nullable=False)


class Subject(Base):
    """A school subject (R-JRN-2); removing it keeps the row so old marks still name it."""

    __tablename__ = "subjects"

    subject_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    short_name: Mapped[str | None] = mapped_column(String(40))
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class SchoolClass(Base):
    """A class of a year (5А) with its class teacher."""

    __tablename__ = "classes"

    class_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    year_id: Mapped[str] = mapped_column(ForeignKey("years.year_id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(20), nullable=False)
    grade: Mapped[int] = mapped_column(Integer, nullable=False)
    class_teacher_id: Mapped[str | None] = mapped_column(String(36), index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class Assignment(Base):
    """The teaching load: a teacher teaches a subject to a whole class, or to one study
    group, stream or individual-plan student (R-JRN-4; R-ROLE-4 reads it). Exactly one of
    class_id and group_id is set: a group's teacher does not teach the rest of the class."""

    __tablename__ = "assignments"

    assignment_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    teacher_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.subject_id"), nullable=False)
    class_id: Mapped[str | None] = mapped_column(ForeignKey("classes.class_id"), index=True)
    group_id: Mapped[str | None] = mapped_column(ForeignKey("study_groups.group_id"), index=True)
    hours_per_week: Mapped[int | None] = mapped_column(Integer)


class Room(Base):
    """A room lessons take place in (R-JRN-2); removing it keeps the row for old lessons."""

    __tablename__ = "rooms"
    __table_args__ = (UniqueConstraint("school_id", "name"),)

    room_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(40), nullable=False)
    capacity: Mapped[int | None] = mapped_column(Integer)
    removed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class StudyGroup(Base):
    """Students taught apart from the rest of their class (R-JRN-2): a `group` of one class
    (English group 1), a `stream` of several classes taught together, or the `individual`
    plan of one student. Lessons of a group carry its id; so do its students' enrolments."""

    __tablename__ = "study_groups"

    group_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    year_id: Mapped[str] = mapped_column(ForeignKey("years.year_id"), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class GroupClass(Base):
    """A class a group draws its students from: one for a group, several for a stream."""

    __tablename__ = "group_classes"

    group_id: Mapped[str] = mapped_column(ForeignKey("study_groups.group_id"), primary_key=True)
    class_id: Mapped[str] = mapped_column(ForeignKey("classes.class_id"), primary_key=True)


class GroupMember(Base):
    """A student in a group (the student's id is identity's person id)."""

    __tablename__ = "group_members"

    group_id: Mapped[str] = mapped_column(ForeignKey("study_groups.group_id"), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(36), primary_key=True, index=True)


class GradingScale(Base):
    """A school's own grading scale; the built-in ones live in journal.scales as data."""

    __tablename__ = "grading_scales"
    __table_args__ = (UniqueConstraint("school_id", "code"),)

    scale_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    code: Mapped[str] = mapped_column(String(40), nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    # [{"mark": "5", "score": 5, "passing": true}, ...] in the order teachers pick from.
    marks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, nullable=False)


class WorkType(Base):
    """A kind of work marks are given for, with its weight in the weighted average."""

    __tablename__ = "work_types"
    __table_args__ = (UniqueConstraint("school_id", "code"),)

    work_type_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(80), nullable=False)
    weight: Mapped[float] = mapped_column(Float, nullable=False)
    scale: Mapped[str] = mapped_column(String(40), nullable=False)
    control: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class ThematicPlan(Base):
    """A calendar-thematic plan: a subject's planned topics for a class or a group in a
    study period (R-JRN-5); exactly one of `class_id`, `group_id`."""

    __tablename__ = "thematic_plans"

    plan_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.subject_id"), nullable=False)
    class_id: Mapped[str | None] = mapped_column(ForeignKey("classes.class_id"), index=True)
    group_id: Mapped[str | None] = mapped_column(ForeignKey("study_groups.group_id"), index=True)
    period_id: Mapped[str] = mapped_column(ForeignKey("periods.period_id"), nullable=False)
    created_by: Mapped[str] = mapped_column(String(36), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class PlannedTopic(Base):
    """The topic planned for the n-th lesson of a plan."""

    __tablename__ = "planned_topics"

    plan_id: Mapped[str] = mapped_column(ForeignKey("thematic_plans.plan_id"), primary_key=True)
    lesson_number: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(500), nullable=False)


class Lesson(Base):
    """One lesson of a class in a subject on a day: what the journal's columns are."""

    __tablename__ = "lessons"

    lesson_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    class_id: Mapped[str] = mapped_column(ForeignKey("classes.class_id"), nullable=False)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.subject_id"), nullable=False)
    teacher_id: Mapped[str] = mapped_column(String(36), nullable=False)
    period_id: Mapped[str] = mapped_column(ForeignKey("periods.period_id"), nullable=False)
    date: Mapped[date] = mapped_column(Date, nullable=False)
    slot: Mapped[int] = mapped_column(Integer, nullable=False)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="scheduled")
    topic: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    group_id: Mapped[str | None] = mapped_column(ForeignKey("study_groups.group_id"))
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.room_id"))
    # The regular teacher while a substitute teaches (teacher_id is the substitute then).
    substituted_teacher_id: Mapped[str | None] = mapped_column(String(36))
    transferred_from_date: Mapped[dt.date | None] = mapped_column(Date)
    transferred_from_slot: Mapped[int | None] = mapped_column(Integer)
    # (dt.date: inside this class `date` names the column above.)
    # Generated lessons remember their template entry and day, so generating is idempotent.
    timetable_entry_id: Mapped[str | None] = mapped_column(String(36))
    planned_on: Mapped[dt.date | None] = mapped_column(Date)
    control_form: Mapped[str | None] = mapped_column(String(32))


class Bell(Base):
    """The bell schedule: when lesson number `slot` starts and ends, in the school's time."""

    __tablename__ = "bells"

    school_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    slot: Mapped[int] = mapped_column(Integer, primary_key=True)
    starts: Mapped[time] = mapped_column(Time, nullable=False)
    ends: Mapped[time] = mapped_column(Time, nullable=False)


class TimetableEntry(Base):
    """One line of a weekly timetable template: on `weekday` (1 = Monday) at lesson `slot`
    a class, or a group/stream/individual student, has `subject` with `teacher` in `room`."""

    __tablename__ = "timetable_entries"

    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    year_id: Mapped[str] = mapped_column(ForeignKey("years.year_id"), nullable=False)
    class_id: Mapped[str | None] = mapped_column(ForeignKey("classes.class_id"), index=True)
    group_id: Mapped[str | None] = mapped_column(ForeignKey("study_groups.group_id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer, nullable=False)
    slot: Mapped[int] = mapped_column(Integer, nullable=False)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.subject_id"), nullable=False)
    teacher_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    room_id: Mapped[str | None] = mapped_column(ForeignKey("rooms.room_id"))


class LessonChange(Base):
    """A substitution or transfer of a lesson: who registered it, when and why (R-JRN-6)."""

    __tablename__ = "lesson_changes"

    change_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    lesson_id: Mapped[str] = mapped_column(
        ForeignKey("lessons.lesson_id"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    before: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    after: Mapped[dict[str, Any]] = mapped_column(JSON, nullable=False)
    by: Mapped[str] = mapped_column(String(36), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)


class LessonMessage(Base):
    """A teacher's message or recommendation to guardians about a lesson (R-JRN-8)."""

    __tablename__ = "lesson_messages"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    lesson_id: Mapped[str] = mapped_column(
        ForeignKey("lessons.lesson_id"), nullable=False, index=True
    )
    teacher_id: Mapped[str] = mapped_column(String(36), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    text: Mapped[str] = mapped_column(String(4000), nullable=False)
    # The students whose guardians it is for; None means the lesson's whole class or group.
    student_ids: Mapped[list[str] | None] = mapped_column(JSON)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class Mark(Base):
    """A mark of a student for a work type in a lesson; several per lesson are allowed."""

    __tablename__ = "marks"

    mark_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    lesson_id: Mapped[str] = mapped_column(
        ForeignKey("lessons.lesson_id"), nullable=False, index=True
    )
    student_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    work_type_id: Mapped[str] = mapped_column(ForeignKey("work_types.work_type_id"), nullable=False)
    value: Mapped[str] = mapped_column(String(16), nullable=False)
    comment: Mapped[str | None] = mapped_column(String(500))
    teacher_id: Mapped[str] = mapped_column(String(36), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class Finalization(Base):
    """Final marks set for a class, subject and period: from then on the period is locked."""

    __tablename__ = "finalizations"
    __table_args__ = (UniqueConstraint("period_id", "class_id", "subject_id", "group_id"),)

    finalization_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    period_id: Mapped[str] = mapped_column(ForeignKey("periods.period_id"), nullable=False)
    class_id: Mapped[str] = mapped_column(ForeignKey("classes.class_id"), nullable=False)
    subject_id: Mapped[str] = mapped_column(ForeignKey("subjects.subject_id"), nullable=False)
    # The group whose final marks these are, when its teacher set them; None: the class's.
    group_id: Mapped[str | None] = mapped_column(ForeignKey("study_groups.group_id"))
    scale: Mapped[str] = mapped_column(String(40), nullable=False)
    finalized_by: Mapped[str] = mapped_column(String(36), nullable=False)
    finalized_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class FinalMark(Base):
    """A student's final mark in a finalization (kept after erasure: 273-FZ art. 28)."""

    __tablename__ = "final_marks"

    finalization_id: Mapped[str] = mapped_column(
        ForeignKey("finalizations.finalization_id"), primary_key=True
    )
    student_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    value: Mapped[str] = mapped_column(String(16), nullable=False)


class Attendance(Base):
    """Whether a student was at a lesson; one record per student and lesson (R-JRN-9)."""

    __tablename__ = "attendance"
    __table_args__ = (UniqueConstraint("lesson_id", "student_id"),)

    attendance_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    lesson_id: Mapped[str] = mapped_column(ForeignKey("lessons.lesson_id"), nullable=False)
    student_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str | None] = mapped_column(String(32))
    recorded_by: Mapped[str] = mapped_column(String(36), nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class Enrolment(Base):
    """A student's place in the school: the class they are in now, until they leave (R-JRN-3)."""

    __tablename__ = "enrolments"

    enrolment_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    student_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    class_id: Mapped[str] = mapped_column(
        ForeignKey("classes.class_id"), nullable=False, index=True
    )
    individual_plan: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    enrolled_on: Mapped[date] = mapped_column(Date, nullable=False)
    left_on: Mapped[date | None] = mapped_column(Date)
    leave_reason: Mapped[str | None] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class EnrolmentMove(Base):
    """The history of a student's classes: every enrolment, transfer and leaving, with who."""

    __tablename__ = "enrolment_moves"

    move_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    enrolment_id: Mapped[str] = mapped_column(
        ForeignKey("enrolments.enrolment_id"), nullable=False, index=True
    )
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    from_class_id: Mapped[str | None] = mapped_column(String(36))
    to_class_id: Mapped[str | None] = mapped_column(String(36))
    on: Mapped[date] = mapped_column(Date, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(36), nullable=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)


class CorrectionRequest(Base):
    """A teacher's request to change a mark of a locked period; the deputy decides (R-ROLE-4)."""

    __tablename__ = "correction_requests"

    request_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    mark_id: Mapped[str] = mapped_column(String(36), nullable=False)
    value: Mapped[str] = mapped_column(String(16), nullable=False)
    previous_value: Mapped[str] = mapped_column(String(16), nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    requested_by: Mapped[str] = mapped_column(String(36), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(36))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Homework(Base):
    """Homework set at a lesson for the whole class, due on a day (R-JRN-8)."""

    __tablename__ = "homework"

    homework_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    lesson_id: Mapped[str] = mapped_column(
        ForeignKey("lessons.lesson_id"), nullable=False, index=True
    )
    teacher_id: Mapped[str] = mapped_column(String(36), nullable=False)
    text: Mapped[str] = mapped_column(String(4000), nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class AuditHead(Base):
    """The last link of a school's audit chain; locked FOR UPDATE to append (R-SEC-4)."""

    __tablename__ = "audit_heads"

    school_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditEntry(Base):
    """One change of journal data, hash-chained per school; personal values sit apart."""

    __tablename__ = "audit_entries"
    __table_args__ = (UniqueConstraint("school_id", "seq"),)

    entry_id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    at: Mapped[str] = mapped_column(String(32), nullable=False)
    author_id: Mapped[str] = mapped_column(String(36), nullable=False)
    action: Mapped[str] = mapped_column(String(16), nullable=False)
    entity: Mapped[str] = mapped_column(String(32), nullable=False)
    entity_id: Mapped[str] = mapped_column(String(36), nullable=False)
    values_digest: Mapped[str] = mapped_column(String(64), nullable=False)
    previous_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False)


class AuditValues(Base):
    """The before/after values of an entry, outside the chain so an erasure can drop them."""

    __tablename__ = "audit_values"

    entry_id: Mapped[str] = mapped_column(ForeignKey("audit_entries.entry_id"), primary_key=True)
    subject_id: Mapped[str | None] = mapped_column(String(36), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
