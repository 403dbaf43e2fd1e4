"""The web app's worker handlers: identity's block and revocations end sign-in sessions
(with their refresh tokens) and fill the kit's deny-list, which every page asks."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from schoolkit.db import Database
from schoolkit.events import Event
from schoolkit.migrate import upgrade
from schoolkit.tables import denied_users
from web.handlers import HANDLERS
from web.models import WebSession


def a_session(user_id: str, identity_session_id: str) -> WebSession:
    moment = datetime.now(UTC)
    return WebSession(
        id_digest=secrets.token_hex(32),
        csrf_token="csrf",
        created_at=moment,
        seen_at=moment,
        user_id=user_id,
        school_id="school-1",
        identity_session_id=identity_session_id,
        access_token="access",
        refresh_token="refresh",
    )


def sessions_of(database: Database, user_id: str) -> list[str]:
    with database.transaction() as session:
        rows = session.scalars(select(WebSession).where(WebSession.user_id == user_id))
        return sorted(row.identity_session_id or "" for row in rows)


def apply(database: Database, event_type: str, **data: str) -> None:
    with database.transaction() as session:
        HANDLERS[event_type](session, Event(event_type, data, "school-1", data["user_id"]))


def test_a_block_ends_every_session_of_the_user_and_only_theirs(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade("web", url)
    database = Database(url)
    with database.transaction() as session:
        session.add_all(
            [a_session("olga", "s1"), a_session("olga", "s2"), a_session("pavel", "s3")]
        )
    blocked_at = datetime.now(UTC).isoformat()
    apply(
        database, "identity.account.blocked", user_id="olga", reason="other", blocked_at=blocked_at
    )
    assert sessions_of(database, "olga") == []
    assert sessions_of(database, "pavel") == ["s3"]
    with database.transaction() as session:
        assert session.execute(select(denied_users.c.user_id)).scalars().all() == ["olga"]
    database.dispose()


def test_a_revoked_session_ends_that_one_and_all_sessions_end_all(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade("web", url)
    database = Database(url)
    with database.transaction() as session:
        session.add_all([a_session("olga", "s1"), a_session("olga", "s2")])
    revoked_at = datetime.now(UTC).isoformat()
    apply(
        database,
        "identity.session.revoked",
        user_id="olga",
        session_id="s1",
        revoked_at=revoked_at,
    )
    assert sessions_of(database, "olga") == ["s2"]
    apply(database, "identity.session.revoked", user_id="olga", revoked_at=revoked_at)
    assert sessions_of(database, "olga") == []
    database.dispose()
