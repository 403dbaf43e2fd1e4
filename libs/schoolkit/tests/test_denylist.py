"""A blocked user's or revoked session's still-valid token is refused at once, everywhere."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from schoolkit.db import Database
from schoolkit.denylist import HANDLERS
from schoolkit.events import Event
from schoolkit.tables import denied_users, revoked_sessions

ITEM = "/api/demo/v1/items/1"


def apply(database: Database, event_type: str, **data: object) -> None:
    event = Event(type=event_type, data=dict(data), school_id="school-1", subject="user-1")
    with database.transaction() as session:
        HANDLERS[event_type](session, event)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def rows(database: Database, table) -> list:
    with database.engine.connect() as connection:
        return list(connection.execute(select(table)))


def test_a_blocked_users_valid_token_is_refused_and_passes_again_once_unblocked(
    app: Flask, sqlite_database: Database, identity, auth_header
) -> None:
    client = app.test_client()
    token = auth_header(identity.issue(sub="user-1"))
    assert client.get(ITEM, headers=token).status_code == 200

    apply(sqlite_database, "identity.account.blocked", user_id="user-1", reason="compromised")
    refused = client.get(ITEM, headers=token)
    assert refused.status_code == 401
    assert refused.get_json()["error"]["code"] == "token_revoked"

    apply(sqlite_database, "identity.account.unblocked", user_id="user-1")
    assert client.get(ITEM, headers=token).status_code == 200


def test_blocking_one_user_leaves_the_others_in(
    app: Flask, sqlite_database: Database, identity, auth_header
) -> None:
    apply(sqlite_database, "identity.account.blocked", user_id="user-1", reason="admin")
    other = auth_header(identity.issue(sub="user-2", sid="session-2"))
    assert app.test_client().get(ITEM, headers=other).status_code == 200


def test_a_revoked_sessions_token_is_refused_while_the_users_other_sessions_pass(
    app: Flask, sqlite_database: Database, identity, auth_header
) -> None:
    apply(
        sqlite_database,
        "identity.session.revoked",
        user_id="user-1",
        session_id="session-1",
        reason="logout",
    )
    client = app.test_client()
    revoked = client.get(ITEM, headers=auth_header(identity.issue(sub="user-1", sid="session-1")))
    other = client.get(ITEM, headers=auth_header(identity.issue(sub="user-1", sid="session-2")))
    assert revoked.status_code == 401
    assert revoked.get_json()["error"]["code"] == "token_revoked"
    assert other.status_code == 200


def test_revoking_all_sessions_refuses_tokens_issued_before_but_not_after(
    app: Flask, sqlite_database: Database, identity, auth_header
) -> None:
    revoked_at = datetime.now(UTC) - timedelta(seconds=60)
    apply(
        sqlite_database,
        "identity.session.revoked",
        user_id="user-1",
        session_id=None,
        reason="password_changed",
        revoked_at=iso(revoked_at),
    )
    client = app.test_client()
    before = identity.issue(sub="user-1", iat=int(revoked_at.timestamp()) - 30)
    after = identity.issue(sub="user-1", iat=int(time.time()))
    assert client.get(ITEM, headers=auth_header(before)).status_code == 401
    assert client.get(ITEM, headers=auth_header(after)).status_code == 200


def test_after_revoking_all_sessions_a_token_without_iat_is_refused(
    app: Flask, sqlite_database: Database, identity, auth_header
) -> None:
    apply(sqlite_database, "identity.session.revoked", user_id="user-1", reason="compromise")
    token = identity.issue(sub="user-1", iat=None)
    assert app.test_client().get(ITEM, headers=auth_header(token)).status_code == 401


def test_a_blocked_event_applied_twice_leaves_one_row(sqlite_database: Database) -> None:
    for _ in range(2):
        apply(sqlite_database, "identity.account.blocked", user_id="user-1", reason="admin")
    [row] = rows(sqlite_database, denied_users)
    assert (row.user_id, row.reason) == ("user-1", "admin")


def test_an_unblocked_event_applied_twice_is_harmless(sqlite_database: Database) -> None:
    apply(sqlite_database, "identity.account.blocked", user_id="user-1", reason="admin")
    for _ in range(2):
        apply(sqlite_database, "identity.account.unblocked", user_id="user-1")
    assert rows(sqlite_database, denied_users) == []


def test_a_revoked_session_event_applied_twice_leaves_one_row(sqlite_database: Database) -> None:
    for _ in range(2):
        apply(sqlite_database, "identity.session.revoked", user_id="user-1", session_id="session-9")
    [row] = rows(sqlite_database, revoked_sessions)
    assert (row.session_id, row.user_id) == ("session-9", "user-1")


def test_of_two_revoke_all_events_the_later_moment_counts_whatever_their_order(
    sqlite_database: Database,
) -> None:
    later = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
    earlier = later - timedelta(hours=1)
    for moment in (later, earlier, later):
        apply(sqlite_database, "identity.session.revoked", user_id="user-1", revoked_at=iso(moment))
    [row] = rows(sqlite_database, denied_users)
    assert row.reason == "sessions_revoked"
    assert row.denied_at.replace(tzinfo=UTC) == later


def test_revoking_all_sessions_of_a_blocked_user_keeps_the_block(
    app: Flask, sqlite_database: Database, identity, auth_header
) -> None:
    apply(sqlite_database, "identity.account.blocked", user_id="user-1", reason="admin")
    apply(
        sqlite_database,
        "identity.session.revoked",
        user_id="user-1",
        revoked_at=iso(datetime.now(UTC) - timedelta(hours=1)),
    )
    [row] = rows(sqlite_database, denied_users)
    assert row.reason == "admin"
    fresh = auth_header(identity.issue(sub="user-1"))
    assert app.test_client().get(ITEM, headers=fresh).status_code == 401


def test_the_deny_list_follows_identity_on_postgresql_too(postgres_database_url: str) -> None:
    from schoolkit.auth import TableDenyList, principal_from_claims
    from schoolkit.tables import kit_metadata

    database = Database(postgres_database_url)
    kit_metadata.create_all(database.engine)
    revoked_at = datetime.now(UTC) - timedelta(minutes=5)
    try:
        for _ in range(2):
            apply(
                database, "identity.session.revoked", user_id="user-1", revoked_at=iso(revoked_at)
            )
            apply(database, "identity.session.revoked", user_id="user-2", session_id="s-2")

        def principal(user_id: str, sid: str, issued: datetime) -> object:
            claims = {"sub": user_id, "school_id": "school-1", "sid": sid}
            return principal_from_claims({**claims, "iat": int(issued.timestamp())})

        deny_list = TableDenyList(database, refresh_seconds=0.0)
        old = revoked_at - timedelta(minutes=1)
        new = datetime.now(UTC)
        assert deny_list.is_denied(principal("user-1", "s-1", old)) == "sessions_revoked"
        assert deny_list.is_denied(principal("user-1", "s-1", new)) is None
        assert deny_list.is_denied(principal("user-2", "s-2", new)) == "session_revoked"
        assert deny_list.is_denied(principal("user-2", "s-3", new)) is None
    finally:
        database.dispose()


def test_with_a_snapshot_a_block_reaches_every_request_within_its_refresh_time(
    make_app, sqlite_database: Database, identity, auth_header
) -> None:
    client = make_app(deny_list_refresh_seconds=0.3).test_client()
    token = auth_header(identity.issue(sub="user-1"))
    assert client.get(ITEM, headers=token).status_code == 200

    apply(sqlite_database, "identity.account.blocked", user_id="user-1", reason="compromised")
    blocked_at = time.monotonic()
    while client.get(ITEM, headers=token).status_code == 200:
        assert time.monotonic() - blocked_at < 1.0, "the block did not arrive within a second"
        time.sleep(0.01)


def test_a_snapshot_that_cannot_be_reloaded_for_long_fails_closed(
    sqlite_database: Database,
) -> None:
    from schoolkit.auth import TableDenyList, principal_from_claims

    deny_list = TableDenyList(sqlite_database, refresh_seconds=0.0, max_stale_seconds=0.0)
    someone = principal_from_claims({"sub": "user-9", "school_id": "school-1"})
    assert deny_list.is_denied(someone) is None
    with sqlite_database.engine.begin() as connection:
        connection.exec_driver_sql("DROP TABLE denied_users")
    with pytest.raises(Exception, match="denied_users"):
        deny_list.is_denied(someone)


def test_revocations_older_than_any_token_are_pruned_but_blocks_stay(
    sqlite_database: Database,
) -> None:
    from schoolkit.denylist import prune_revocations

    long_ago = datetime.now(UTC) - timedelta(hours=2)
    apply(sqlite_database, "identity.account.blocked", user_id="user-1", reason="admin")
    apply(sqlite_database, "identity.session.revoked", user_id="user-2", revoked_at=iso(long_ago))
    apply(
        sqlite_database,
        "identity.session.revoked",
        user_id="user-3",
        session_id="s-3",
        revoked_at=iso(long_ago),
    )
    apply(sqlite_database, "identity.session.revoked", user_id="user-4", session_id="s-4")
    with sqlite_database.transaction() as session:
        prune_revocations(session, datetime.now(UTC) - timedelta(hours=1))
    assert [row.user_id for row in rows(sqlite_database, denied_users)] == ["user-1"]
    assert [row.session_id for row in rows(sqlite_database, revoked_sessions)] == ["s-4"]
