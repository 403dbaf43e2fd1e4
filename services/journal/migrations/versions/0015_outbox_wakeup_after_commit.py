"""The relays are woken after commit by the writing process, not by a trigger.

A NOTIFY sent by a trigger inside each writing transaction serialised the commits of all
of them on PostgreSQL's notification lock; schoolkit.wakeup now sends it after commit.

Revision ID: 0015
Revises: 0014
"""

from schoolkit.tables import drop_outbox_trigger, restore_outbox_trigger

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    drop_outbox_trigger()


def downgrade() -> None:
    restore_outbox_trigger()
