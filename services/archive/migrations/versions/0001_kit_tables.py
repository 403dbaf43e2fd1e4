"""The kit's tables: outbox, inbox, tombstones, entity versions, deny-list.

Revision ID: 0001
Revises:
"""

from schoolkit.tables import create_kit_tables, drop_kit_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kit_tables()


def downgrade() -> None:
    drop_kit_tables()
