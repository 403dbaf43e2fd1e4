"""Services sign in as themselves with client_credentials (issue 3 §2)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import requests
from flask import Blueprint, Flask, g

from identity.oauth import clients
from schoolkit.auth import SERVICE, TokenVerifier, require_auth, require_roles
from schoolkit.settings import Settings
from schoolkit.web import create_service_app

from .conftest import ADMIN_PASSWORD, SCHOOL, Provider

ISSUER = "school-identity"


@pytest.fixture
def add_client(
    provider: Provider, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., str]:
    """Registers a client with the `identity-add-client` command; returns its secret."""
    monkeypatch.setenv("IDENTITY_DATABASE_URL", str(provider.database.engine.url))

    def add(client_id: str, *options: str) -> str:
        assert clients.main([client_id, *options]) == 0
        printed = capsys.readouterr().out
        return printed.split("secret: ")[1].split()[0]

    return add


def service_token(
    provider: Provider, client_id: str, secret: str, *, post: bool = False, **form: str
) -> requests.Response:
    body = {"grant_type": "client_credentials", **form}
    if post:
        body.update(client_id=client_id, client_secret=secret)
        return requests.post(provider.api("/oauth/token"), data=body, timeout=10)
    return requests.post(
        provider.api("/oauth/token"), data=body, auth=(client_id, secret), timeout=10
    )


def another_service(provider: Provider) -> Flask:
    """A service built with the kit that trusts identity's JWKS, like the journal."""
    blueprint = Blueprint("other", __name__, url_prefix="/v1")

    @blueprint.get("/sync")
    @require_roles(SERVICE)
    def sync() -> Any:
        return {"client": g.principal.user_id, "scopes": sorted(g.principal.scopes)}

    @blueprint.get("/mine")
    @require_auth
    def mine() -> Any:
        return {"user": g.principal.user_id}

    settings = Settings.from_env(
        "journal",
        database_url=str(provider.database.engine.url),
        jwks_url=provider.api("/oauth/jwks"),
        token_issuer=ISSUER,
    )
    return create_service_app(settings, blueprints=[blueprint])


def test_a_service_gets_a_token_with_basic_auth_and_another_service_lets_it_in_where_services_may_go(
    provider: Provider, add_client: Callable[..., str]
) -> None:
    secret = add_client("journal-sync", "--school", SCHOOL, "--scope", "people.read")
    answer = service_token(provider, "journal-sync", secret)
    assert answer.status_code == 200, answer.text
    token = answer.json()
    assert "refresh_token" not in token
    assert token["expires_in"] <= 15 * 60
    principal = TokenVerifier(provider.api("/oauth/jwks"), ISSUER).verify(token["access_token"])
    assert principal.user_id == "journal-sync"
    assert principal.school_id == SCHOOL
    assert principal.roles == frozenset({"service"})
    assert principal.scopes == frozenset({"people.read"})

    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    other = another_service(provider).test_client()
    served = other.get("/api/journal/v1/sync", headers=bearer)
    assert served.status_code == 200
    assert served.get_json() == {"client": "journal-sync", "scopes": ["people.read"]}
    assert other.get("/api/journal/v1/mine", headers=bearer).status_code == 403
    me = requests.get(provider.api("/v1/me"), headers=bearer, timeout=10)
    assert me.status_code == 403


def test_a_platform_service_signs_in_with_its_secret_in_the_form_and_belongs_to_no_school(
    provider: Provider, add_client: Callable[..., str]
) -> None:
    secret = add_client("notify-relay", "--scope", "contacts.read", "--scope", "people.read")
    answer = service_token(provider, "notify-relay", secret, post=True, scope="contacts.read")
    assert answer.status_code == 200, answer.text
    assert answer.json()["scope"] == "contacts.read"
    principal = TokenVerifier(provider.api("/oauth/jwks"), ISSUER).verify(
        answer.json()["access_token"]
    )
    assert principal.school_id == ""
    assert "school_id" not in principal.claims
    assert principal.scopes == frozenset({"contacts.read"})


def test_a_wrong_secret_or_an_unknown_client_is_refused_as_invalid_client(
    provider: Provider, add_client: Callable[..., str]
) -> None:
    secret = add_client("diary-sync", "--school", SCHOOL)
    wrong = service_token(provider, "diary-sync", secret[:-2] + "xx")
    unknown = service_token(provider, "nobody-sync", secret)
    for answer in (wrong, unknown):
        assert answer.status_code == 401
        assert answer.json()["error"] == "invalid_client"


def test_a_service_cannot_ask_for_a_scope_it_was_not_given(
    provider: Provider, add_client: Callable[..., str]
) -> None:
    secret = add_client("archive-sync", "--scope", "backups.write")
    answer = service_token(provider, "archive-sync", secret, scope="people.write")
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_scope"


def test_the_first_party_apps_cannot_use_client_credentials_nor_a_service_the_password_grant(
    provider: Provider, add_client: Callable[..., str]
) -> None:
    secret = add_client("consent-sync", "--school", SCHOOL)
    as_web = requests.post(
        provider.api("/oauth/token"),
        data={"grant_type": "client_credentials", "client_id": "web"},
        timeout=10,
    )
    assert as_web.status_code in (400, 401)
    assert as_web.json()["error"] == "invalid_client"
    password = requests.post(
        provider.api("/oauth/token"),
        data={"grant_type": "password", "username": "admin", "password": "x" * 12},
        auth=("consent-sync", secret),
        timeout=10,
    )
    assert password.status_code in (400, 401)
    assert password.json()["error"] in ("invalid_client", "unauthorized_client")


def test_the_secret_is_kept_only_as_a_digest(
    provider: Provider, add_client: Callable[..., str]
) -> None:
    secret = add_client("bench-sync")
    with provider.database.transaction() as session:
        row = session.get(clients.OAuthClient, "bench-sync")
        assert row is not None
        assert secret not in (row.secret_digest or "")
        assert row.secret_digest == clients.secret_digest(secret)


def test_registering_a_client_twice_or_under_a_bad_id_fails_with_a_message(
    provider: Provider, add_client: Callable[..., str], capsys: pytest.CaptureFixture[str]
) -> None:
    add_client("journal-sync")
    assert clients.main(["journal-sync"]) == 2
    assert "exists already" in capsys.readouterr().err
    assert clients.main(["Journal Sync!"]) == 2
    assert "client id" in capsys.readouterr().err
    assert clients.main(["timetable-app", "--kind", "application"]) == 2
    assert "redirect URI" in capsys.readouterr().err


def test_a_first_party_app_cannot_give_its_user_tokens_scopes(provider: Provider) -> None:
    answer = requests.post(
        provider.api("/oauth/token"),
        data={
            "grant_type": "password",
            "username": "admin",
            "password": ADMIN_PASSWORD,
            "client_id": "web",
            "school_id": SCHOOL,
            "scope": "people.write service",
        },
        timeout=10,
    )
    assert answer.status_code == 200
    principal = TokenVerifier(provider.api("/oauth/jwks"), ISSUER).verify(
        answer.json()["access_token"]
    )
    assert principal.scopes == frozenset()
    assert principal.roles == frozenset({"administrator"})


def test_neither_the_secret_nor_the_token_reaches_the_log_even_at_debug(
    provider: Provider, add_client: Callable[..., str], caplog: pytest.LogCaptureFixture
) -> None:
    secret = add_client("journal-sync", "--school", SCHOOL)
    caplog.set_level(logging.DEBUG)
    answer = service_token(provider, "journal-sync", secret)
    assert answer.status_code == 200
    assert caplog.records  # the request was logged, at least its access line
    assert answer.json()["access_token"] not in caplog.text
    assert secret not in caplog.text


def test_a_deployment_registers_the_web_app_with_the_secret_it_hands_it_once_only(
    provider: Provider,
    add_client: Callable[..., str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    secret = "s" * 40
    monkeypatch.setenv("WEB_CLIENT_SECRET", secret)
    web = ["--kind", "application", "--redirect-uri", "http://localhost:8080/oauth/callback"]
    options = [*web, "--secret-env", "WEB_CLIENT_SECRET", "--keep-existing"]
    assert clients.main(["school-web", *options]) == 0
    assert secret not in capsys.readouterr().out  # the deployment has it already
    assert clients.main(["school-web", *options]) == 0  # every start of identity: no change
    assert "registered already" in capsys.readouterr().out
    with provider.database.transaction() as session:
        row = session.get(clients.OAuthClient, "school-web")
        assert row is not None and row.secret_digest == clients.secret_digest(secret)
    monkeypatch.setenv("WEB_CLIENT_SECRET", "short")
    assert clients.main(["other-web", *web, "--secret-env", "WEB_CLIENT_SECRET"]) == 2
