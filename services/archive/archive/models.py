"""The archive's own tables (SQLAlchemy 2). The kit's tables live in schoolkit.tables.

Every archived record is encrypted with the key of the one person it is about (or of
the school, for what is about nobody in particular). Keys live only here, wrapped by the
master key, and never in a backup: destroying a person's key makes every copy of their
records, in every backup, unreadable (crypto-shredding, DESIGN §4.6).
"""

from datetime import datetime
from uuid import uuid4

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, Float, Integer, LargeBinary, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schoolkit.tables import utcnow


def new_uuid() -> str:
    return str(uuid4())


class Base(DeclarativeBase):
    pass


class SubjectKey(Base):
    """A data key of one person (or `school:<id>`), wrapped by the master key, stored
    under its reference (keys.reference), never the person's id."""

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
    # Empty since migration 0006: the type and time are inside the seal only.
    event_type: Mapped[str | None] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(20), nullable=False)
    key_id: Mapped[str] = mapped_column(String(80), nullable=False, index=True)  # a reference
    sealed: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    occurred_at: Mapped[str | None] = mapped_column(String(40))


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


class BackupSet(Base):
    """The catalogue entry of one backup set of one service's database (issue 18).

    The set itself (sealed files and a signed manifest) lives in the backup store and
    describes itself: a restore needs the store and the master key, not this row."""

    __tablename__ = "backup_sets"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    service: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(12), nullable=False, default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    manifest_sha256: Mapped[str | None] = mapped_column(String(64))
    ledger_position: Mapped[int | None] = mapped_column(Integer)
    schema_revision: Mapped[str | None] = mapped_column(String(40))
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_ok: Mapped[bool | None] = mapped_column(Boolean)
    failure: Mapped[str | None] = mapped_column(String(400))


class ErasureLedgerEntry(Base):
    """One erasure as consent requested it: what every restore replays, in order.

    Opaque ids, kinds, categories and retentions only (the request's data), never a name."""

    __tablename__ = "erasure_ledger"

    position: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    erasure_id: Mapped[str] = mapped_column(String(36), nullable=False, index=True)
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    request: Mapped[dict[str, object]] = mapped_column(JSON, nullable=False)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Drill(Base):
    """One restore drill of one service: its verdict and how long it took."""

    __tablename__ = "drills"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_uuid)
    service: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    backup_set_id: Mapped[str | None] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    passed: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    seconds: Mapped[float | None] = mapped_column(Float)
    replayed_erasures: Mapped[int | None] = mapped_column(Integer)
    residue: Mapped[int | None] = mapped_column(Integer)
    failure: Mapped[str | None] = mapped_column(String(400))
