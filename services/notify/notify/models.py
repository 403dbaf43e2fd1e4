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
    """What a person wants to hear, how and when; notices the law demands go out regardless.

    `email`/`sms` switch a channel off altogether; `choices` holds only what the person
    changed from the defaults (categories.py), as {category: {channel: cadence}}.
    """

    __tablename__ = "preferences"

    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    email: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    sms: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    choices: Mapped[dict[str, dict[str, str]]] = mapped_column(JSON, nullable=False, default=dict)
    quiet_from: Mapped[str | None] = mapped_column(String(5))  # "HH:MM", school's wall clock
    quiet_until: Mapped[str | None] = mapped_column(String(5))
    digest_at: Mapped[str | None] = mapped_column(String(5))
    weekly_on: Mapped[str | None] = mapped_column(String(9))  # "monday" … "sunday"
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Person(Base):
    """A person's name, from identity.person.changed: every message names the child."""

    __tablename__ = "people"

    person_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    first_name: Mapped[str] = mapped_column(String(100), nullable=False)
    last_name: Mapped[str] = mapped_column(String(100), nullable=False)


class Enrolment(Base):
    """A student's class and groups, from journal.student.*: who a class's news is for."""

    __tablename__ = "enrolments"

    student_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    class_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    group_ids: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)


class Agreement(Base):
    """A diary agreement, from consent's events: news flows only while one is in force
    (R-DRY-3), the same gate as the diary's."""

    __tablename__ = "agreements"

    agreement_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    guardian_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    student_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Holidays(Base):
    """The holidays notify last told families of, per school year: a calendar change that
    leaves them as they were is no news."""

    __tablename__ = "holidays"

    year_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    ranges: Mapped[list[dict[str, str]]] = mapped_column(JSON, nullable=False, default=list)


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
    # pending: due now; created: planned for later (quiet hours, a digest, a mark settling);
    # sending: handed to the provider, outcome not yet committed; sent; failed; cancelled.
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="pending", index=True)
    address: Mapped[str | None] = mapped_column(String(254))
    subject: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, str]] = mapped_column(JSON, nullable=False, default=dict)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Everyday news (not legal notices): rendered when sent, so a digest gathers its items
    # and a mark corrected before it left goes out with its final value.
    category: Mapped[str | None] = mapped_column(String(24))
    student_id: Mapped[str | None] = mapped_column(String(36), index=True)
    topic: Mapped[str | None] = mapped_column(String(80), index=True)  # e.g. mark:<id>
    cadence: Mapped[str] = mapped_column(String(12), nullable=False, default="immediately")
    sending_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The SMS provider that took it and its id there: for the delivery receipt.
    provider: Mapped[str | None] = mapped_column(String(16))
    provider_ref: Mapped[str | None] = mapped_column(String(64))

    @property
    def planned_at(self) -> datetime:
        """When it leaves: its planned time, or the time of its next try."""
        return self.next_attempt_at


class Template(Base):
    """A school's own wording of one category's news in one language; every save is a new
    version, the newest is used. Without one, the built-in wording (news_texts.py)."""

    __tablename__ = "templates"

    school_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    category: Mapped[str] = mapped_column(String(24), primary_key=True)
    language: Mapped[str] = mapped_column(String(8), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    saved_by: Mapped[str] = mapped_column(String(36), nullable=False)
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
