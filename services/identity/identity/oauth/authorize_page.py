"""The login page of the authorization endpoint (authorization_code with PKCE).

Server-rendered, Russian by default and English with `?lang=en` or a browser that
prefers English. The form is protected by a double-submit token: a random value in a
SameSite=Strict cookie that must come back in the form, which another site can neither
read nor make the browser send. Sign-in goes through oauth/login.py `authenticate`, so
lockout, the per-address limit and the one answer for every failure hold here too.
"""

from __future__ import annotations

import hmac
import re
import secrets
from typing import Any

from authlib.oauth2 import OAuth2Error
from flask import Response, current_app, render_template_string, request

from identity.oauth.addresses import client_address
from identity.oauth.login import InvalidCredentials, authenticate
from identity.oauth.server import DEFAULT_SCHOOL
from identity.oauth.signed_in import SignedIn
from schoolkit.errors import ApiError
from schoolkit.web import db_session

CSRF_COOKIE = "identity_authorize_csrf"
CSRF_FIELD = "csrf_token"
LANGUAGES = ("ru", "en")
# What the page carries from the client's request into the form it posts back.
REQUEST_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "school_id",
)
TEXTS = {
    "ru": {
        "title": "Вход",
        "heading": "Вход в электронный журнал",
        "asks": "Приложение «{client}» просит доступ от вашего имени.",
        "login": "Логин",
        "password": "Пароль",
        "submit": "Войти",
        "credentials": "Неверный логин или пароль, либо вход сейчас невозможен.",
        "csrf": "Форма устарела. Введите логин и пароль ещё раз.",
        "refused": "Приложение прислало неверный запрос на вход ({code}). Вернитесь в него и попробуйте снова.",
    },
    "en": {
        "title": "Sign in",
        "heading": "Sign in to the school journal",
        "asks": "The application “{client}” asks for access on your behalf.",
        "login": "Login",
        "password": "Password",
        "submit": "Sign in",
        "credentials": "Wrong login or password, or signing in is not possible right now.",
        "csrf": "The form has expired. Please enter your login and password again.",
        "refused": "The application sent an invalid sign-in request ({code}). Go back to it and try again.",
    },
}
PAGE = """<!doctype html>
<html lang="{{ lang }}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ t.title }}</title>
<style>body{font-family:sans-serif;max-width:24rem;margin:3rem auto;padding:0 1rem}
label,input,button{display:block;width:100%;margin:.3rem 0}.error{color:#a00}</style></head>
<body>
<h1>{{ t.heading }}</h1>
{% if client %}<p>{{ t.asks.format(client=client) }}</p>{% endif %}
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
{% if fields is not none %}
<form method="post" action="{{ action }}">
{% for name, value in fields.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}<input type="hidden" name="lang" value="{{ lang }}">
<input type="hidden" name="{{ csrf_field }}" value="{{ csrf }}">
<label for="login">{{ t.login }}</label>
<input id="login" name="login" autocomplete="username" required autofocus>
<label for="password">{{ t.password }}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{{ t.submit }}</button>
</form>
{% endif %}
</body></html>"""
# A line break or another control character belongs in no parameter of this endpoint;
# Authlib raises a bare ValueError on them (a 500), so they are refused first.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}


def show() -> Any:
    """GET: check the client's request, then ask for login and password."""
    try:
        grant = _consent_grant()
    except OAuth2Error as error:
        return _refuse(error)
    return _form(grant, status=200)


def sign_in() -> Any:
    """POST: check the form's token and the credentials, then send the code to the client."""
    try:
        grant = _consent_grant()
    except OAuth2Error as error:
        return _refuse(error)
    if not _csrf_token_matches():
        return _form(grant, status=400, error="csrf")
    client = grant.request.client
    try:
        account = authenticate(
            db_session(),
            school_id=client.school_id or request.form.get("school_id") or DEFAULT_SCHOOL,
            login=request.form.get("login", ""),
            password=request.form.get("password", ""),
            ip=client_address(),
        )
    except InvalidCredentials:
        return _form(grant, status=400, error="credentials")
    return _server().create_authorization_response(grant_user=SignedIn(account), grant=grant)


def _consent_grant() -> Any:
    """The client's request checked by Authlib, after what Authlib cannot parse: a 400 in
    the API's JSON shape. No redirect: a URI with a line break is no client's URI."""
    broken = {
        name: "Control characters (such as a line break) are not allowed."
        for name in REQUEST_FIELDS
        if CONTROL_CHARACTERS.search(request.values.get(name, ""))
    }
    if broken:
        raise ApiError(400, "invalid_request", "The sign-in request is malformed.", broken)
    try:
        return _server().get_consent_grant()
    except ValueError as error:  # Authlib's own parsing; OAuth2Error is not a ValueError
        raise ApiError(400, "invalid_request", "The sign-in request is malformed.") from error


def language() -> str:
    asked = request.values.get("lang")
    if asked in LANGUAGES:
        return asked
    return request.accept_languages.best_match(LANGUAGES, default="ru") or "ru"


def _form(grant: Any, *, status: int, error: str | None = None) -> Response:
    lang = language()
    token = _csrf_token()
    fields = {name: request.values[name] for name in REQUEST_FIELDS if request.values.get(name)}
    body = render_template_string(
        PAGE,
        lang=lang,
        t=TEXTS[lang],
        client=grant.request.client.client_id,
        error=TEXTS[lang][error] if error else None,
        fields=fields,
        action=request.path,
        csrf_field=CSRF_FIELD,
        csrf=token,
    )
    response = Response(body, status, HEADERS, content_type="text/html; charset=utf-8")
    response.set_cookie(
        CSRF_COOKIE,
        token,
        path=request.path,
        httponly=True,
        samesite="Strict",
        secure=_is_https(),
    )
    return response


def _refuse(error: OAuth2Error) -> Any:
    """With a client and an address we trust, the client hears why; otherwise the user does."""
    if error.redirect_uri:
        return _server().handle_error_response(request, error)
    lang = language()
    message = TEXTS[lang]["refused"].format(code=error.error)
    body = render_template_string(
        PAGE, lang=lang, t=TEXTS[lang], client=None, error=message, fields=None
    )
    return Response(body, 400, HEADERS, content_type="text/html; charset=utf-8")


def _csrf_token() -> str:
    existing = request.cookies.get(CSRF_COOKIE, "")
    return existing if len(existing) == 43 else secrets.token_urlsafe(32)


def _csrf_token_matches() -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.form.get(CSRF_FIELD, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), sent.encode())


def _is_https() -> bool:
    return request.is_secure or request.headers.get("X-Forwarded-Proto") == "https"


def _server() -> Any:
    return current_app.extensions["identity_oauth_server"]
