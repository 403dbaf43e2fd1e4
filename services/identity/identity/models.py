"""The identity service's own tables (SQLAlchemy 2). The kit's tables live in schoolkit.tables."""

from datetime import datetime
from uuid import uuid4

from sqlalchemy import JSON, DateTime, String, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from schoolkit.tables import utcnow


class Base(DeclarativeBase):
    pass


class Account(Base):
    """A login of one school. The password is only ever stored as an Argon2id hash."""

    __tablename__ = "accounts"
    __table_args__ = (UniqueConstraint("school_id", "login"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=lambda: str(uuid4()))
    school_id: Mapped[str] = mapped_column(String(64), nullable=False)
    login: Mapped[str] = mapped_column(String(120), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    roles: Mapped[list[str]] = mapped_column(JSON, nullable=False, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
