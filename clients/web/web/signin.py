"""Sign-in with identity: OAuth 2 authorization code with PKCE, as a confidential client.

The backend-for-frontend pattern ("OAuth 2.0 for Browser-Based Applications"): the
browser only ever sees identity's authorization page and our cookie; the code is
exchanged here with the client secret, and the tokens stay in `web_sessions`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import requests
from flask import Blueprint, Response, abort, g, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session

from schoolkit.auth import Principal, TokenRejected
from schoolkit.web import current_kit, db_session
from web import sessions
from web.api import Unavailable
from web.i18n import current_language
from web.models import WebSession

log = logging.getLogger("web.signin")
blueprint = Blueprint("signin", __name__)

# An access token this close to its end is refreshed before a page uses it.
REFRESH_MARGIN = timedelta(seconds=30)
SEEN_EVERY = timedelta(minutes=1)
TOKEN_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class User:
    """The signed-in user of this request: their session row and verified token."""

    row: WebSession
    principal: Principal

    @property
    def token(self) -> str:
        return self.row.access_token or ""

    @property
    def id(self) -> str:
        return self.principal.user_id

    @property
    def is_student(self) -> bool:
        return self.principal.has_any_role("student")


def current_user() -> User | None:
    """The signed-in user, or None: no cookie, a session that ended, a blocked account."""
    if "web_user" not in g:
        g.web_user = _resolve(db_session())
    return g.web_user  # type: ignore[no-any-return]


def _resolve(db: Session) -> User | None:
    row = sessions.from_cookie(db)
    if row is None or row.user_id is None:
        return None
    principal = _principal(db, row)
    # The kit's deny-list, kept by our worker from identity's events: a blocked user or a
    # revoked session is refused here within its refresh time (a quarter of a second).
    if principal is None or current_kit().deny_list.is_denied(principal):
        sessions.end(db, row)
        db.commit()
        return None
    # Written at most once a minute: an open page asks every second whether it is alive.
    moment = sessions.now()
    if moment - sessions.as_aware(row.seen_at) > SEEN_EVERY:
        row.seen_at = moment
        db.commit()
    return User(row, principal)


def _principal(db: Session, row: WebSession) -> Principal | None:
    expires = row.access_expires_at
    if expires is None or sessions.as_aware(expires) - sessions.now() < REFRESH_MARGIN:
        row = _refreshed(db, row)
        if row is None:
            return None
    try:
        return current_kit().token_verifier.verify(row.access_token or "")
    except TokenRejected:
        return None


def _refreshed(db: Session, row: WebSession) -> WebSession | None:
    """Rotate the refresh token, once even when two requests of one browser race here.

    Identity treats a refresh token used twice as stolen and ends the session, so the
    row is locked (PostgreSQL) and read again: whoever comes second uses the new token.
    """
    locked = db.scalars(
        select(WebSession)
        .where(WebSession.id_digest == row.id_digest)
        .with_for_update()
        # Read anew under the lock: the row this request loaded may be another's past.
        .execution_options(populate_existing=True)
    ).first()
    if locked is None or locked.refresh_token is None:
        return None
    expires = locked.access_expires_at
    if expires is not None and sessions.as_aware(expires) - sessions.now() >= REFRESH_MARGIN:
        return locked
    answer = _token_request({"grant_type": "refresh_token", "refresh_token": locked.refresh_token})
    if answer is None:
        return None
    _keep_tokens(locked, answer)
    db.commit()
    return locked


def _token_request(form: dict[str, str]) -> dict[str, Any] | None:
    """identity's token endpoint with our client secret; None when it refuses."""
    config = sessions.config()
    try:
        answer = requests.post(
            f"{config.api_url}/api/identity/oauth/token",
            data={**form, **_client_credentials()},
            timeout=TOKEN_TIMEOUT_SECONDS,
        )
    except requests.RequestException as error:
        raise Unavailable("token endpoint") from error
    if answer.status_code >= 500:
        raise Unavailable("token endpoint")
    if answer.status_code != 200:
        # The error code only: the body may echo what was sent.
        log.info("token request refused", extra={"status": answer.status_code})
        return None
    return answer.json()  # type: ignore[no-any-return]


def _client_credentials() -> dict[str, str]:
    """client_secret_post: the form encodes any character of the secret as it should."""
    config = sessions.config()
    return {"client_id": config.client_id, "client_secret": config.client_secret}


def _keep_tokens(row: WebSession, tokens: dict[str, Any]) -> None:
    row.access_token = tokens["access_token"]
    row.access_expires_at = sessions.now() + timedelta(seconds=int(tokens.get("expires_in", 60)))
    row.refresh_token = tokens.get("refresh_token") or row.refresh_token


# --- the flow -----------------------------------------------------------------------------


def _challenge(verifier: str) -> str:
    hashed = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode()


@blueprint.get("/signin")
def sign_in() -> Response:
    """Send the browser to identity's authorization page with a fresh state and PKCE."""
    config = sessions.config()
    if not config.client_secret:
        return Response(render_template("message.html", kind="not_registered"), status=503)
    db = db_session()
    state, verifier = secrets.token_urlsafe(32), secrets.token_urlsafe(64)
    old = sessions.from_cookie(db)
    if old is not None and old.user_id is None:
        db.delete(old)  # an unfinished sign-in of this browser: start over
    sessions.start(
        db,
        oauth_state=state,
        code_verifier=verifier,
        next_path=sessions.safe_next(request.args.get("next")),
    )
    db.commit()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": config.client_id,
            "redirect_uri": config.redirect_uri,
            "state": state,
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "S256",
            "lang": current_language(),
        }
    )
    return redirect(f"{config.public_url}/api/identity/oauth/authorize?{query}")  # type: ignore[return-value]


@blueprint.get("/oauth/callback")
def callback() -> Any:
    """identity sends the browser back with a code: exchange it, keep the tokens here."""
    db = db_session()
    pending = sessions.from_cookie(db)
    state = request.args.get("state", "")
    if (
        pending is None
        or pending.oauth_state is None
        or not hmac.compare_digest(pending.oauth_state, state)
        or "code" not in request.args
    ):
        return render_template("message.html", kind="sign_in_failed"), 400
    tokens = _token_request(
        {
            "grant_type": "authorization_code",
            "code": request.args["code"],
            "redirect_uri": sessions.config().redirect_uri,
            "code_verifier": pending.code_verifier or "",
        }
    )
    if tokens is None:
        return render_template("message.html", kind="sign_in_failed"), 400
    try:
        principal = current_kit().token_verifier.verify(tokens["access_token"])
    except TokenRejected:
        return render_template("message.html", kind="sign_in_failed"), 400
    next_path = pending.next_path or "/"
    db.delete(pending)
    row = sessions.start(
        db,
        user_id=principal.user_id,
        school_id=principal.school_id,
        identity_session_id=principal.session_id,
    )
    _keep_tokens(row, tokens)
    db.commit()
    return redirect(sessions.safe_next(next_path))


@blueprint.post("/signout")
def sign_out() -> Any:
    """Revoke the refresh token at identity (its session ends), forget the row."""
    db = db_session()
    row = sessions.from_cookie(db)
    if row is not None:
        require_csrf(row)
        if row.refresh_token:
            _revoke(row.refresh_token)
        sessions.end(db, row)
        db.commit()
    return redirect(url_for("pages.home", signed_out=1))


def _revoke(refresh_token: str) -> None:
    config = sessions.config()
    try:
        requests.post(
            f"{config.api_url}/api/identity/oauth/revoke",
            data={
                "token": refresh_token,
                "token_type_hint": "refresh_token",
                **_client_credentials(),
            },
            timeout=TOKEN_TIMEOUT_SECONDS,
        )
    except requests.RequestException:
        # Forgetting the tokens here still signs the browser out; the refresh token
        # expires at identity on its own.
        log.warning("refresh token not revoked: identity did not answer")


@blueprint.get("/session/alive")
def alive() -> Response:
    """Asked every second by an open page: 204 while signed in, 401 once the session ended."""
    response = Response(status=204 if current_user() is not None else 401)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- CSRF ---------------------------------------------------------------------------------


def require_csrf(row: WebSession) -> None:
    """Every form carries the session's token; a form from elsewhere gets the 400 page."""
    sent = request.form.get("csrf_token", "")
    if not hmac.compare_digest(sent.encode(), row.csrf_token.encode()):
        abort(400, description="csrf")
