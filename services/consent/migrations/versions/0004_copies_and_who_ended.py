"""Consent's copies of identity's people and guardianships and of the journal's classes,
so that a consent names only a family linked in the caller's school and a class teacher
reaches only their own class (issue 14); and who registered a withdrawal or termination.

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
    op.add_column("consents", sa.Column("withdrawn_by", sa.String(length=36), nullable=True))
    op.add_column(
        "agreements",
        sa.Column("termination_registered_by", sa.String(length=36), nullable=True),
    )
    op.create_table(
        "person_copies",
        sa.Column("person_id", sa.String(length=36), primary_key=True),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
    )
    op.create_table(
        "guardianship_copies",
        sa.Column("guardianship_id", sa.String(length=36), primary_key=True),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("guardian_id", sa.String(length=36), nullable=False),
        sa.Column("student_id", sa.String(length=36), nullable=False),
    )
    op.create_index(
        op.f("ix_guardianship_copies_guardian_id"), "guardianship_copies", ["guardian_id"]
    )
    op.create_index(
        op.f("ix_guardianship_copies_student_id"), "guardianship_copies", ["student_id"]
    )
    op.create_table(
        "class_copies",
        sa.Column("class_id", sa.String(length=36), primary_key=True),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("class_teacher_id", sa.String(length=36), nullable=True),
    )
    op.create_index(op.f("ix_class_copies_class_teacher_id"), "class_copies", ["class_teacher_id"])
    op.create_table(
        "class_memberships",
        sa.Column("student_id", sa.String(length=36), primary_key=True),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("class_id", sa.String(length=36), nullable=False),
    )
    op.create_index(op.f("ix_class_memberships_class_id"), "class_memberships", ["class_id"])


def downgrade() -> None:
    op.drop_table("class_memberships")
    op.drop_table("class_copies")
    op.drop_table("guardianship_copies")
    op.drop_table("person_copies")
    op.drop_column("agreements", "termination_registered_by")
    op.drop_column("consents", "withdrawn_by")
