"""create_app(): the web app's Flask factory (DESIGN §1, §6).

The kit gives it what every service has (request ids, the access log without personal
data, /healthz, /readyz, /metrics, token verification against identity's JWKS and the
deny-list); this module adds the pages, sign-in, the language switch, security headers
and error pages people can read instead of the kit's JSON errors.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, g, render_template, request
from werkzeug.exceptions import HTTPException

from schoolkit.errors import error_response
from schoolkit.settings import Settings
from schoolkit.web import create_service_app, db_session
from web import formats, guide, i18n, pages, pwa, registration, security, sessions, signin
from web.api import Api, NotFound, Refused, SignedOut, Unavailable
from web.config import WebConfig


def create_app(settings: Settings | None = None, config: WebConfig | None = None) -> Flask:
    settings = settings or Settings.from_env("web")
    app = create_service_app(settings, title="Web")
    config = config or WebConfig.from_env(settings)
    app.extensions["web_config"] = config
    app.extensions["web_api"] = Api(config.api_url)
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # our forms are a few fields
    i18n.install(app)
    formats.install(app)
    app.register_blueprint(signin.blueprint)
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(registration.blueprint)
    app.register_blueprint(pwa.blueprint)
    app.register_blueprint(guide.blueprint)
    app.after_request(sessions.issue_cookie)
    app.after_request(security.add_headers)
    _register_error_pages(app)
    return app


def _register_error_pages(app: Flask) -> None:
    app.register_error_handler(NotFound, lambda _e: _message("not_found", 404))
    app.register_error_handler(Unavailable, lambda _e: _message("unavailable", 503))
    app.register_error_handler(Refused, lambda _e: _message("refused", 400))
    app.register_error_handler(SignedOut, _signed_out)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)


def _message(kind: str, status: int) -> tuple[str, int]:
    return render_template("message.html", kind=kind, user=g.get("user")), status


def _http_error(error: HTTPException) -> Any:
    if _is_kit_path():
        # The gateway sends us every path no service claims: under /api/ a program asked,
        # so it gets the JSON error every service gives.
        return error_response(
            error.code or 500, "not_found" if error.code == 404 else "error", error.name
        )
    status = error.code or 500
    if status == 400:
        kind = error.description if error.description in ("bad_date", "csrf") else "bad_request"
        return _message(kind, 400)
    if status == 404:
        return _message("not_found", 404)
    return _message("bad_request", status)


def _signed_out(_error: SignedOut) -> Any:
    """The API refused the token: the session is over; sign in again, then come back."""
    row = sessions.from_cookie(db_session())
    if row is not None:
        sessions.end(db_session(), row)
        db_session().commit()
    return _message("signed_out", 401)


def _unexpected(error: Exception) -> Any:
    app_logger = signin.log
    app_logger.exception("unexpected error", extra={"error_type": type(error).__name__})
    return _message("unexpected", 500)


def _is_kit_path() -> bool:
    return request.path.startswith("/api/") or request.path in ("/healthz", "/readyz", "/metrics")
