"""The school year: years, periods, holidays, subjects, classes, the teaching load.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _school_id() -> sa.Column:
    return sa.Column("school_id", sa.String(64), nullable=False, index=True)


def _year_id() -> sa.Column:
    return sa.Column(
        "year_id", sa.String(36), sa.ForeignKey("years.year_id"), nullable=False, index=True
    )


def upgrade() -> None:
    op.create_table(
        "years",
        sa.Column("year_id", sa.String(36), primary_key=True),
        _school_id(),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("calendar_version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "periods",
        sa.Column("period_id", sa.String(36), primary_key=True),
        _school_id(),
        _year_id(),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
    )
    op.create_table(
        "holidays",
        sa.Column("holiday_id", sa.String(36), primary_key=True),
        _school_id(),
        _year_id(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
    )
    op.create_table(
        "subjects",
        sa.Column("subject_id", sa.String(36), primary_key=True),
        _school_id(),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("short_name", sa.String(40)),
        sa.Column("removed", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "classes",
        sa.Column("class_id", sa.String(36), primary_key=True),
        _school_id(),
        _year_id(),
        sa.Column("name", sa.String(20), nullable=False),
        sa.Column("grade", sa.Integer, nullable=False),
        sa.Column("class_teacher_id", sa.String(36), index=True),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "assignments",
        sa.Column("assignment_id", sa.String(36), primary_key=True),
        _school_id(),
        sa.Column("teacher_id", sa.String(36), nullable=False, index=True),
        sa.Column(
            "subject_id", sa.String(36), sa.ForeignKey("subjects.subject_id"), nullable=False
        ),
        sa.Column(
            "class_id",
            sa.String(36),
            sa.ForeignKey("classes.class_id"),
            nullable=False,
            index=True,
        ),
        sa.Column("hours_per_week", sa.Integer),
    )


def downgrade() -> None:
    for table in ("assignments", "classes", "subjects", "holidays", "periods", "years"):
        op.drop_table(table)
