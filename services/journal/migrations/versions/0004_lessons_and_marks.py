"""Lessons and marks.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lessons",
        sa.Column("lesson_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column("class_id", sa.String(36), sa.ForeignKey("classes.class_id"), nullable=False),
        sa.Column(
            "subject_id", sa.String(36), sa.ForeignKey("subjects.subject_id"), nullable=False
        ),
        sa.Column("teacher_id", sa.String(36), nullable=False),
        sa.Column("period_id", sa.String(36), sa.ForeignKey("periods.period_id"), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("slot", sa.Integer, nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(500)),
        sa.Column("version", sa.Integer, nullable=False),
    )
    # The class journal grid reads a class's lessons of a subject in a period.
    op.create_index(
        "lessons_by_class_subject_period", "lessons", ["class_id", "subject_id", "period_id"]
    )
    op.create_table(
        "marks",
        sa.Column("mark_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column(
            "lesson_id",
            sa.String(36),
            sa.ForeignKey("lessons.lesson_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("student_id", sa.String(36), nullable=False, index=True),
        sa.Column(
            "work_type_id",
            sa.String(36),
            sa.ForeignKey("work_types.work_type_id"),
            nullable=False,
        ),
        sa.Column("value", sa.String(16), nullable=False),
        sa.Column("comment", sa.String(500)),
        sa.Column("teacher_id", sa.String(36), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True)),
        sa.Column("version", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("marks")
    op.drop_index("lessons_by_class_subject_period", "lessons")
    op.drop_table("lessons")
