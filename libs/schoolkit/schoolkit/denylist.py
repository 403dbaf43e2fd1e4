"""The handlers that keep every service's deny-list in step with identity (DESIGN §5).

Each service merges `HANDLERS` into its own handler table. Applying an event twice
leaves the tables as applying it once did.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from schoolkit.auth import SESSIONS_REVOKED
from schoolkit.events import Event, as_utc
from schoolkit.tables import denied_users, revoked_sessions

REASON_LENGTH = 60  # the width of denied_users.reason


def _moment(value: str | None, fallback: str) -> datetime:
    return as_utc(datetime.fromisoformat(value or fallback))


def _denied_row(session: Session, user_id: str) -> tuple[str | None, datetime] | None:
    row = session.execute(
        select(denied_users.c.reason, denied_users.c.denied_at).where(
            denied_users.c.user_id == user_id
        )
    ).first()
    return None if row is None else (row.reason, as_utc(row.denied_at))


def _put_denied(session: Session, user_id: str, reason: str, denied_at: datetime) -> None:
    if _denied_row(session, user_id) is None:
        session.execute(
            insert(denied_users).values(user_id=user_id, reason=reason, denied_at=denied_at)
        )
    else:
        session.execute(
            update(denied_users)
            .where(denied_users.c.user_id == user_id)
            .values(reason=reason, denied_at=denied_at)
        )


def on_account_blocked(session: Session, event: Event) -> None:
    """Refuse every token of the user from now on."""
    reason = str(event.data.get("reason") or "blocked")[:REASON_LENGTH]
    if reason == SESSIONS_REVOKED:
        reason = "blocked"  # that word means "only older tokens" to the deny-list
    blocked_at = _moment(event.data.get("blocked_at"), event.time)
    _put_denied(session, event.data["user_id"], reason, blocked_at)


def on_account_unblocked(session: Session, event: Event) -> None:
    session.execute(delete(denied_users).where(denied_users.c.user_id == event.data["user_id"]))


def on_session_revoked(session: Session, event: Event) -> None:
    """One session: refuse its tokens. All sessions: refuse tokens issued until now."""
    user_id = event.data["user_id"]
    revoked_at = _moment(event.data.get("revoked_at"), event.time)
    session_id = event.data.get("session_id")
    if session_id:
        _revoke_session(session, user_id, session_id, revoked_at)
    else:
        _revoke_all_sessions(session, user_id, revoked_at)


def _revoke_session(session: Session, user_id: str, session_id: str, revoked_at: datetime) -> None:
    known = session.execute(
        select(revoked_sessions.c.session_id).where(revoked_sessions.c.session_id == session_id)
    ).first()
    if known is None:
        session.execute(
            insert(revoked_sessions).values(
                session_id=session_id, user_id=user_id, revoked_at=revoked_at
            )
        )


def _revoke_all_sessions(session: Session, user_id: str, revoked_at: datetime) -> None:
    current = _denied_row(session, user_id)
    if current is None:
        _put_denied(session, user_id, SESSIONS_REVOKED, revoked_at)
        return
    reason, denied_at = current
    # A block refuses every token already; of two revocations the later one counts.
    if reason == SESSIONS_REVOKED and revoked_at > denied_at:
        _put_denied(session, user_id, SESSIONS_REVOKED, revoked_at)


def prune_revocations(session: Session, before: datetime) -> None:
    """Forget revocations older than `before`: every token they could refuse has expired.

    A block stays until it is lifted; only "sessions revoked" rows and single sessions go.
    """
    session.execute(delete(revoked_sessions).where(revoked_sessions.c.revoked_at < before))
    session.execute(
        delete(denied_users).where(
            (denied_users.c.reason == SESSIONS_REVOKED) & (denied_users.c.denied_at < before)
        )
    )


HANDLERS: dict[str, Callable[[Session, Event], None]] = {
    "identity.account.blocked": on_account_blocked,
    "identity.account.unblocked": on_account_unblocked,
    "identity.session.revoked": on_session_revoked,
}
