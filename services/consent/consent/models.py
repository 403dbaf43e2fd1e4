"""The consent service's own tables (SQLAlchemy 2). The kit's tables live in schoolkit.tables.

Consent records follow consent-receipt practice (ISO/IEC TS 27560, Kantara): who, for
whom, which controller, purposes, categories, basis, template version, how collected,
when, status. Personal fields of the paper form the system does not need (passport,
addresses, SNILS) are not stored: the paper original stays in the school's file.
"""

from datetime import date, datetime
from uuid import uuid4

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schoolkit.tables import utcnow


def new_uuid() -> str:
    return str(uuid4())


class Base(DeclarativeBase):
    pass


class Template(Base):
    """One version of a consent document: the processing consent or the diary agreement."""

    __tablename__ = "templates"
    __table_args__ = (UniqueConstraint("kind", "version"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # processing | diary_agreement
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    title: Mapped[str] = mapped_column(String(200), nullable=False)
    purposes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    guardian_categories: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    student_categories: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    actions: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    recipients: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    validity: Mapped[str] = mapped_column(String(200), nullable=False)
    text: Mapped[str] = mapped_column(Text, nullable=False)
    effective_from: Mapped[date] = mapped_column(Date, nullable=False)


class Consent(Base):
    """A guardian's consent (or refusal) to processing, for themself and a student."""

    __tablename__ = "consents"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    guardian_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    student_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    representation: Mapped[str] = mapped_column(String(30), nullable=False)
    template_id: Mapped[str] = mapped_column(ForeignKey("templates.id"), nullable=False)
    purposes: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    categories: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    legal_basis: Mapped[str] = mapped_column(String(200), nullable=False)
    method: Mapped[str] = mapped_column(String(12), nullable=False)  # paper | electronic
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # given refused withdrawn ended
    signed_on: Mapped[date] = mapped_column(Date, nullable=False)
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    registered_by: Mapped[str] = mapped_column(String(36), nullable=False)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The staff member who registered the withdrawal (the audit names who did it).
    withdrawn_by: Mapped[str | None] = mapped_column(String(36))
    withdrawal_reason: Mapped[str | None] = mapped_column(String(30))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class Agreement(Base):
    """A diary agreement (annex 4), concluded by registering the guardian's application."""

    __tablename__ = "agreements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    guardian_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    student_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    template_id: Mapped[str] = mapped_column(ForeignKey("templates.id"), nullable=False)
    registration_number: Mapped[str] = mapped_column(String(40), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)  # in_force | terminated
    applied_on: Mapped[date] = mapped_column(Date, nullable=False)
    concluded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    registered_by: Mapped[str] = mapped_column(String(36), nullable=False)
    terminated_by: Mapped[str | None] = mapped_column(String(12))  # which party ended it
    # The staff member who registered the termination (none when a student's leaving ended it).
    termination_registered_by: Mapped[str | None] = mapped_column(String(36))
    effective_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # What opened the erasure of this agreement's data, once it did.
    erasure_trigger: Mapped[str | None] = mapped_column(String(36))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)


class Erasure(Base):
    """An erasure request (DESIGN §4): whose data, why, which categories, by when."""

    __tablename__ = "erasures"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(String(30), nullable=False)
    trigger_event_id: Mapped[str] = mapped_column(String(36), nullable=False, unique=True)
    subjects: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False)
    categories: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    retain: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    deadline: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="open", index=True)
    attempt: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # Participants that have not confirmed yet: counted down, so finishing costs no query.
    waiting: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    last_asked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    overdue_raised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ErasureParticipant(Base):
    """One service's part in one erasure: asked when, confirmed when, with what counts."""

    __tablename__ = "erasure_participants"

    erasure_id: Mapped[str] = mapped_column(ForeignKey("erasures.id"), primary_key=True)
    participant: Mapped[str] = mapped_column(String(20), primary_key=True)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    counts: Mapped[dict[str, int]] = mapped_column(JSON, nullable=False, default=dict)
    retained: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)
    confirmations: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ErasureLogEntry(Base):
    """The event log of one erasure, extracted into its act (R-PD-4)."""

    __tablename__ = "erasure_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    erasure_id: Mapped[str] = mapped_column(ForeignKey("erasures.id"), nullable=False, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, default=utcnow)
    what: Mapped[str] = mapped_column(String(40), nullable=False)
    participant: Mapped[str | None] = mapped_column(String(20))
    event_id: Mapped[str | None] = mapped_column(String(36))
    details: Mapped[dict[str, object]] = mapped_column(JSON, nullable=False, default=dict)


# --- consent's own copies of other services' data (DESIGN §2), erased like the rest ---------


class PersonCopy(Base):
    """Who a person is to a school, from `identity.person.changed`: only what deciding
    whether a consent may name them needs — no names, no contacts."""

    __tablename__ = "person_copies"

    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)  # staff | guardian | student


class GuardianshipCopy(Base):
    """A guardian-student link in force, from `identity.guardian.linked` (removed when
    `identity.guardian.unlinked` arrives)."""

    __tablename__ = "guardianship_copies"

    guardianship_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    guardian_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    student_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)


class ClassCopy(Base):
    """The journal's class and its class teacher, from `journal.class.changed` (R-ROLE-3)."""

    __tablename__ = "class_copies"

    class_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    class_teacher_id: Mapped[str | None] = mapped_column(String(36), index=True)


class ClassMembership(Base):
    """Which class a student is in now, from the journal's enrolment events."""

    __tablename__ = "class_memberships"

    student_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    class_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
