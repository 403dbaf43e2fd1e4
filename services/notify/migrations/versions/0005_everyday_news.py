"""Everyday news (issue 17): names, enrolments, agreements and holidays copies; choices per
category and channel, quiet hours and digest times; deliveries planned for later.

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
    _copies()
    with op.batch_alter_table("preferences") as table:
        table.add_column(sa.Column("choices", sa.JSON, nullable=False, server_default="{}"))
        table.add_column(sa.Column("quiet_from", sa.String(5)))
        table.add_column(sa.Column("quiet_until", sa.String(5)))
        table.add_column(sa.Column("digest_at", sa.String(5)))
        table.add_column(sa.Column("weekly_on", sa.String(9)))
    with op.batch_alter_table("deliveries") as table:
        table.add_column(sa.Column("category", sa.String(24)))
        table.add_column(sa.Column("student_id", sa.String(36)))
        table.add_column(sa.Column("topic", sa.String(80)))
        table.add_column(
            sa.Column("cadence", sa.String(12), nullable=False, server_default="immediately")
        )
        table.add_column(sa.Column("sending_since", sa.DateTime(timezone=True)))
    op.create_index("ix_deliveries_student_id", "deliveries", ["student_id"])
    op.create_index("ix_deliveries_topic", "deliveries", ["topic"])


def _copies() -> None:
    op.create_table(
        "people",
        sa.Column("person_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("first_name", sa.String(100), nullable=False),
        sa.Column("last_name", sa.String(100), nullable=False),
    )
    op.create_table(
        "enrolments",
        sa.Column("student_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("class_id", sa.String(36), nullable=False, index=True),
        sa.Column("group_ids", sa.JSON, nullable=False),
    )
    op.create_table(
        "agreements",
        sa.Column("agreement_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("guardian_id", sa.String(36), nullable=False, index=True),
        sa.Column("student_id", sa.String(36), nullable=False, index=True),
        sa.Column("ends_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "holidays",
        sa.Column("year_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("ranges", sa.JSON, nullable=False),
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_topic", "deliveries")
    op.drop_index("ix_deliveries_student_id", "deliveries")
    with op.batch_alter_table("deliveries") as table:
        for column in ("sending_since", "cadence", "topic", "student_id", "category"):
            table.drop_column(column)
    with op.batch_alter_table("preferences") as table:
        for column in ("weekly_on", "digest_at", "quiet_until", "quiet_from", "choices"):
            table.drop_column(column)
    for name in ("holidays", "agreements", "enrolments", "people"):
        op.drop_table(name)
