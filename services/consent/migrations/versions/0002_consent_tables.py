"""Consent's tables: templates, consents, diary agreements, erasures and their log.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

from consent.templates import seed_templates

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasures",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=30), nullable=False),
        sa.Column("trigger_event_id", sa.String(length=36), nullable=False),
        sa.Column("subjects", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("retain", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("last_asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("overdue_raised_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("trigger_event_id"),
    )
    op.create_index(op.f("ix_erasures_school_id"), "erasures", ["school_id"], unique=False)
    op.create_index(op.f("ix_erasures_status"), "erasures", ["status"], unique=False)
    op.create_table(
        "templates",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("guardian_categories", sa.JSON(), nullable=False),
        sa.Column("student_categories", sa.JSON(), nullable=False),
        sa.Column("actions", sa.JSON(), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("validity", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "version"),
    )
    op.create_table(
        "agreements",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("guardian_id", sa.String(length=36), nullable=False),
        sa.Column("student_id", sa.String(length=36), nullable=False),
        sa.Column("template_id", sa.String(length=36), nullable=False),
        sa.Column("registration_number", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("concluded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(length=36), nullable=False),
        sa.Column("terminated_by", sa.String(length=12), nullable=True),
        sa.Column("effective_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("erasure_trigger", sa.String(length=36), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["templates.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_agreements_guardian_id"), "agreements", ["guardian_id"], unique=False)
    op.create_index(op.f("ix_agreements_school_id"), "agreements", ["school_id"], unique=False)
    op.create_index(op.f("ix_agreements_student_id"), "agreements", ["student_id"], unique=False)
    op.create_table(
        "consents",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("school_id", sa.String(length=64), nullable=False),
        sa.Column("guardian_id", sa.String(length=36), nullable=False),
        sa.Column("student_id", sa.String(length=36), nullable=False),
        sa.Column("representation", sa.String(length=30), nullable=False),
        sa.Column("template_id", sa.String(length=36), nullable=False),
        sa.Column("purposes", sa.JSON(), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("legal_basis", sa.String(length=200), nullable=False),
        sa.Column("method", sa.String(length=12), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.String(length=36), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawal_reason", sa.String(length=30), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["templates.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_consents_guardian_id"), "consents", ["guardian_id"], unique=False)
    op.create_index(op.f("ix_consents_school_id"), "consents", ["school_id"], unique=False)
    op.create_index(op.f("ix_consents_student_id"), "consents", ["student_id"], unique=False)
    op.create_table(
        "erasure_log",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("erasure_id", sa.String(length=36), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("what", sa.String(length=40), nullable=False),
        sa.Column("participant", sa.String(length=20), nullable=True),
        sa.Column("event_id", sa.String(length=36), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["erasure_id"],
            ["erasures.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_erasure_log_erasure_id"), "erasure_log", ["erasure_id"], unique=False)
    op.create_table(
        "erasure_participants",
        sa.Column("erasure_id", sa.String(length=36), nullable=False),
        sa.Column("participant", sa.String(length=20), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("retained", sa.JSON(), nullable=False),
        sa.Column("confirmations", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["erasure_id"],
            ["erasures.id"],
        ),
        sa.PrimaryKeyConstraint("erasure_id", "participant"),
    )

    seed_templates(op.get_bind())


def downgrade() -> None:
    op.drop_table("erasure_participants")
    op.drop_index(op.f("ix_erasure_log_erasure_id"), table_name="erasure_log")
    op.drop_table("erasure_log")
    op.drop_index(op.f("ix_consents_student_id"), table_name="consents")
    op.drop_index(op.f("ix_consents_school_id"), table_name="consents")
    op.drop_index(op.f("ix_consents_guardian_id"), table_name="consents")
    op.drop_table("consents")
    op.drop_index(op.f("ix_agreements_student_id"), table_name="agreements")
    op.drop_index(op.f("ix_agreements_school_id"), table_name="agreements")
    op.drop_index(op.f("ix_agreements_guardian_id"), table_name="agreements")
    op.drop_table("agreements")
    op.drop_table("templates")
    op.drop_index(op.f("ix_erasures_status"), table_name="erasures")
    op.drop_index(op.f("ix_erasures_school_id"), table_name="erasures")
    op.drop_table("erasures")
