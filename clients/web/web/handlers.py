"""The events the web app consumes: identity's blocks and revocations (DESIGN §2, §5).

The kit's deny-list handlers keep `denied_users` / `revoked_sessions`, which every page
asks (a blocked user's open page is signed out within a second); on top of that the
sessions themselves, with their refresh tokens, are deleted here.
"""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.orm import Session

from schoolkit.consumer import Handler
from schoolkit.denylist import HANDLERS as DENY_LIST_HANDLERS
from schoolkit.denylist import on_account_blocked, on_session_revoked
from schoolkit.events import Event
from web.models import WebSession
from web.sessions import end_sessions_of


def on_blocked(session: Session, event: Event) -> None:
    on_account_blocked(session, event)
    end_sessions_of(session, event.data["user_id"])


def on_revoked(session: Session, event: Event) -> None:
    on_session_revoked(session, event)
    one = event.data.get("session_id")
    if one:
        session.execute(delete(WebSession).where(WebSession.identity_session_id == one))
    else:
        end_sessions_of(session, event.data["user_id"])


HANDLERS: dict[str, Handler] = {
    **DENY_LIST_HANDLERS,
    "identity.account.blocked": on_blocked,
    "identity.session.revoked": on_revoked,
}
