"""Calendar-thematic plans: planned topics per lesson number (R-JRN-5); final marks of a
group (a finalization may name the group it is for).

Revision ID: 0014
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

# 0005 left the key of finalizations unnamed: PostgreSQL calls it by this pattern, and the
# same convention names it when SQLite's batch mode reflects the table, so one name drops it.
UNIQUE_NAMES = {"uq": "%(table_name)s_%(column_0_N_name)s_key"}
WHOLE_CLASS_KEY = "finalizations_period_id_class_id_subject_id_key"
GROUP_KEY = "finalizations_period_id_class_id_subject_id_group_id_key"


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
    with op.batch_alter_table("finalizations", naming_convention=UNIQUE_NAMES) as table:
        table.drop_constraint(WHOLE_CLASS_KEY, type_="unique")
        table.add_column(sa.Column("group_id", sa.String(36)))
        table.create_foreign_key(
            "finalizations_group_id_fkey", "study_groups", ["group_id"], ["group_id"]
        )
        table.create_unique_constraint(
            GROUP_KEY, ["period_id", "class_id", "subject_id", "group_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("finalizations", naming_convention=UNIQUE_NAMES) as table:
        table.drop_constraint(GROUP_KEY, type_="unique")
        table.drop_constraint("finalizations_group_id_fkey", type_="foreignkey")
        table.drop_column("group_id")
        table.create_unique_constraint(WHOLE_CLASS_KEY, ["period_id", "class_id", "subject_id"])
    op.drop_table("planned_topics")
    op.drop_table("thematic_plans")
