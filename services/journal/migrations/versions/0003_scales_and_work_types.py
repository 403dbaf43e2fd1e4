"""Grading scales (a school's own) and work types with weights.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "grading_scales",
        sa.Column("scale_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("marks", sa.JSON, nullable=False),
        sa.UniqueConstraint("school_id", "code"),
    )
    op.create_table(
        "work_types",
        sa.Column("work_type_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("weight", sa.Float, nullable=False),
        sa.Column("scale", sa.String(40), nullable=False),
        sa.Column("control", sa.Boolean, nullable=False),
        sa.UniqueConstraint("school_id", "code"),
    )


def downgrade() -> None:
    op.drop_table("work_types")
    op.drop_table("grading_scales")
