"""The contingent: enrolments and the history of every move.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enrolments",
        sa.Column("enrolment_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column("student_id", sa.String(36), nullable=False, index=True),
        sa.Column(
            "class_id", sa.String(36), sa.ForeignKey("classes.class_id"), nullable=False, index=True
        ),
        sa.Column("individual_plan", sa.Boolean, nullable=False),
        sa.Column("enrolled_on", sa.Date, nullable=False),
        sa.Column("left_on", sa.Date),
        sa.Column("leave_reason", sa.String(16)),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "enrolment_moves",
        sa.Column("move_id", sa.String(36), primary_key=True),
        sa.Column(
            "enrolment_id",
            sa.String(36),
            sa.ForeignKey("enrolments.enrolment_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_class_id", sa.String(36)),
        sa.Column("to_class_id", sa.String(36)),
        sa.Column("on", sa.Date, nullable=False),
        sa.Column("reason", sa.String(16)),
        sa.Column("by", sa.String(36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("enrolment_moves")
    op.drop_table("enrolments")
