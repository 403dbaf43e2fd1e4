"""Who is using the console: a sign-in is a LoginSession of the `console` client, so a
block or a revocation ends it at once; the cookie holds only that session's id and the
form token (signed, HttpOnly, SameSite=Strict, Secure over HTTPS)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface

from identity.models import Account, LoginSession
from identity.oauth.addresses import came_over_https
from identity.oauth.keys import sealing_key_from_env
from schoolkit.auth import ADMINISTRATOR, CLASS_TEACHER, Principal
from schoolkit.events import as_utc
from schoolkit.web import db_session

CONSOLE_CLIENT = "console"
CONSOLE_ROLES = frozenset({ADMINISTRATOR, CLASS_TEACHER})
SIGN_IN_LASTS = timedelta(hours=8)
View = TypeVar("View", bound=Callable[..., Any])


class ConsoleCookies(SecureCookieSessionInterface):
    """Secure cookies whenever the browser came over HTTPS (directly or via the gateway)."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or came_over_https())


def configure(app: Flask) -> None:
    # Derived from the key that seals the signing keys: stable across processes, secret.
    app.secret_key = hmac.new(sealing_key_from_env(), b"console cookies", hashlib.sha256).digest()
    app.config.update(
        SESSION_COOKIE_NAME="console_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_PATH="/console",
        PERMANENT_SESSION_LIFETIME=SIGN_IN_LASTS,
    )
    app.session_interface = ConsoleCookies()


def start(account: Account) -> None:
    login_session = LoginSession(
        id=str(uuid.uuid4()), account_id=account.id, client_id=CONSOLE_CLIENT
    )
    db_session().add(login_session)
    session.clear()
    session.permanent = True
    session["sid"] = login_session.id
    session["csrf"] = secrets.token_urlsafe(24)


def end() -> None:
    found = db_session().get(LoginSession, session.get("sid", ""))
    if found is not None and found.revoked_at is None:
        found.revoked_at, found.revoked_reason = datetime.now(UTC), "logout"
    session.clear()


def csrf_token() -> str:
    if "csrf" not in session:
        session["csrf"] = secrets.token_urlsafe(24)
    return str(session["csrf"])


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    if not sent or not hmac.compare_digest(sent, session.get("csrf", "")):
        abort(400, "csrf")


def signed_in_account() -> Account | None:
    """The account of a live console sign-in, or None."""
    found = db_session().get(LoginSession, session.get("sid", ""))
    if found is None or found.revoked_at is not None or found.client_id != CONSOLE_CLIENT:
        return None
    if as_utc(found.created_at) + SIGN_IN_LASTS < datetime.now(UTC):
        return None
    account = db_session().get(Account, found.account_id)
    return account if account is not None and account.status == "active" else None


def principal_of(account: Account) -> Principal:
    return Principal(
        user_id=account.id,
        school_id=account.school_id,
        roles=frozenset(account.roles),
        session_id=session.get("sid"),
        client_id=CONSOLE_CLIENT,
        claims={},
    )


def signed_in(view: View) -> View:
    """The page needs a console sign-in with a console role; POSTs need the form token."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        account = signed_in_account()
        if account is None:
            return redirect(url_for("console.login", next=request.path))
        if account.must_change_password and request.endpoint != "console.password":
            return redirect(url_for("console.password"))
        if not CONSOLE_ROLES & set(account.roles) and not account.must_change_password:
            abort(403)
        if request.method == "POST":
            check_csrf()
        g.principal = principal_of(account)
        g.account = account
        return view(*args, **kwargs)

    return guarded  # type: ignore[return-value]


def is_administrator() -> bool:
    return ADMINISTRATOR in g.principal.roles
