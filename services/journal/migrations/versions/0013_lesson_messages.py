"""Teachers' messages and recommendations to guardians about a lesson.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lesson_messages",
        sa.Column("message_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column(
            "lesson_id",
            sa.String(36),
            sa.ForeignKey("lessons.lesson_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("teacher_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.Column("student_ids", sa.JSON),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("lesson_messages")
