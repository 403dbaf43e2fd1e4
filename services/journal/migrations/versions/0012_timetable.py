"""The bell schedule, weekly timetable templates, substitutions and transfers.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bells",
        sa.Column("school_id", sa.String(64), primary_key=True),
        sa.Column("slot", sa.Integer, primary_key=True),
        sa.Column("starts", sa.Time, nullable=False),
        sa.Column("ends", sa.Time, nullable=False),
    )
    op.create_table(
        "timetable_entries",
        sa.Column("entry_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column("year_id", sa.String(36), sa.ForeignKey("years.year_id"), nullable=False),
        sa.Column("class_id", sa.String(36), sa.ForeignKey("classes.class_id"), index=True),
        sa.Column("group_id", sa.String(36), sa.ForeignKey("study_groups.group_id"), index=True),
        sa.Column("weekday", sa.Integer, nullable=False),
        sa.Column("slot", sa.Integer, nullable=False),
        sa.Column(
            "subject_id", sa.String(36), sa.ForeignKey("subjects.subject_id"), nullable=False
        ),
        sa.Column("teacher_id", sa.String(36), nullable=False, index=True),
        sa.Column("room_id", sa.String(36), sa.ForeignKey("rooms.room_id")),
    )
    op.create_table(
        "lesson_changes",
        sa.Column("change_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column(
            "lesson_id",
            sa.String(36),
            sa.ForeignKey("lessons.lesson_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("before", sa.JSON, nullable=False),
        sa.Column("after", sa.JSON, nullable=False),
        sa.Column("by", sa.String(36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    for name in ("lesson_changes", "timetable_entries", "bells"):
        op.drop_table(name)
