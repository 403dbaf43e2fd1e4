"""The console in a real headless Chromium (Debian's package) through the gateway: an
administrator signs in, creates a guardian, issues a registration code that the guardian
then uses, and blocks a user (issue 3 §6)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, sync_playwright

from .conftest import ADMIN_PASSWORD, Provider
from .console_setup import gateway_before

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: scripts/install.sh adds it"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, provider: Provider, tmp_path: Path) -> Iterator[Page]:
    with gateway_before(provider, tmp_path) as url:
        context = browser.new_context(base_url=url, locale="ru-RU")
        opened = context.new_page()
        opened.set_default_timeout(10_000)
        yield opened
        context.close()


def sign_in(page: Page, login: str, password: str) -> None:
    page.goto("/console/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("#sign-in")


def test_an_administrator_creates_a_guardian_issues_a_code_and_blocks_a_user(
    page: Page, provider: Provider, admin: dict, make_person: Callable
) -> None:
    student = make_person("student", last_name="Зайцев", first_name="Миша")
    sign_in(page, "admin", ADMIN_PASSWORD)
    page.wait_for_url("**/console/people")

    page.click("#new-person")
    page.select_option("#kind", "guardian")
    page.fill("#last_name", "Зайцева")
    page.fill("#first_name", "Елена")
    page.fill("#email", "elena@example.org")
    page.click("#save")
    page.wait_for_selector("#person-name")
    assert page.inner_text("#person-name").startswith("Зайцева Елена")
    guardian_id = page.inner_text("#person-id")

    page.goto(f"/console/people/{student['id']}")
    page.click("#issue-code")
    code = page.inner_text("#code")
    assert len(code) == 14

    page.goto("/console/register")
    page.fill("#code", code)
    page.fill("#last_name", "Зайцев")
    page.fill("#first_name", "Олег")
    page.fill("#login", "oleg.zaitsev")
    page.fill("#password", "Папа Миши 2026!")
    page.click("#register")
    assert "Готово" in page.inner_text("#message")
    assert provider.login("oleg.zaitsev", "Папа Миши 2026!").status_code == 200

    page.goto("/console/people?q=Зайцев&kind=guardian")
    page.click("a:text-is('Зайцев')")
    page.wait_for_selector("#block-form")
    page.select_option("#reason", "suspected_unlawful_use")
    page.click("#block")
    assert page.inner_text("#account-status") == "заблокирована"
    assert provider.login("oleg.zaitsev", "Папа Миши 2026!").status_code == 400

    created = requests.get(provider.api(f"/v1/people/{guardian_id}"), headers=admin, timeout=10)
    assert created.json()["email"] == "elena@example.org"
