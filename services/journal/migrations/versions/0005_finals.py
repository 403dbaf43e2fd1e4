"""Final marks per class, subject and period (they lock the period).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "finalizations",
        sa.Column("finalization_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column("period_id", sa.String(36), sa.ForeignKey("periods.period_id"), nullable=False),
        sa.Column("class_id", sa.String(36), sa.ForeignKey("classes.class_id"), nullable=False),
        sa.Column(
            "subject_id", sa.String(36), sa.ForeignKey("subjects.subject_id"), nullable=False
        ),
        sa.Column("scale", sa.String(40), nullable=False),
        sa.Column("finalized_by", sa.String(36), nullable=False),
        sa.Column("finalized_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("period_id", "class_id", "subject_id"),
    )
    op.create_table(
        "final_marks",
        sa.Column(
            "finalization_id",
            sa.String(36),
            sa.ForeignKey("finalizations.finalization_id"),
            primary_key=True,
        ),
        sa.Column("student_id", sa.String(36), primary_key=True),
        sa.Column("value", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("final_marks")
    op.drop_table("finalizations")
