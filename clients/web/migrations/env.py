"""Alembic environment of the web app: its sign-in sessions and the kit's tables."""

from schoolkit.migrate import run_migrations
from schoolkit.tables import kit_metadata
from web.models import Base

run_migrations([Base.metadata, kit_metadata])
