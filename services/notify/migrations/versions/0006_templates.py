"""Templates: a school's own wording of each category's news per language, versioned.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "templates",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("category", sa.String(24), primary_key=True),
        sa.Column("language", sa.String(8), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("saved_by", sa.String(36), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("templates")
