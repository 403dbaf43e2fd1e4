"""Sign-in sessions and their refresh tokens; revoking them everywhere (R-IDN-4, R-IDN-6)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from identity.models import LoginSession, RefreshToken
from schoolkit import denylist
from schoolkit.events import Event, iso_utc
from schoolkit.outbox import publish


def revoke_session(
    session: Session, login_session: LoginSession, reason: str, school_id: str
) -> None:
    """One session ends; its tokens are refused in every service."""
    now = datetime.now(UTC)
    login_session.revoked_at = now
    login_session.revoked_reason = reason
    _revoke_tokens(session, RefreshToken.session_id == login_session.id, now)
    _announce(
        session,
        login_session.account_id,
        school_id,
        scope="one",
        reason=reason,
        now=now,
        session_id=login_session.id,
    )


def revoke_all_sessions(
    session: Session, account_id: str, school_id: str, reason: str, notice: bool = False
) -> int:
    """Every session of the account ends; every token issued until now is refused."""
    now = datetime.now(UTC)
    found = session.execute(
        update(LoginSession)
        .where(LoginSession.account_id == account_id, LoginSession.revoked_at.is_(None))
        .values(revoked_at=now, revoked_reason=reason)
    )
    _revoke_tokens(session, RefreshToken.account_id == account_id, now)
    _announce(
        session,
        account_id,
        school_id,
        scope="all",
        reason=reason,
        now=now,
        session_id=None,
        notice=notice,
    )
    return found.rowcount or 0


def _revoke_tokens(session: Session, which, now: datetime) -> None:  # type: ignore[no-untyped-def]
    session.execute(
        update(RefreshToken).where(which, RefreshToken.revoked_at.is_(None)).values(revoked_at=now)
    )


def _announce(
    session: Session,
    account_id: str,
    school_id: str,
    *,
    scope: str,
    reason: str,
    now: datetime,
    session_id: str | None,
    notice: bool = False,
) -> None:
    data: dict[str, object] = {
        "user_id": account_id,
        "person_id": account_id,
        "scope": scope,
        "reason": reason,
        "revoked_at": iso_utc(now),
        "notice": notice,
    }
    if session_id:
        data["session_id"] = session_id
    event = Event("identity.session.revoked", data, school_id, subject=account_id)
    publish(session, event)
    # identity's own API follows its own deny-list at once, without the round trip.
    denylist.on_session_revoked(session, event)


def active_session(session: Session, session_id: str) -> LoginSession | None:
    found = session.get(LoginSession, session_id)
    return found if found is not None and found.revoked_at is None else None


def sessions_of(session: Session, account_id: str) -> list[LoginSession]:
    return list(session.scalars(select(LoginSession).where(LoginSession.account_id == account_id)))
