"""The web app's own table: sign-in sessions, the one thing it owns (DESIGN §2).

A row is made when a browser starts signing in (it holds the PKCE verifier and the
`state` then) and becomes a signed-in session when identity's code is exchanged. The
browser's cookie holds a random secret; the row is found by its digest, so a copy of
this table cannot be replayed as cookies. Access and refresh tokens stay here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class WebSession(Base):
    __tablename__ = "web_sessions"

    id_digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # While signing in: what the callback checks and sends back to identity.
    oauth_state: Mapped[str | None] = mapped_column(String(64))
    code_verifier: Mapped[str | None] = mapped_column(String(128))
    next_path: Mapped[str | None] = mapped_column(String(500))
    # Once signed in.
    user_id: Mapped[str | None] = mapped_column(String(64))
    school_id: Mapped[str | None] = mapped_column(String(64))
    # identity's session (the token's `sid`): a revocation of that one session ends this.
    identity_session_id: Mapped[str | None] = mapped_column(String(64))
    access_token: Mapped[str | None] = mapped_column(Text)
    access_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    refresh_token: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_web_sessions_user", "user_id"),)
