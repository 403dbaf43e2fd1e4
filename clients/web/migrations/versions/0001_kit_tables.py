"""The kit's tables as every service has them now (the deny-list among them).

Revision ID: 0001
Revises:
"""

from schoolkit.tables import (
    create_kit_tables,
    drop_kit_tables,
    drop_outbox_trigger,
    scope_tombstones_by_school,
)

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kit_tables()
    scope_tombstones_by_school()
    drop_outbox_trigger()


def downgrade() -> None:
    drop_kit_tables()
