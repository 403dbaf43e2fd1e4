"""The diary service's own tables (SQLAlchemy 2). The kit's tables live in schoolkit.tables.

Every row carries the `school_id` of the event that made it; every query filters by the
school of the caller's token. Two kinds of data live here (R-DRY-3):

- class-level and id-only data, kept for every class: the calendar, subjects, classes,
  lessons (timetable, topics), homework, class messages, staff names, and the id links
  that decide access (enrolments, guardianships, agreements);
- a student's personal data (name, marks, attendance, finals, messages to them), kept
  only while a guardian of that student has a concluded diary agreement.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

Id = String(64)


class Base(DeclarativeBase):
    pass


class SchoolYear(Base):
    __tablename__ = "school_years"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    year_id: Mapped[str] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Period(Base):
    __tablename__ = "periods"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    period_id: Mapped[str] = mapped_column(Id, primary_key=True)
    year_id: Mapped[str] = mapped_column(Id, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Holiday(Base):
    __tablename__ = "holidays"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    holiday_id: Mapped[str] = mapped_column(Id, primary_key=True)
    year_id: Mapped[str] = mapped_column(Id, index=True)
    name: Mapped[str] = mapped_column(String(120))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)


class Subject(Base):
    __tablename__ = "subjects"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    subject_id: Mapped[str] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    short_name: Mapped[str | None] = mapped_column(String(40))
    removed: Mapped[bool] = mapped_column(default=False)


class SchoolClass(Base):
    __tablename__ = "classes"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    class_id: Mapped[str] = mapped_column(Id, primary_key=True)
    year_id: Mapped[str] = mapped_column(Id)
    name: Mapped[str] = mapped_column(String(20))
    grade: Mapped[int | None] = mapped_column(Integer)
    class_teacher_id: Mapped[str | None] = mapped_column(Id, index=True)
    removed: Mapped[bool] = mapped_column(default=False)


class Person(Base):
    """Names: of staff always, of a student or guardian only while covered by an agreement."""

    __tablename__ = "people"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    person_id: Mapped[str] = mapped_column(Id, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    last_name: Mapped[str] = mapped_column(String(120))
    first_name: Mapped[str] = mapped_column(String(120))
    middle_name: Mapped[str | None] = mapped_column(String(120))
    birth_date: Mapped[date | None] = mapped_column(Date)


class Lesson(Base):
    __tablename__ = "lessons"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    lesson_id: Mapped[str] = mapped_column(Id, primary_key=True)
    class_id: Mapped[str] = mapped_column(Id)
    group_id: Mapped[str | None] = mapped_column(Id)
    subject_id: Mapped[str] = mapped_column(Id)
    teacher_id: Mapped[str] = mapped_column(Id)
    substituted_teacher_id: Mapped[str | None] = mapped_column(Id)
    lesson_date: Mapped[date] = mapped_column(Date)
    slot: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str | None] = mapped_column(Text)
    homework: Mapped[str | None] = mapped_column(Text)
    transferred_from_date: Mapped[date | None] = mapped_column(Date)
    transferred_from_slot: Mapped[int | None] = mapped_column(Integer)

    __table_args__ = (
        # The week view: a class's lessons between two dates.
        Index("ix_lessons_class_date", "school_id", "class_id", "lesson_date", "slot"),
        # "Is this teacher one of the student's teachers?" (R-DRY-7)
        Index("ix_lessons_teacher_class", "school_id", "teacher_id", "class_id"),
    )


class Homework(Base):
    __tablename__ = "homework"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    homework_id: Mapped[str] = mapped_column(Id, primary_key=True)
    lesson_id: Mapped[str] = mapped_column(Id)
    class_id: Mapped[str] = mapped_column(Id)
    group_id: Mapped[str | None] = mapped_column(Id)
    subject_id: Mapped[str] = mapped_column(Id)
    teacher_id: Mapped[str] = mapped_column(Id)
    # Space-separated student ids for individual homework; NULL means everyone taught.
    student_ids: Mapped[str | None] = mapped_column(Text)
    assigned_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (
        Index("ix_homework_class_due", "school_id", "class_id", "due_on"),
        Index("ix_homework_lesson", "school_id", "lesson_id"),
    )


class Message(Base):
    __tablename__ = "messages"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    message_id: Mapped[str] = mapped_column(Id, primary_key=True)
    class_id: Mapped[str] = mapped_column(Id)
    group_id: Mapped[str | None] = mapped_column(Id)
    lesson_id: Mapped[str | None] = mapped_column(Id)
    subject_id: Mapped[str | None] = mapped_column(Id)
    teacher_id: Mapped[str] = mapped_column(Id)
    # True when it went to a few students only (their rows are in message_recipients).
    addressed: Mapped[bool] = mapped_column(default=False)
    kind: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_messages_class_sent", "school_id", "class_id", "sent_at"),)


class MessageRecipient(Base):
    __tablename__ = "message_recipients"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    message_id: Mapped[str] = mapped_column(Id, primary_key=True)
    student_id: Mapped[str] = mapped_column(Id, primary_key=True, index=True)


class EnrolmentSpan(Base):
    """Which class (and groups) a student was in, from when to when: ids only."""

    __tablename__ = "enrolment_spans"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    enrolment_id: Mapped[str] = mapped_column(Id, primary_key=True)
    starts_on: Mapped[date] = mapped_column(Date, primary_key=True)
    student_id: Mapped[str] = mapped_column(Id)
    class_id: Mapped[str] = mapped_column(Id)
    group_ids: Mapped[str] = mapped_column(Text, default="")  # space-separated
    ends_on: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_spans_student", "school_id", "student_id", "starts_on"),
        Index("ix_spans_class", "school_id", "class_id"),
    )


class Guardianship(Base):
    """identity's guardian-student link: an access copy (ids only)."""

    __tablename__ = "guardianships"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    guardianship_id: Mapped[str] = mapped_column(Id, primary_key=True)
    guardian_id: Mapped[str] = mapped_column(Id)
    student_id: Mapped[str] = mapped_column(Id)
    active: Mapped[bool] = mapped_column(default=True)

    __table_args__ = (Index("ix_guardianships_pair", "school_id", "guardian_id", "student_id"),)


class Agreement(Base):
    """A diary agreement (R-CON-2): while one is in force for a student, the diary holds them."""

    __tablename__ = "agreements"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    agreement_id: Mapped[str] = mapped_column(Id, primary_key=True)
    guardian_id: Mapped[str] = mapped_column(Id)
    student_id: Mapped[str] = mapped_column(Id)
    concluded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Set by a termination (it may take effect later) or a revocation (at once).
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_agreements_student", "school_id", "student_id"),
        Index("ix_agreements_guardian", "school_id", "guardian_id"),
    )


class Mark(Base):
    __tablename__ = "marks"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    mark_id: Mapped[str] = mapped_column(Id, primary_key=True)
    student_id: Mapped[str] = mapped_column(Id)
    lesson_id: Mapped[str] = mapped_column(Id)
    lesson_date: Mapped[date] = mapped_column(Date)
    period_id: Mapped[str] = mapped_column(Id)
    class_id: Mapped[str] = mapped_column(Id)
    subject_id: Mapped[str] = mapped_column(Id)
    teacher_id: Mapped[str] = mapped_column(Id)
    work_type: Mapped[str] = mapped_column(String(64))
    weight: Mapped[float] = mapped_column(Float)
    scale: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_marks_student_date", "school_id", "student_id", "lesson_date"),
        Index("ix_marks_student_period", "school_id", "student_id", "period_id"),
    )


class Attendance(Base):
    __tablename__ = "attendance"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    attendance_id: Mapped[str] = mapped_column(Id, primary_key=True)
    student_id: Mapped[str] = mapped_column(Id)
    lesson_id: Mapped[str] = mapped_column(Id)
    lesson_date: Mapped[date] = mapped_column(Date)
    class_id: Mapped[str] = mapped_column(Id)
    subject_id: Mapped[str] = mapped_column(Id)
    status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(30))

    __table_args__ = (
        Index("ix_attendance_student_date", "school_id", "student_id", "lesson_date"),
        Index("ix_attendance_lesson_student", "school_id", "lesson_id", "student_id"),
    )


class FinalMark(Base):
    __tablename__ = "final_marks"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    student_id: Mapped[str] = mapped_column(Id, primary_key=True)
    period_id: Mapped[str] = mapped_column(Id, primary_key=True)
    subject_id: Mapped[str] = mapped_column(Id, primary_key=True)
    scale: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(16))


class Acknowledgement(Base):
    __tablename__ = "acknowledgements"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    acknowledgement_id: Mapped[str] = mapped_column(Id, primary_key=True)
    guardian_id: Mapped[str] = mapped_column(Id)
    student_id: Mapped[str] = mapped_column(Id)
    scope: Mapped[str] = mapped_column(String(10))
    until: Mapped[date | None] = mapped_column(Date)
    item_type: Mapped[str | None] = mapped_column(String(20))
    item_id: Mapped[str | None] = mapped_column(Id)
    acknowledged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_acknowledgements_student", "school_id", "student_id", "acknowledged_at"),
        Index("ix_acknowledgements_guardian", "school_id", "guardian_id"),
    )


class ChangeCounter(Base):
    """A counter per student, class and school, raised on every change a diary shows.

    A diary's ETag is the three counters that concern it: one indexed read, no hashing.
    """

    __tablename__ = "change_counters"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    scope: Mapped[str] = mapped_column(String(10), primary_key=True)  # student, class, school
    scope_id: Mapped[str] = mapped_column(Id, primary_key=True)
    counter: Mapped[int] = mapped_column(BigInteger, default=0)


class LoggedEvent(Base):
    """The newest accepted event of each entity, as stored: what `diary-rebuild` replays.

    Every event type here is a full snapshot of its entity (contracts/README.md), so the
    newest one per entity is enough to rebuild; older ones are overwritten. Only what the
    consent gate let in is logged, already filtered to covered students.
    """

    __tablename__ = "event_log"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(30), primary_key=True)
    entity_id: Mapped[str] = mapped_column(Id, primary_key=True)
    sequence: Mapped[int] = mapped_column(BigInteger, index=True)
    event_type: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text)
    # The person it is about, when there is exactly one (most events): no extra row needed.
    person_id: Mapped[str | None] = mapped_column(Id)

    __table_args__ = (Index("ix_event_log_person", "school_id", "person_id"),)


class LoggedEventPerson(Base):
    """Who a logged event about several people is about, so an erasure finds every copy."""

    __tablename__ = "event_log_people"
    school_id: Mapped[str] = mapped_column(Id, primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(30), primary_key=True)
    entity_id: Mapped[str] = mapped_column(Id, primary_key=True)
    person_id: Mapped[str] = mapped_column(Id, primary_key=True)

    __table_args__ = (Index("ix_event_log_people_person", "school_id", "person_id"),)
