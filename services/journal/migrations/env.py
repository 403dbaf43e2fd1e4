"""Alembic environment of the journal service: its own tables and the kit's."""

from journal.models import Base
from schoolkit.migrate import run_migrations
from schoolkit.tables import kit_metadata

run_migrations([Base.metadata, kit_metadata])
