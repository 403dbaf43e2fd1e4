"""Calendar-thematic plans: planned topics per lesson number (R-JRN-5).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "thematic_plans",
        sa.Column("plan_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column(
            "subject_id", sa.String(36), sa.ForeignKey("subjects.subject_id"), nullable=False
        ),
        sa.Column("class_id", sa.String(36), sa.ForeignKey("classes.class_id"), index=True),
        sa.Column("group_id", sa.String(36), sa.ForeignKey("study_groups.group_id"), index=True),
        sa.Column("period_id", sa.String(36), sa.ForeignKey("periods.period_id"), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "planned_topics",
        sa.Column(
            "plan_id", sa.String(36), sa.ForeignKey("thematic_plans.plan_id"), primary_key=True
        ),
        sa.Column("lesson_number", sa.Integer, primary_key=True),
        sa.Column("topic", sa.String(500), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("planned_topics")
    op.drop_table("thematic_plans")
