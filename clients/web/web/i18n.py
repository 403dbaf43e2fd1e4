"""Russian by default, English by a switch the browser remembers (Flask-Babel catalogues).

The texts are written in Russian in the templates and the code; `translations/en` holds
their English. The switch is a plain link, so it works without JavaScript, and its
cookie carries nothing but the language.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, Response, g, redirect, request
from flask_babel import Babel, get_translations

from schoolkit.times import school_zone
from web.sessions import safe_next

LANGUAGES = ("ru", "en")
DEFAULT = "ru"
COOKIE = "lang"
YEAR_SECONDS = 365 * 24 * 3600

blueprint = Blueprint("i18n", __name__)


def current_language() -> str:
    chosen = request.cookies.get(COOKIE, DEFAULT)
    return chosen if chosen in LANGUAGES else DEFAULT


def install(app: Flask) -> None:
    app.config["BABEL_DEFAULT_LOCALE"] = DEFAULT
    # Every date-time on a page is the school's wall clock, whatever the browser's zone.
    app.config["BABEL_DEFAULT_TIMEZONE"] = school_zone().key
    Babel(app, locale_selector=current_language)
    # Flask-Babel looks the catalogue up again for every text of a template (a hundred a
    # page); once per request is enough.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda message: _translations().gettext(message),
        lambda singular, plural, n: _translations().ngettext(singular, plural, n),
        newstyle=True,
    )
    app.register_blueprint(blueprint)


def _translations() -> Any:
    found = g.get("_web_translations")
    if found is None:
        found = g._web_translations = get_translations()
    return found


@blueprint.get("/language/<code>")
def choose(code: str) -> Response:
    response = redirect(safe_next(request.args.get("next")))
    if code in LANGUAGES:
        response.set_cookie(COOKIE, code, max_age=YEAR_SECONDS, httponly=True, samesite="Lax")
    return response  # type: ignore[return-value]
