"""Alembic environment of the identity service: its own tables and the kit's."""

from identity.models import Base
from identity.oauth import tables as _oauth_tables  # noqa: F401 - registers them on Base
from schoolkit.migrate import run_migrations
from schoolkit.tables import kit_metadata

run_migrations([Base.metadata, kit_metadata])
