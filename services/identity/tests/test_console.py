"""The identity console over HTTP through the gateway: sign-in, CSRF, who may do what
(issue 3 §6, R-IDN-7, R-ROLE-1, R-ROLE-3). The browser test is test_console_browser.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from .conftest import ADMIN_PASSWORD, Provider
from .console_setup import CSRF, csrf_of, gateway_before, sign_in

PASSWORD = "Длинный пароль 2025"


@pytest.fixture
def console_url(provider: Provider, tmp_path: Path) -> Iterator[str]:
    with gateway_before(provider, tmp_path) as url:
        yield url


def test_signing_in_opens_the_people_page_in_russian(console_url: str) -> None:
    browser = requests.Session()

    page = sign_in(browser, console_url, "admin", ADMIN_PASSWORD)

    assert page.status_code == 200
    assert page.url.endswith("/console/people")
    assert "Люди" in page.text and "Добавить человека" in page.text
    cookie = next(c for c in browser.cookies if c.name == "console_session")
    assert cookie.has_nonstandard_attr("HttpOnly") and cookie.path == "/console"
    english = browser.get(f"{console_url}/console/people?lang=en", timeout=10)
    assert "Add a person" in english.text


def test_a_wrong_password_and_an_unknown_login_get_the_same_answer(console_url: str) -> None:
    wrong = sign_in(requests.Session(), console_url, "admin", "не тот пароль совсем")
    unknown = sign_in(requests.Session(), console_url, "nobody.here", "не тот пароль совсем")

    assert wrong.status_code == unknown.status_code == 401
    assert "Неверный логин или пароль" in wrong.text
    assert CSRF.sub("", wrong.text) == CSRF.sub("", unknown.text)


def test_a_form_without_its_token_changes_nothing(
    console_url: str, provider: Provider, admin: dict
) -> None:
    browser = requests.Session()
    sign_in(browser, console_url, "admin", ADMIN_PASSWORD)
    form = {"kind": "guardian", "last_name": "Подделкина", "first_name": "Анна"}

    forged = browser.post(f"{console_url}/console/people/new", data=form, timeout=10)

    assert forged.status_code == 400
    assert "Форма устарела" in forged.text
    listed = requests.get(
        provider.api("/v1/people"), params={"q": "Подделкина"}, headers=admin, timeout=10
    )
    assert listed.json() == []


def test_pages_need_a_sign_in_and_a_console_role(console_url: str, make_person: Callable) -> None:
    make_person(login="parent.only")
    anonymous = requests.get(f"{console_url}/console/people", timeout=10, allow_redirects=False)
    guardian = sign_in(requests.Session(), console_url, "parent.only", PASSWORD)

    assert anonymous.status_code == 302
    assert "/console/login" in anonymous.headers["Location"]
    assert guardian.status_code == 403


def test_a_class_teacher_may_look_people_up_but_not_create_or_block(
    console_url: str, make_person: Callable
) -> None:
    target = make_person(login="target.person")
    make_person("staff", login="klass", roles=["class_teacher"])
    browser = requests.Session()
    people = sign_in(browser, console_url, "klass", PASSWORD)
    token = csrf_of(people)

    new_page = browser.get(f"{console_url}/console/people/new", timeout=10)
    block = browser.post(
        f"{console_url}/console/people/{target['id']}/block",
        data={"csrf_token": token, "reason": "other"},
        timeout=10,
    )

    assert "Добавить человека" not in people.text
    assert (new_page.status_code, block.status_code) == (403, 403)
    assert sign_in(requests.Session(), console_url, "target.person", PASSWORD).status_code == 403


def test_blocking_the_administrator_ends_their_console_sign_in_at_once(
    console_url: str, provider: Provider, admin: dict, make_person: Callable
) -> None:
    second = make_person("staff", login="admin2", roles=["administrator"])
    browser = requests.Session()
    sign_in(browser, console_url, "admin2", PASSWORD)

    blocked = requests.post(
        provider.api(f"/v1/people/{second['id']}/block"),
        json={"reason": "suspected_unlawful_use"},
        headers=admin,
        timeout=10,
    )
    after = browser.get(f"{console_url}/console/people", timeout=10, allow_redirects=False)

    assert blocked.status_code == 200
    assert after.status_code == 302 and "/console/login" in after.headers["Location"]


def test_a_temporary_password_leads_to_the_password_page_first(
    console_url: str, provider: Provider, admin: dict, make_person: Callable
) -> None:
    person = make_person("staff", login="new.admin", roles=["administrator"])
    issued = requests.post(
        provider.api(f"/v1/people/{person['id']}/temporary-password"), headers=admin, timeout=10
    ).json()["temporary_password"]
    browser = requests.Session()

    landed = sign_in(browser, console_url, "new.admin", issued)
    changed = browser.post(
        f"{console_url}/console/password",
        data={"csrf_token": csrf_of(landed), "current": issued, "new": "Моё новое слово 2026"},
        timeout=10,
    )

    assert landed.url.endswith("/console/password")
    assert "Задайте свой пароль" in landed.text
    assert "Пароль изменён" in changed.text
    assert sign_in(requests.Session(), console_url, "new.admin", "Моё новое слово 2026").ok


def test_the_audit_page_shows_logins_and_actions_without_secrets(
    console_url: str, make_person: Callable
) -> None:
    make_person(login="audited.user")
    sign_in(requests.Session(), console_url, "audited.user", "неверный пароль здесь")
    browser = requests.Session()
    sign_in(browser, console_url, "admin", ADMIN_PASSWORD)

    page = browser.get(f"{console_url}/console/audit", timeout=10)

    assert "wrong_password" in page.text and "person_created" in page.text
    assert "неверный пароль здесь" not in page.text and PASSWORD not in page.text


def test_the_cookie_is_secure_when_the_gateway_says_the_browser_came_over_https(
    provider: Provider,
) -> None:
    plain = requests.get(provider.url + "/console/login", timeout=10)
    behind_tls = requests.get(
        provider.url + "/console/login", headers={"X-Forwarded-Proto": "https"}, timeout=10
    )

    assert "Secure" not in plain.headers["Set-Cookie"]
    assert "Secure" in behind_tls.headers["Set-Cookie"]
    assert "SameSite=Strict" in behind_tls.headers["Set-Cookie"]
