"""Backups of every service's database: the catalogue of sets, the erasure ledger, drills.

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
        "backup_sets",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("service", sa.String(20), nullable=False, index=True),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("size_bytes", sa.BigInteger),
        sa.Column("manifest_sha256", sa.String(64)),
        sa.Column("ledger_position", sa.Integer),
        sa.Column("schema_revision", sa.String(40)),
        sa.Column("verified_at", sa.DateTime(timezone=True)),
        sa.Column("verified_ok", sa.Boolean),
        sa.Column("failure", sa.String(400)),
    )
    op.create_table(
        "erasure_ledger",
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("erasure_id", sa.String(36), nullable=False, index=True),
        sa.Column("school_id", sa.String(64), nullable=False),
        sa.Column("request", sa.JSON, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "drills",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("service", sa.String(20), nullable=False, index=True),
        sa.Column("backup_set_id", sa.String(40)),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("passed", sa.Boolean, nullable=False),
        sa.Column("seconds", sa.Float),
        sa.Column("replayed_erasures", sa.Integer),
        sa.Column("residue", sa.Integer),
        sa.Column("failure", sa.String(400)),
    )


def downgrade() -> None:
    for table in ("drills", "erasure_ledger", "backup_sets"):
        op.drop_table(table)
