"""Registration with the code from the school (R-IDN-2): the families' own first page.

The same rules and limits as before, because they are identity's: this page relays
`POST /api/identity/v1/registrations` and shows its refusals in plain words. The
browser's address goes along in X-Forwarded-For, so identity's limit of wrong codes
counts per family, where identity trusts this app as a proxy (IDENTITY_TRUSTED_PROXIES;
loopback on `make up`). Once registered, the family signs in and sees the child.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _

from schoolkit.web import db_session
from web import sessions
from web.api import NotFound, Refused, api
from web.i18n import current_language
from web.signin import current_user, require_csrf

blueprint = Blueprint("registration", __name__)
FIELDS = ("code", "last_name", "first_name", "login", "email")


@blueprint.route("/register", methods=["GET", "POST"])
def register() -> Any:
    if current_user() is not None:
        return redirect(url_for("pages.home"))
    row = _form_session()
    if request.method == "GET":
        return _form(row.csrf_token, {}, None)
    require_csrf(row)
    values = {name: request.form.get(name, "").strip() for name in FIELDS}
    body: dict[str, Any] = {
        **{name: value for name, value in values.items() if value},
        "password": request.form.get("password", ""),
        "language": current_language(),
    }
    try:
        api().call(
            "POST",
            "/api/identity/v1/registrations",
            None,
            headers={"X-Forwarded-For": _browser_address()},
            json=body,
        )
    except NotFound:
        return _form(row.csrf_token, values, _("Такого кода нет. Проверьте, как он набран."), 404)
    except Refused as refusal:
        return _form(row.csrf_token, values, _refusal_text(refusal), refusal.status)
    # Home lists the child: the diary itself, or why not yet (no agreement registered).
    return redirect(url_for("signin.sign_in", next=url_for("pages.home")))


def _form_session() -> Any:
    """An anonymous row only for the form's CSRF token (no account, no tokens)."""
    db = db_session()
    row = sessions.from_cookie(db)
    if row is None:
        row = sessions.start(db)
        db.commit()
    return row


def _form(csrf: str, values: dict[str, str], error: str | None, status: int = 200) -> Any:
    page = render_template("register.html", csrf=csrf, values=values, error=error, user=None)
    return page, (status if error else 200)


def _refusal_text(refusal: Refused) -> str:
    code = (refusal.body.get("error") or {}).get("code", "")
    texts = {
        "code_used": _("Этот код уже использован. Если это были не вы, сообщите в школу."),
        "code_revoked": _("Этот код отозван. Попросите в школе новый."),
        "code_expired": _("Срок действия кода истёк. Попросите в школе новый."),
        "login_taken": _("Этот логин занят. Выберите другой."),
        "already_registered": _("По этому коду уже зарегистрировались. Войдите со своим логином."),
        "weak_password": _(
            "Пароль слишком простой: не короче 10 символов, не из списка частых паролей."
        ),
        "name_required": _("Укажите фамилию и имя."),
    }
    if code in texts:
        return texts[code]
    if refusal.status == 429:
        return _("Слишком много неверных кодов. Попробуйте позже.")
    return _("Проверьте поля: логин — латинские буквы, цифры, точка, дефис (от 3 символов).")


def _browser_address() -> str:
    # The gateway in front of us appends the browser's address as the last hop.
    forwarded = request.headers.get("X-Forwarded-For", "")
    last = forwarded.split(",")[-1].strip()
    return last or (request.remote_addr or "")
