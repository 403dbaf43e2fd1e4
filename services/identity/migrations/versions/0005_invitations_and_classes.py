"""Invitations (guardian self-registration codes) and copies of the journal's classes.

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
        "invitations",
        sa.Column("id", sa.String(length=36), primary_key=True),
        sa.Column("school_id", sa.String(length=64), nullable=False, index=True),
        sa.Column("student_id", sa.String(length=36), nullable=False, index=True),
        sa.Column("registers", sa.String(length=10), nullable=False),
        sa.Column("guardian_id", sa.String(length=36), nullable=True, index=True),
        sa.Column("code_digest", sa.String(length=64), nullable=False, unique=True),
        sa.Column("issued_by", sa.String(length=36), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("account_id", sa.String(length=36), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "class_copies",
        sa.Column("class_id", sa.String(length=36), primary_key=True),
        sa.Column("school_id", sa.String(length=64), nullable=False, index=True),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("class_teacher_id", sa.String(length=36), nullable=True),
    )
    op.create_table(
        "class_memberships",
        sa.Column("student_id", sa.String(length=36), primary_key=True),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("class_id", sa.String(length=36), nullable=False, index=True),
    )
    # Registration attempts are counted per address from the audit.
    op.create_index("ix_audit_entries_ip_at", "audit_entries", ["ip", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_entries_ip_at", "audit_entries")
    op.drop_table("class_memberships")
    op.drop_table("class_copies")
    op.drop_table("invitations")
