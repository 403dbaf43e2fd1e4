"""The web app on its own (its SQLite session store, no other service): what a visitor
who is not signed in meets, the sign-in request it sends to identity, the headers of
every page, and the language switch. The signed-in stories run against the whole
system in tests/e2e/test_web_app.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from schoolkit.migrate import upgrade
from schoolkit.settings import Settings
from web.app import create_app
from web.config import WebConfig


def make_app(tmp_path: Path, public_url: str = "http://localhost:8080") -> Flask:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    upgrade("web", url)
    settings = Settings.from_env("web", database_url=url, var_dir=tmp_path)
    config = WebConfig(
        client_id="school-web",
        client_secret="a secret",  # nobody receives it here
        api_url="http://127.0.0.1:9",
        public_url=public_url,
    )
    return create_app(settings, config)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[FlaskClient]:
    yield make_app(tmp_path).test_client()


def test_every_page_says_no_inline_script_no_framing_no_sniffing(client: FlaskClient) -> None:
    for path in ("/", "/nowhere", "/students/x/week?date=oops"):
        headers = client.get(path).headers
        policy = headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy
        assert "frame-ancestors 'none'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"


def test_a_visitor_opening_a_week_is_sent_to_sign_in_and_brought_back(client: FlaskClient) -> None:
    answer = client.get("/students/abc/week?date=2025-09-15")
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/signin?next=/students/abc/week?date%3D2025-09-15"


def test_sign_in_asks_identity_for_a_code_with_pkce_and_a_state(client: FlaskClient) -> None:
    answer = client.get("/signin?next=/students/abc/week")
    assert answer.status_code == 302
    target = urlsplit(answer.headers["Location"])
    assert target.path == "/api/identity/oauth/authorize"
    query = {key: values[0] for key, values in parse_qs(target.query).items()}
    assert query["response_type"] == "code"
    assert query["client_id"] == "school-web"
    assert query["redirect_uri"] == "http://localhost:8080/oauth/callback"
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43 and len(query["state"]) >= 32
    assert query["lang"] == "ru"
    cookie = answer.headers["Set-Cookie"]
    assert cookie.startswith("school_session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_behind_tls_the_session_cookie_is_secure(tmp_path: Path) -> None:
    client = make_app(tmp_path, public_url="https://school.example").test_client()
    assert "Secure" in client.get("/signin").headers["Set-Cookie"]


def test_a_callback_with_a_state_we_never_sent_is_a_readable_page(client: FlaskClient) -> None:
    client.get("/signin")
    answer = client.get("/oauth/callback?state=forged&code=anything")
    assert answer.status_code == 400
    assert "Войти не удалось" in answer.text


def test_a_form_sent_after_the_session_ended_asks_to_sign_in_again(client: FlaskClient) -> None:
    answer = client.post("/students/abc/acknowledgements", data={"until": "2025-09-15"})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/?expired=1"
    assert "Сеанс истёк" in client.get("/?expired=1").text


def test_sign_out_without_a_session_is_harmless(client: FlaskClient) -> None:
    answer = client.post("/signout")
    assert answer.status_code == 302 and answer.headers["Location"] == "/?signed_out=1"


def test_russian_by_default_english_by_a_remembered_switch(client: FlaskClient) -> None:
    assert "Войти" in client.get("/").text
    switched = client.get("/language/en?next=/")
    assert switched.headers["Location"] == "/"
    assert "Sign in" in client.get("/").text
    assert 'lang="en"' in client.get("/nowhere").text


def test_no_switch_sends_anyone_to_another_site(client: FlaskClient) -> None:
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        answer = client.get("/language/en", query_string={"next": target})
        assert answer.headers["Location"] == "/"


def test_an_unknown_page_is_readable_and_an_unknown_api_path_is_json(client: FlaskClient) -> None:
    page = client.get("/nowhere")
    assert page.status_code == 404 and "Не найдено" in page.text
    api = client.get("/api/nowhere")
    assert api.status_code == 404 and api.json["error"]["code"] == "not_found"


def test_the_kit_endpoints_answer(client: FlaskClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/api/web/healthz").status_code == 200
    assert client.get("/metrics").status_code == 200


def test_the_registration_form_carries_a_csrf_token_and_refuses_a_forged_one(
    client: FlaskClient,
) -> None:
    form = client.get("/register")
    assert form.status_code == 200 and 'name="csrf_token"' in form.text
    forged = client.post("/register", data={"csrf_token": "forged", "code": "X"})
    assert forged.status_code == 400 and "Форма устарела" in forged.text


def test_registration_while_identity_does_not_answer_is_a_readable_page(
    client: FlaskClient,
) -> None:
    form = client.get("/register").text
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post(
        "/register", data={"csrf_token": token, "code": "ABCD-EFGH", "login": "olga"}
    )
    assert answer.status_code == 503
    assert "Сервис временно недоступен" in answer.text


def test_the_app_installs_on_a_phone(client: FlaskClient) -> None:
    manifest = client.get("/manifest.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    body = manifest.json
    assert body["display"] == "standalone" and body["start_url"] == "/"
    assert {icon["sizes"] for icon in body["icons"]} == {"192x192", "512x512"}
    for icon in body["icons"]:
        assert client.get(icon["src"]).mimetype == "image/png"
    worker = client.get("/sw.js")
    assert worker.status_code == 200 and "javascript" in worker.mimetype
    assert worker.headers["Cache-Control"] == "no-cache"


def test_a_signed_out_page_tells_the_device_to_forget_its_offline_copy(
    client: FlaskClient,
) -> None:
    assert "data-forget" in client.get("/?signed_out=1").text


def test_the_guide_reads_in_both_languages_and_serves_only_the_tests_pictures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pictures = tmp_path / "shots"
    pictures.mkdir()
    (pictures / "week-375.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    monkeypatch.setenv("WEB_SCREENSHOTS_DIR", str(pictures))
    client = make_app(tmp_path).test_client()
    guide = client.get("/help")
    assert guide.status_code == 200 and "Справка для родителей" in guide.text
    assert "/help/pictures/week.png" in guide.text
    assert "/help/pictures/marks.png" not in guide.text  # no picture taken: text alone
    assert client.get("/help/pictures/week.png").mimetype == "image/png"
    assert client.get("/help/pictures/secrets.png").status_code == 404
    client.get("/language/en")
    assert "Help for parents and students" in client.get("/help").text
