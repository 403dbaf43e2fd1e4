"""Rooms, study groups and streams with their classes and students; the teaching load of
a group; what a lesson of the timetable carries (group, room, substitution, transfer,
template entry, form of control).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

LESSON_COLUMNS = (
    ("substituted_teacher_id", sa.String(36)),
    ("transferred_from_date", sa.Date),
    ("transferred_from_slot", sa.Integer),
    ("timetable_entry_id", sa.String(36)),
    ("planned_on", sa.Date),
    ("control_form", sa.String(32)),
)


def upgrade() -> None:
    op.create_table(
        "rooms",
        sa.Column("room_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("capacity", sa.Integer),
        sa.Column("removed", sa.Boolean, nullable=False),
        sa.UniqueConstraint("school_id", "name"),
    )
    op.create_table(
        "study_groups",
        sa.Column("group_id", sa.String(36), primary_key=True),
        sa.Column("school_id", sa.String(64), nullable=False, index=True),
        sa.Column("year_id", sa.String(36), sa.ForeignKey("years.year_id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "group_classes",
        sa.Column(
            "group_id", sa.String(36), sa.ForeignKey("study_groups.group_id"), primary_key=True
        ),
        sa.Column("class_id", sa.String(36), sa.ForeignKey("classes.class_id"), primary_key=True),
    )
    op.create_table(
        "group_members",
        sa.Column(
            "group_id", sa.String(36), sa.ForeignKey("study_groups.group_id"), primary_key=True
        ),
        sa.Column("student_id", sa.String(36), primary_key=True, index=True),
    )
    with op.batch_alter_table("assignments") as table:
        table.alter_column("class_id", existing_type=sa.String(36), nullable=True)
        table.add_column(sa.Column("group_id", sa.String(36), index=True))
        table.create_foreign_key(
            "assignments_group_id_fkey", "study_groups", ["group_id"], ["group_id"]
        )
    with op.batch_alter_table("lessons") as table:
        table.add_column(sa.Column("group_id", sa.String(36)))
        table.add_column(sa.Column("room_id", sa.String(36)))
        table.create_foreign_key(
            "lessons_group_id_fkey", "study_groups", ["group_id"], ["group_id"]
        )
        table.create_foreign_key("lessons_room_id_fkey", "rooms", ["room_id"], ["room_id"])
        for name, column_type in LESSON_COLUMNS:
            table.add_column(sa.Column(name, column_type))
    # Generating asks which of a template line's days exist already; unique, so that two
    # generations running at once cannot both create a class's lesson of one day.
    op.create_index(
        "lessons_by_timetable_entry",
        "lessons",
        ["timetable_entry_id", "planned_on", "class_id"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("lessons_by_timetable_entry", "lessons")
    with op.batch_alter_table("lessons") as table:
        table.drop_constraint("lessons_room_id_fkey", type_="foreignkey")
        table.drop_constraint("lessons_group_id_fkey", type_="foreignkey")
        for name in ("group_id", "room_id", *(name for name, _ in LESSON_COLUMNS)):
            table.drop_column(name)
    with op.batch_alter_table("assignments") as table:
        table.drop_constraint("assignments_group_id_fkey", type_="foreignkey")
        table.drop_column("group_id")
        table.alter_column("class_id", existing_type=sa.String(36), nullable=False)
    for name in ("group_members", "group_classes", "study_groups", "rooms"):
        op.drop_table(name)
