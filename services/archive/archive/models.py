"""The archive's own tables (SQLAlchemy 2). The kit's tables live in schoolkit.tables.

Every archived record is encrypted with the key of the one person it is about (or of
the school, for what is about nobody in particular). Keys live only here, wrapped by the
master key, and never in a backup: destroying a person's key makes every copy of their
records, in every backup, unreadable (crypto-shredding, DESIGN §4.6).
"""

from datetime import datetime
from uuid import uuid4

from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schoolkit.tables import utcnow


def new_uuid() -> str:
    return str(uuid4())


class Base(DeclarativeBase):
    pass


class SubjectKey(Base):
    """A data key of one person (or `school:<id>`), wrapped by the master key."""

    __tablename__ = "subject_keys"

    key_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class ArchivedRecord(Base):
    """One event (or one person's share of it), sealed with that person's key."""

    __tablename__ = "archived_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    event_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    event_type: Mapped[str] = mapped_column(String(120), nullable=False)
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    key_id: Mapped[str] = mapped_column(String(80), nullable=False, index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    occurred_at: Mapped[str] = mapped_column(String(40), nullable=False)


class Backup(Base):
    """A backup of the archived records of one school: a file, its checksum, its fate."""

    __tablename__ = "backups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    file_name: Mapped[str | None] = mapped_column(String(200))
    sha256: Mapped[str | None] = mapped_column(String(64))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    records: Mapped[int | None] = mapped_column(Integer)
    services: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    failure: Mapped[str | None] = mapped_column(String(200))
