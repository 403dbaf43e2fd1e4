"""Which provider carried an SMS and its id there, so its delivery receipt can be asked for.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as table:
        table.add_column(sa.Column("provider", sa.String(16)))
        table.add_column(sa.Column("provider_ref", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as table:
        table.drop_column("provider_ref")
        table.drop_column("provider")
