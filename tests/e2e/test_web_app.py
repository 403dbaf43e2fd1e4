"""The web app in Debian's Chromium against the whole system (issue 15): a guardian's
evening from the real authorization page to signing out, another family's child by URL,
a blocked guardian's open page, the security headers and the session cookie, and
axe-core on every page in both languages. Screenshots at 1280 and 375 px go to
var/screenshots/web/ (git ignores var/)."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from schoolkit.testing import Mailbox

from .stories import (
    SERVICES,
    a_class_with_a_mark,
    a_family_with_consent,
    post,
    post_once_consent_knows_the_family,
    start,
    wait_for,
)
from .system import System

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = ROOT / "var" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "var" / "screenshots" / "web"
WIDTHS = (1280, 375)
GUARDIAN_PASSWORD = "Надёжный пароль 2025"  # a_family_with_consent's guardian
# Generous: on a shared two-core machine fifteen processes start and answer slowly.
TIMEOUT_MS = 45_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert Path(CHROMIUM).exists(), "Debian's chromium is missing: scripts/install.sh adds it"
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield launched
        launched.close()


def a_child_of(
    system: System, admin: dict[str, str], guardian_id: str, first_name: str, login: str = ""
) -> str:
    """Another child of the guardian, with consent and a diary agreement (and an account
    of their own when a login is given)."""
    account = {"login": login, "password": GUARDIAN_PASSWORD} if login else {}
    student = post(
        system,
        "/api/identity/v1/people",
        {"kind": "student", "last_name": "Смирнова", "first_name": first_name, **account},
        admin,
    )
    post(
        system,
        "/api/identity/v1/guardianships",
        {"guardian_id": guardian_id, "student_id": student["id"]},
        admin,
    )
    family = {"guardian_id": guardian_id, "student_id": student["id"]}
    post_once_consent_knows_the_family(
        system,
        "/api/consent/v1/consents",
        {**family, "representation": "parent", "decision": "given", "signed_on": "2025-09-01"},
        admin,
    )
    post(system, "/api/consent/v1/agreements", {**family, "applied_on": "2025-09-02"}, admin)
    return str(student["id"])


def another_family(system: System, admin: dict[str, str]) -> tuple[str, str]:
    """A guardian (login "pavel") and a child of theirs, under an agreement."""
    guardian = post(
        system,
        "/api/identity/v1/people",
        {
            "kind": "guardian",
            "last_name": "Орлов",
            "first_name": "Павел",
            "login": "pavel",
            "password": GUARDIAN_PASSWORD,
        },
        admin,
    )
    student = a_child_of(system, admin, guardian["id"], "Вера")
    return guardian["id"], student


def sign_in(page: Page, login: str) -> None:
    """Through the web app's button and identity's own authorization page."""
    page.goto("/")
    page.click("#sign-in")
    page.wait_for_url("**/api/identity/oauth/authorize?**")
    page.fill("#login", login)
    page.fill("#password", GUARDIAN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/oauth/" not in url)


def shoot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
        # Usable at a phone's width: nothing wider than the screen.
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{name} scrolls sideways at {width} px"
    page.set_viewport_size({"width": 1280, "height": 900})


def serious_violations(page: Page) -> list[dict[str, Any]]:
    assert AXE.is_file(), "axe-core is missing: scripts/install.sh installs it from npm"
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("async () => (await axe.run(document)).violations")
    return [
        {"id": v["id"], "nodes": [n["target"] for n in v["nodes"]]}
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def _home_with(page: Page, name: str) -> str | None:
    page.goto("/")
    text = page.inner_text("main")
    return text if name in text else None


def the_mark_shows(page: Page, url: str) -> bool:
    page.goto(url)
    return page.locator(".mark .value").count() > 0


def test_a_guardians_evening_in_the_web_app(
    start_system: Callable[..., System], mailbox: Mailbox, browser: Browser
) -> None:
    # Access tokens of 45 s: the web app refreshes them (30 s before their end) several
    # times during the story, while the open page asks every second if it is alive.
    system, admin = start(
        start_system,
        mailbox,
        services=(*SERVICES, "web"),
        environment={"IDENTITY_ACCESS_TOKEN_SECONDS": "45"},
    )
    guardian_id, ilya, _ = a_family_with_consent(system, admin)
    anna = a_child_of(system, admin, guardian_id, "Анна", login="anna")
    _, vera = another_family(system, admin)
    journal = a_class_with_a_mark(system, admin, ilya, comment="Выразительное чтение")

    context = browser.new_context(base_url=system.gateway_url, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, "olga")

    # The children switcher: both children by name, never an id.
    names = wait_for(lambda: _home_with(page, "Анна"), "the second child on the home page")
    assert "Смирнов Илья" in names and "Смирнова Анна" in names
    assert ilya not in names
    shoot(page, "children")

    # The week the teacher's mark is in (recorded through the journal's API above).
    week = f"/students/{ilya}/week?date=2025-09-15"
    wait_for(lambda: the_mark_shows(page, week), "the teacher's mark in the week")
    lesson = page.inner_text(".lesson")
    assert "Литература" in lesson and "Учителева Анна" in lesson and "10:00–10:45" in lesson
    assert "5" in page.inner_text(".mark .value")
    assert "устный ответ, вес 1" in page.inner_text(".mark")
    shoot(page, "week")

    page.click(f"nav.children a[href*='{anna}']")
    assert page.inner_text("#student-name") == "Смирнова Анна"
    page.click(f"nav.children a[href*='{ilya}']")
    assert page.inner_text("#student-name") == "Смирнов Илья"

    # R-DRY-5: acknowledged, and the diary says so.
    page.goto(week)
    page.click("#acknowledge")
    # The notice is drawn from the diary's own list of acknowledgements.
    page.wait_for_selector("#acknowledged")

    # R-DRY-6: the extract with one click.
    with page.expect_download() as download:
        page.click("#extract")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    _a_teachers_message_is_read(page, system, journal, ilya)
    _every_page_reads_and_fits(page, ilya, vera)
    _headers_and_cookie(context, page)
    pages = [week, f"/students/{ilya}/marks", f"/students/{ilya}/messages", "/my-data", "/help"]
    _accessible_in_both_languages(browser, context, system.gateway_url, pages)

    _the_last_week_stays_on_the_phone(context, page, week)

    # Signing out ends the session, and the device forgets its copy of the week.
    page.goto(week)
    page.click("#sign-out")
    page.wait_for_url("**/?signed_out=1")
    wait_for(lambda: not _offline_copy_kept(page), "the offline copy forgotten")
    page.goto(week)
    assert "/api/identity/oauth/authorize" in page.url
    context.close()

    _a_student_reads_only_her_own_diary(system, browser, anna, ilya)
    _a_blocked_guardian_is_signed_out(system, admin, browser)
    _a_family_registers_with_the_schools_code(system, admin, browser)


def _a_teachers_message_is_read(
    page: Page, system: System, journal: dict[str, Any], ilya: str
) -> None:
    """R-DRY-5 for one message: the teacher writes through the journal's API."""
    post(
        system,
        f"/api/journal/v1/lessons/{journal['lesson_id']}/messages",
        {"text": "Илья выразительно читал стихи", "student_ids": [ilya]},
        journal["teacher"],
    )
    messages = f"/students/{ilya}/messages"
    wait_for(
        lambda: page.goto(messages) and "выразительно читал" in page.inner_text("main"),
        "the teacher's message in the diary",
    )
    assert "Учителева Анна" in page.inner_text(".card .meta")
    page.click(".card form button")
    page.wait_for_selector(".card >> text=Прочитано")


def _every_page_reads_and_fits(page: Page, ilya: str, vera: str) -> None:
    for name, path in (
        ("marks", f"/students/{ilya}/marks"),
        ("messages", f"/students/{ilya}/messages"),
        ("my-data", "/my-data"),
        ("notifications", "/settings/notifications"),
    ):
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, path
        shoot(page, name)

    # Another family's child and a made-up id: the same "not found" page.
    foreign = page.goto(f"/students/{vera}/week")
    foreign_text = page.inner_text("main")
    unknown = page.goto(f"/students/{uuid.uuid4()}/week")
    assert foreign is not None and unknown is not None
    assert foreign.status == unknown.status == 404
    assert foreign_text == page.inner_text("main")
    shoot(page, "not-found")

    # Bad input is a readable page, never a 500.
    bad = page.goto(f"/students/{ilya}/week?date=2025-13-45")
    assert bad is not None and bad.status == 400
    assert "Неверная дата" in page.inner_text("h1")
    forged = page.request.post(
        f"/students/{ilya}/acknowledgements",
        form={"csrf_token": "forged", "until": "2025-09-15"},
        max_redirects=0,
    )
    assert forged.status == 400 and "Форма устарела" in forged.text()

    # The channels notify offers, saved through its API.
    page.goto("/settings/notifications")
    page.uncheck("#sms")
    page.click("#save")
    page.wait_for_selector("#saved")
    assert not page.is_checked("#sms") and page.is_checked("#email")


def _headers_and_cookie(context: BrowserContext, page: Page) -> None:
    answer = page.goto("/my-data")
    assert answer is not None
    headers = answer.headers
    policy = headers["content-security-policy"]
    script_src = next(d for d in policy.split(";") if d.strip().startswith("script-src"))
    assert "unsafe-inline" not in script_src
    assert "frame-ancestors 'none'" in policy
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    (cookie,) = [c for c in context.cookies() if c["name"] == "school_session"]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert not cookie["secure"]  # plain http here; WEB_PUBLIC_URL https:// sets Secure
    ours = {c["name"] for c in context.cookies() if not c["name"].startswith("identity_")}
    assert ours <= {"school_session", "lang"}  # identity's page keeps its own CSRF cookie


def _accessible_in_both_languages(
    browser: Browser, signed_in: BrowserContext, base_url: str, paths: list[str]
) -> None:
    # axe is injected as a script tag, which our own CSP rightly refuses: this context
    # alone bypasses it, with the signed-in session of the story.
    context = browser.new_context(
        base_url=base_url,
        storage_state=signed_in.storage_state(),
        bypass_csp=True,
    )
    page = context.new_page()
    for language in ("ru", "en"):
        page.goto(f"/language/{language}?next=/")
        for path in ["/", *paths]:
            page.goto(path)
            assert serious_violations(page) == [], (language, path)
        if language == "en":
            page.goto(paths[0])
            assert "You have read the diary" in page.inner_text("main")
            shoot(page, "week-en")
    page.goto("/language/ru?next=/")
    context.close()


def _a_blocked_guardian_is_signed_out(
    system: System, admin: dict[str, str], browser: Browser
) -> None:
    context = browser.new_context(base_url=system.gateway_url, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, "pavel")
    assert page.inner_text("h1") == "Дети"
    pavel = requests.get(
        system.url("/api/identity/v1/people?kind=guardian&q=Орлов"), headers=admin, timeout=10
    ).json()[0]
    blocked = requests.post(
        system.url(f"/api/identity/v1/people/{pavel['id']}/block"),
        json={"reason": "suspected_unlawful_use"},
        headers=admin,
        timeout=10,
    )
    assert blocked.status_code in (200, 204), blocked.text
    started = time.monotonic()
    page.wait_for_url("**/?ended=1", timeout=10_000)
    # The event crosses the bus to the web app's worker; the page asks every second.
    assert time.monotonic() - started < 5.0
    assert page.locator("#sign-in").count() == 1
    context.close()


def _a_family_registers_with_the_schools_code(
    system: System, admin: dict[str, str], browser: Browser
) -> None:
    """R-IDN-2 on the web app's own page, then straight to the children: a child without
    a diary agreement yet says why and what to do."""
    student = post(
        system,
        "/api/identity/v1/people",
        {"kind": "student", "last_name": "Зайцев", "first_name": "Миша"},
        admin,
    )
    code = post(system, "/api/identity/v1/invitations", {"student_id": student["id"]}, admin)
    context = browser.new_context(base_url=system.gateway_url, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto("/")
    page.click("#register-link")
    page.fill("#code", "WRONG-CODE-1")
    page.fill("#login", "oleg.zaitsev")
    page.fill("#password", GUARDIAN_PASSWORD)
    page.click("#register")
    assert "Такого кода нет" in page.inner_text("#error")
    shoot(page, "register")
    page.fill("#code", code["code"])
    page.fill("#last_name", "Зайцев")
    page.fill("#first_name", "Олег")
    page.fill("#password", GUARDIAN_PASSWORD)
    page.click("#register")
    page.wait_for_url("**/api/identity/oauth/authorize?**")
    page.fill("#login", "oleg.zaitsev")
    page.fill("#password", GUARDIAN_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/oauth/" not in url)
    text = wait_for(lambda: _home_with(page, "без договора"), "the child without an agreement")
    assert "подайте заявление" in text
    shoot(page, "no-agreement")
    context.close()


def _offline_copy_kept(page: Page) -> bool:
    script = "async () => !!(await caches.match('/offline/last-week'))"
    return bool(page.evaluate(script))


def _controlled(page: Page) -> bool:
    if page.evaluate("!!navigator.serviceWorker.controller"):
        return True
    page.reload()
    return False


def _the_last_week_stays_on_the_phone(context: BrowserContext, page: Page, week: str) -> None:
    """The PWA: the service worker keeps the last week loaded; without network the page
    is that copy, marked offline with the time it was loaded."""
    page.goto(week)
    page.evaluate("async () => { await navigator.serviceWorker.ready; }")
    wait_for(lambda: _controlled(page), "the service worker in control of the page")
    page.goto(week)
    wait_for(lambda: _offline_copy_kept(page), "the week kept for offline")
    context.set_offline(True)
    try:
        page.goto(week)
        page.wait_for_selector("#offline:not([hidden])")
        assert "Нет связи" in page.inner_text("#offline")
        assert page.inner_text("#student-name") == "Смирнов Илья"
        assert page.locator(".mark .value").count() > 0
        shoot(page, "offline-week")
    finally:
        context.set_offline(False)


def _a_student_reads_only_her_own_diary(
    system: System, browser: Browser, anna: str, ilya: str
) -> None:
    """R-ROLE-6: the same pages, for herself only; nothing to acknowledge (guardians do)."""
    context = browser.new_context(base_url=system.gateway_url, locale="ru-RU")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    sign_in(page, "anna")
    page.wait_for_url(f"**/students/{anna}/week")
    assert page.inner_text("#student-name") == "Смирнова Анна"
    assert page.locator("#acknowledge").count() == 0
    assert page.locator("nav.children").count() == 0
    brother = page.goto(f"/students/{ilya}/week")
    assert brother is not None and brother.status == 404
    context.close()
