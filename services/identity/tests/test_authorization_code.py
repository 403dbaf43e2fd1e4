"""Other applications sign users in through the login page: authorization_code with PKCE
(issue 3 §2). Driven like a browser and an application would, over HTTP."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import text

from identity.oauth.clients import APPLICATION, register_client
from schoolkit.auth import TokenVerifier

from .conftest import ADMIN_PASSWORD, Provider

REDIRECT = "https://timetable.example/callback"
APP = "timetable-app"


@pytest.fixture
def application(provider: Provider) -> str:
    """A public third-party application (no secret: PKCE protects its codes)."""
    with provider.database.transaction() as session:
        register_client(
            session,
            APP,
            kind=APPLICATION,
            redirect_uris=[REDIRECT],
            scopes=["diary.read"],
            public=True,
        )
    return APP


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorize_params(challenge: str, **changes: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": APP,
        "redirect_uri": REDIRECT,
        "scope": "diary.read",
        "state": "st-42",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(changes)
    return {name: value for name, value in params.items() if value}


def hidden_fields(page: str) -> dict[str, str]:
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page))


def sign_in(
    provider: Provider, browser: requests.Session, params: dict[str, str], login: str, password: str
) -> requests.Response:
    page = browser.get(provider.api("/oauth/authorize"), params=params, timeout=10)
    assert page.status_code == 200, page.text
    form = {**hidden_fields(page.text), "login": login, "password": password}
    return browser.post(
        provider.api("/oauth/authorize"), data=form, allow_redirects=False, timeout=10
    )


def code_from(answer: requests.Response) -> str:
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == ["st-42"]
    return query["code"][0]


def exchange(provider: Provider, code: str, verifier: str, **extra: str) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": APP,
        "code_verifier": verifier,
        **extra,
    }
    return requests.post(provider.api("/oauth/token"), data=form, timeout=10)


def test_a_user_signs_in_on_the_page_and_the_application_gets_tokens_with_its_verifier(
    provider: Provider, application: str
) -> None:
    verifier, challenge = pkce()
    code = code_from(
        sign_in(provider, requests.Session(), authorize_params(challenge), "admin", ADMIN_PASSWORD)
    )
    answer = exchange(provider, code, verifier)
    assert answer.status_code == 200, answer.text
    tokens = answer.json()
    assert tokens["refresh_token"]
    assert tokens["expires_in"] <= 15 * 60
    principal = TokenVerifier(provider.api("/oauth/jwks"), "school-identity").verify(
        tokens["access_token"]
    )
    assert principal.client_id == APP
    assert principal.roles == frozenset({"administrator"})
    assert principal.scopes == frozenset({"diary.read"})
    assert principal.session_id
    me = requests.get(
        provider.api("/v1/me"),
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=10,
    )
    assert me.json()["login"] == "admin"


def test_a_code_used_twice_is_refused_and_ends_the_session_it_started(
    provider: Provider, application: str
) -> None:
    verifier, challenge = pkce()
    code = code_from(
        sign_in(provider, requests.Session(), authorize_params(challenge), "admin", ADMIN_PASSWORD)
    )
    first = exchange(provider, code, verifier).json()
    again = exchange(provider, code, verifier)
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": APP,
    }
    assert requests.post(provider.api("/oauth/token"), data=refresh, timeout=10).status_code == 400
    [revoked] = provider.published("identity.session.revoked")
    assert revoked["data"]["reason"] == "authorization_code_reuse"


def test_a_wrong_verifier_is_refused_as_invalid_grant(provider: Provider, application: str) -> None:
    _, challenge = pkce()
    code = code_from(
        sign_in(provider, requests.Session(), authorize_params(challenge), "admin", ADMIN_PASSWORD)
    )
    other_verifier, _ = pkce()
    answer = exchange(provider, code, other_verifier)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


def test_an_expired_code_is_refused(provider: Provider, application: str) -> None:
    verifier, challenge = pkce()
    code = code_from(
        sign_in(provider, requests.Session(), authorize_params(challenge), "admin", ADMIN_PASSWORD)
    )
    with provider.database.transaction() as session:
        session.execute(
            text("UPDATE authorization_codes SET expires_at = now() - interval '1 second'")
        )
    answer = exchange(provider, code, verifier)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"code_challenge": "", "code_challenge_method": ""}, id="no-pkce"),
        pytest.param({"code_challenge_method": "plain"}, id="plain"),
    ],
)
def test_a_request_without_an_s256_challenge_goes_back_to_the_application_as_invalid_request(
    provider: Provider, application: str, changes: dict[str, str]
) -> None:
    _, challenge = pkce()
    answer = requests.get(
        provider.api("/oauth/authorize"),
        params=authorize_params(challenge, **changes),
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert query["state"] == ["st-42"]


def test_an_address_that_is_not_registered_exactly_is_never_redirected_to(
    provider: Provider, application: str
) -> None:
    _, challenge = pkce()
    for redirect in (REDIRECT + "/../evil", REDIRECT + "x", "https://evil.example/callback"):
        answer = requests.get(
            provider.api("/oauth/authorize"),
            params=authorize_params(challenge, redirect_uri=redirect),
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code == 400
        assert "Location" not in answer.headers
        assert "invalid_request" in answer.text


def test_the_page_is_russian_by_default_and_english_when_asked(
    provider: Provider, application: str
) -> None:
    _, challenge = pkce()
    url, params = provider.api("/oauth/authorize"), authorize_params(challenge)
    russian = requests.get(url, params=params, timeout=10)
    assert '<html lang="ru">' in russian.text
    assert "Пароль" in russian.text
    by_parameter = requests.get(url, params={**params, "lang": "en"}, timeout=10)
    by_browser = requests.get(
        url, params=params, headers={"Accept-Language": "en-GB,en;q=0.9"}, timeout=10
    )
    for english in (by_parameter, by_browser):
        assert '<html lang="en">' in english.text
        assert "Password" in english.text
    assert russian.headers["X-Frame-Options"] == "DENY"


def test_a_form_posted_without_its_csrf_token_signs_nobody_in(
    provider: Provider, application: str
) -> None:
    _, challenge = pkce()
    browser = requests.Session()
    page = browser.get(
        provider.api("/oauth/authorize"), params=authorize_params(challenge), timeout=10
    )
    form = {**hidden_fields(page.text), "login": "admin", "password": ADMIN_PASSWORD}
    forged = {**form, "csrf_token": secrets.token_urlsafe(32)}
    from_elsewhere = requests.post(
        provider.api("/oauth/authorize"), data=form, allow_redirects=False, timeout=10
    )
    for answer in (
        browser.post(
            provider.api("/oauth/authorize"), data=forged, allow_redirects=False, timeout=10
        ),
        from_elsewhere,
    ):
        assert answer.status_code == 400
        assert "Location" not in answer.headers
        assert "Форма устарела" in answer.text


def test_a_wrong_password_and_an_unknown_login_get_the_same_page_and_lock_like_the_password_grant(
    provider: Provider, application: str
) -> None:
    _, challenge = pkce()
    params = authorize_params(challenge)
    browser = requests.Session()
    unknown = sign_in(provider, browser, params, "nobody", ADMIN_PASSWORD)
    wrong = sign_in(provider, browser, params, "admin", "not the password at all")
    for answer in (unknown, wrong):
        assert answer.status_code == 400
        assert "Неверный логин или пароль" in answer.text
    assert hidden_fields(unknown.text) == hidden_fields(wrong.text)
    for _ in range(4):
        sign_in(provider, browser, params, "admin", "still guessing wrongly")
    locked = sign_in(provider, browser, params, "admin", ADMIN_PASSWORD)
    assert locked.status_code == 400
    assert provider.login("admin", ADMIN_PASSWORD).status_code == 400


def test_a_confidential_application_must_present_its_secret_with_the_code(
    provider: Provider,
) -> None:
    with provider.database.transaction() as session:
        secret = register_client(session, APP, kind=APPLICATION, redirect_uris=[REDIRECT])
    assert secret
    verifier, challenge = pkce()
    code = code_from(
        sign_in(provider, requests.Session(), authorize_params(challenge), "admin", ADMIN_PASSWORD)
    )
    without = exchange(provider, code, verifier)
    assert without.status_code == 401
    assert without.json()["error"] == "invalid_client"
    with_secret = exchange(provider, code, verifier, client_secret=secret)
    assert with_secret.status_code == 200, with_secret.text


def test_a_line_break_in_the_request_is_a_json_400_and_never_a_redirect(
    provider: Provider, application: str
) -> None:
    """Issue 14 §11c: a newline in redirect_uri made Authlib raise a ValueError: a 500."""
    _, challenge = pkce()
    for redirect in (REDIRECT + "\n", "https://timetable.example/cb\r\nSet-Cookie: x=1"):
        params = authorize_params(challenge, redirect_uri=redirect)
        shown = requests.get(
            provider.api("/oauth/authorize"), params=params, allow_redirects=False, timeout=10
        )
        posted = requests.post(
            provider.api("/oauth/authorize"), data=params, allow_redirects=False, timeout=10
        )
        for answer in (shown, posted):
            assert answer.status_code == 400
            assert "Location" not in answer.headers
            error = answer.json()["error"]
            assert error["code"] == "invalid_request"
            assert set(error["fields"]) == {"redirect_uri"}


def test_discovery_names_the_authorization_endpoint_and_s256(provider: Provider) -> None:
    document = requests.get(provider.api("/.well-known/openid-configuration"), timeout=10).json()
    assert document["authorization_endpoint"].endswith("/api/identity/oauth/authorize")
    assert {"authorization_code", "client_credentials", "password", "refresh_token"} <= set(
        document["grant_types_supported"]
    )
    assert document["code_challenge_methods_supported"] == ["S256"]


def test_the_application_refreshes_its_tokens_and_keeps_its_scope(
    provider: Provider, application: str
) -> None:
    verifier, challenge = pkce()
    code = code_from(
        sign_in(provider, requests.Session(), authorize_params(challenge), "admin", ADMIN_PASSWORD)
    )
    first = exchange(provider, code, verifier).json()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": APP,
    }
    as_web = {**form, "client_id": "web"}
    assert requests.post(provider.api("/oauth/token"), data=as_web, timeout=10).status_code == 400
    answer = requests.post(provider.api("/oauth/token"), data=form, timeout=10)
    assert answer.status_code == 200, answer.text
    principal = TokenVerifier(provider.api("/oauth/jwks"), "school-identity").verify(
        answer.json()["access_token"]
    )
    assert principal.client_id == APP
    assert principal.scopes == frozenset({"diary.read"})


def test_what_the_application_sends_is_shown_as_text_never_as_markup(
    provider: Provider, application: str
) -> None:
    _, challenge = pkce()
    hostile = '"><script>alert(1)</script>'
    page = requests.get(
        provider.api("/oauth/authorize"),
        params=authorize_params(challenge, state=hostile),
        timeout=10,
    )
    assert page.status_code == 200
    assert "<script>" not in page.text
    assert hidden_fields(page.text)["state"] == "&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"


def test_an_application_is_registered_only_with_absolute_addresses_without_fragments(
    provider: Provider,
) -> None:
    for uri in ("/callback", "https://timetable.example/cb#x", "https://t.example/" + "a" * 500):
        with provider.database.transaction() as session, pytest.raises(ValueError):
            register_client(session, APP, kind=APPLICATION, redirect_uris=[uri], public=True)
