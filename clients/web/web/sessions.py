"""Sign-in sessions kept on the server; the browser holds one opaque cookie.

The cookie is `HttpOnly` and `SameSite=Lax` (and `Secure` behind TLS); its value is a
random secret whose SHA-256 names the row. Before sign-in the row holds the PKCE
verifier and `state`; the callback replaces the cookie by a new one (no fixation).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from flask import Response, current_app, g, request
from sqlalchemy import delete
from sqlalchemy.orm import Session

from web.config import WebConfig
from web.models import WebSession

COOKIE = "school_session"
# A sign-in not finished within this time is forgotten (identity's code lives a minute).
PENDING_SIGN_IN = timedelta(hours=1)


def now() -> datetime:
    return datetime.now(UTC)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def config() -> WebConfig:
    return current_app.extensions["web_config"]  # type: ignore[no-any-return]


def from_cookie(db: Session) -> WebSession | None:
    secret = request.cookies.get(COOKIE)
    if not secret or len(secret) > 100:
        return None
    return db.get(WebSession, digest(secret))


def start(db: Session, **fields: object) -> WebSession:
    """A new row and a new secret; `issue_cookie` sends it with the response."""
    secret = secrets.token_urlsafe(32)
    moment = now()
    row = WebSession(
        id_digest=digest(secret),
        csrf_token=secrets.token_urlsafe(32),
        created_at=moment,
        seen_at=moment,
        **fields,
    )
    db.add(row)
    g.web_new_cookie = secret
    return row


def issue_cookie(response: Response) -> Response:
    """After each request: send a cookie made during it, or clear one that ended."""
    secret = g.pop("web_new_cookie", None)
    settings = config()
    if secret is not None:
        response.set_cookie(
            COOKIE,
            secret,
            max_age=int(timedelta(days=settings.session_days).total_seconds()),
            httponly=True,
            samesite="Lax",
            secure=settings.secure_cookies,
            path="/",
        )
    elif g.pop("web_clear_cookie", False):
        response.delete_cookie(
            COOKIE, httponly=True, samesite="Lax", secure=settings.secure_cookies, path="/"
        )
    return response


def end(db: Session, row: WebSession) -> None:
    db.delete(row)
    g.web_clear_cookie = True


def end_sessions_of(db: Session, user_id: str) -> int:
    """Every session of a user: a block, a revocation or an erasure ends them all."""
    done = db.execute(delete(WebSession).where(WebSession.user_id == user_id))
    return int(done.rowcount or 0)  # type: ignore[attr-defined]


def forget_stale(db: Session, session_days: int) -> None:
    moment = now()
    db.execute(
        delete(WebSession).where(
            WebSession.user_id.is_(None), WebSession.created_at < moment - PENDING_SIGN_IN
        )
    )
    db.execute(delete(WebSession).where(WebSession.seen_at < moment - timedelta(days=session_days)))


def as_aware(moment: datetime) -> datetime:
    """SQLite gives back what it stored without its zone; every moment here is UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def safe_next(path: str | None) -> str:
    """Only a path of this site: never an open redirect to someone else's."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return "/"
    return path[:500]
