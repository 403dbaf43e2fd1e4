"""Correction requests of removed marks go.

Removing a mark left its correction requests behind: they quote the mark's values and a
teacher's reason about the student, and an erasure, which finds them through the
student's marks, could no longer reach them. Removal now deletes them; this deletes the
ones left before.

Revision ID: 0016
Revises: 0015
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM correction_requests WHERE mark_id NOT IN (SELECT mark_id FROM marks)")


def downgrade() -> None:
    pass  # what was destroyed stays destroyed
