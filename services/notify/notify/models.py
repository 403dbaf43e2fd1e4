"""The notify service's own tables (SQLAlchemy 2). The kit's tables live in schoolkit.tables."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
