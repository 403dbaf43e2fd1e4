"""Alembic environment of the notify service: its own tables and the kit's."""

from notify.models import Base
from schoolkit.migrate import run_migrations
from schoolkit.tables import kit_metadata

run_migrations([Base.metadata, kit_metadata])
