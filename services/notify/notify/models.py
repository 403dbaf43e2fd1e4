"""The notify service's own tables (SQLAlchemy 2). The kit's tables live in schoolkit.tables.

Contacts and guardianships are notify's own copies of identity's events (DESIGN §2);
a delivery keeps its address and text only until it is sent or given up, then only ids.
"""

from datetime import datetime
from uuid import uuid4

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schoolkit.tables import utcnow


def new_uuid() -> str:
    return str(uuid4())


class Base(DeclarativeBase):
    pass


class Contact(Base):
    """Where to reach a person: a copy of identity.contact.changed."""

    __tablename__ = "contacts"

    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(8), nullable=False, default="ru")


class Guardianship(Base):
    """Who is a guardian of whom: a copy of identity.guardian.linked/unlinked."""

    __tablename__ = "guardianships"

    guardianship_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    guardian_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    student_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)


class Preference(Base):
    """Which channels a person wants; notices the law demands go out regardless."""

    __tablename__ = "preferences"

    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    email: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    sms: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PendingNotice(Base):
    """Someone who must hear that an erasure finished (R-PD-2, R-PD-3): ids only."""

    __tablename__ = "pending_notices"

    erasure_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    recipient_erased: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class Delivery(Base):
    """One message to one person over one channel, and what became of it."""

    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    recipient_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    notice: Mapped[str] = mapped_column(String(40), nullable=False)
    about_event_type: Mapped[str] = mapped_column(String(120), nullable=False)
    about_event_id: Mapped[str] = mapped_column(String(36), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="pending", index=True)
    address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
