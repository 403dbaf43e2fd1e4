"""Tombstones belong to a school: an erasure buries its subjects in its own school only.

Ids buried before this revision stay buried in every school (DESIGN §4 6a).

Revision ID: 0004
Revises: 0003
"""

from schoolkit.tables import scope_tombstones_by_school, unscope_tombstones

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    scope_tombstones_by_school()


def downgrade() -> None:
    unscope_tombstones()
