"""The sign-in sessions of the web app.

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
        "web_sessions",
        sa.Column("id_digest", sa.String(64), primary_key=True),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("oauth_state", sa.String(64)),
        sa.Column("code_verifier", sa.String(128)),
        sa.Column("next_path", sa.String(500)),
        sa.Column("user_id", sa.String(64)),
        sa.Column("school_id", sa.String(64)),
        sa.Column("identity_session_id", sa.String(64)),
        sa.Column("access_token", sa.Text()),
        sa.Column("access_expires_at", sa.DateTime(timezone=True)),
        sa.Column("refresh_token", sa.Text()),
    )
    op.create_index("ix_web_sessions_user", "web_sessions", ["user_id"])


def downgrade() -> None:
    op.drop_table("web_sessions")
