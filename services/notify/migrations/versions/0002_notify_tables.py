"""Notify's tables: contact and guardianship copies, preferences, deliveries, pending notices.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contacts",
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(32)),
        sa.Column("language", sa.String(8), nullable=False),
    )
    op.create_table(
        "guardianships",
        sa.Column("guardianship_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("guardian_id", sa.String(36), nullable=False, index=True),
        sa.Column("student_id", sa.String(36), nullable=False, index=True),
    )
    op.create_table(
        "preferences",
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("email", sa.Boolean, nullable=False),
        sa.Column("sms", sa.Boolean, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "pending_notices",
        sa.Column("erasure_id", sa.String(36), primary_key=True),
        sa.Column("recipient_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("recipient_erased", sa.Boolean, nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column("recipient_id", sa.String(36), nullable=False, index=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("notice", sa.String(40), nullable=False),
        sa.Column("about_event_type", sa.String(120), nullable=False),
        sa.Column("about_event_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(12), nullable=False, index=True),
        sa.Column("address", sa.String(254)),
        sa.Column("subject", sa.String(200)),
        sa.Column("body", sa.Text),
        sa.Column("details", sa.JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    for table in ("deliveries", "pending_notices", "preferences", "guardianships", "contacts"):
        op.drop_table(table)
