"""Signing in and the tokens every other service verifies (issue 3 §2, §3)."""

from __future__ import annotations

import time
from collections.abc import Callable
from statistics import median

import requests

from schoolkit.auth import TokenRejected, TokenVerifier

from .conftest import ADMIN_PASSWORD, SCHOOL, Provider

PASSWORD = "Длинный пароль 2025"


def test_a_teacher_signs_in_and_another_service_verifies_the_token_against_the_jwks(
    provider: Provider, make_person: Callable
) -> None:
    teacher = make_person("staff", login="teacher", roles=["subject_teacher", "class_teacher"])
    answer = provider.login("teacher", PASSWORD)
    assert answer.status_code == 200
    token = answer.json()
    assert token["token_type"].lower() == "bearer"
    assert token["expires_in"] <= 15 * 60
    verifier = TokenVerifier(provider.api("/oauth/jwks"), "school-identity")
    principal = verifier.verify(token["access_token"])
    assert principal.user_id == teacher["id"]
    assert principal.school_id == SCHOOL
    assert set(principal.roles) == {"subject_teacher", "class_teacher"}
    assert principal.session_id
    me = requests.get(
        provider.api("/v1/me"),
        headers={"Authorization": f"Bearer {token['access_token']}"},
        timeout=10,
    )
    assert me.json()["login"] == "teacher"
    assert "password_hash" not in me.text
    assert PASSWORD not in me.text


def test_discovery_names_the_endpoints(provider: Provider) -> None:
    document = requests.get(provider.api("/.well-known/openid-configuration"), timeout=10).json()
    assert document["token_endpoint"].endswith("/api/identity/oauth/token")
    assert document["jwks_uri"].endswith("/api/identity/oauth/jwks")
    assert "password" in document["grant_types_supported"]


def test_discovery_advertises_no_id_tokens_since_none_are_issued(
    provider: Provider, make_person: Callable
) -> None:
    """Issue 14 §9: the metadata promised ID tokens (and a userinfo endpoint) that the
    provider never issues; a client asking for `openid` gets an access token only."""
    make_person(login="teacher")
    form = {
        "grant_type": "password",
        "username": "teacher",
        "password": PASSWORD,
        "client_id": "web",
        "scope": "openid",
    }
    token = requests.post(provider.api("/oauth/token"), data=form, timeout=10).json()
    assert "access_token" in token and "id_token" not in token
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        document = requests.get(provider.api(path), timeout=10).json()
        assert not [key for key in document if "id_token" in key or "userinfo" in key], path
        assert document["response_types_supported"] == ["code"]
        assert "openid" not in document.get("scopes_supported", [])
        assert document["token_endpoint"].endswith("/api/identity/oauth/token")


def test_an_unknown_login_a_wrong_password_and_a_locked_account_get_the_same_answer(
    provider: Provider, make_person: Callable
) -> None:
    make_person(login="mother")
    unknown = [provider.login("nobody", PASSWORD) for _ in range(3)]
    wrong = [provider.login("mother", "not the password at all") for _ in range(3)]
    answers = {(a.status_code, a.text) for a in unknown + wrong}
    assert len(answers) == 1
    [(status, body)] = answers
    assert status == 400
    assert '"error": "invalid_' in body


def test_similar_timing_for_unknown_and_known_logins(
    provider: Provider, make_person: Callable
) -> None:
    make_person(login="father")

    def timed(login: str) -> float:
        started = time.perf_counter()
        provider.login(login, "wrong password here")
        return time.perf_counter() - started

    unknown = median(timed("nobody-at-all") for _ in range(4))
    known = median(timed("father") for _ in range(4))
    assert 1 / 3 < unknown / known < 3  # both pay one Argon2 verification


def test_five_failures_lock_the_account_even_for_the_right_password_until_the_lock_ends(
    provider: Provider, make_person: Callable
) -> None:
    make_person(login="target")
    for _ in range(5):
        provider.login("target", "guessing wrongly")
    assert provider.login("target", PASSWORD).status_code == 400
    with provider.database.transaction() as session:
        session.execute(
            __import__("sqlalchemy").text(
                "UPDATE accounts SET locked_until = now() - interval '1 second' WHERE login = 'target'"
            )
        )
    assert provider.login("target", PASSWORD).status_code == 200


def test_a_refresh_token_rotates_and_its_reuse_revokes_the_whole_session(
    provider: Provider, make_person: Callable
) -> None:
    make_person(login="reader")
    first = provider.login("reader", PASSWORD).json()
    form = {
        "grant_type": "refresh_token",
        "refresh_token": first["refresh_token"],
        "client_id": "web",
    }
    second = requests.post(provider.api("/oauth/token"), data=form, timeout=10)
    assert second.status_code == 200
    assert second.json()["refresh_token"] != first["refresh_token"]

    replayed = requests.post(provider.api("/oauth/token"), data=form, timeout=10)
    assert replayed.status_code == 400
    newest = {
        "grant_type": "refresh_token",
        "refresh_token": second.json()["refresh_token"],
        "client_id": "web",
    }
    assert requests.post(provider.api("/oauth/token"), data=newest, timeout=10).status_code == 400
    [revoked] = provider.published("identity.session.revoked")
    assert revoked["data"]["reason"] == "refresh_token_reuse"
    me = requests.get(
        provider.api("/v1/me"),
        headers={"Authorization": f"Bearer {second.json()['access_token']}"},
        timeout=10,
    )
    assert me.status_code == 401


def test_a_revoked_refresh_token_no_longer_works(provider: Provider, make_person: Callable) -> None:
    make_person(login="leaver")
    token = provider.login("leaver", PASSWORD).json()
    revoke = requests.post(
        provider.api("/oauth/revoke"),
        data={"token": token["refresh_token"], "client_id": "web"},
        timeout=10,
    )
    assert revoke.status_code == 200
    form = {
        "grant_type": "refresh_token",
        "refresh_token": token["refresh_token"],
        "client_id": "web",
    }
    assert requests.post(provider.api("/oauth/token"), data=form, timeout=10).status_code == 400


def test_an_expired_token_is_refused(provider: Provider) -> None:
    token = provider.login("admin", ADMIN_PASSWORD).json()["access_token"]
    # iat carries milliseconds and Authlib compares it with whole seconds: one second of
    # leeway, the least any verifier of ours uses.
    verifier = TokenVerifier(provider.api("/oauth/jwks"), "school-identity", leeway=1)
    verifier.verify(token)
    claims_expire_in = provider.login("admin", ADMIN_PASSWORD).json()["expires_in"]
    assert claims_expire_in <= 900
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    try:
        verifier.verify(forged)
        raise AssertionError("a tampered token was accepted")
    except TokenRejected:
        pass


def test_a_client_that_is_not_ours_cannot_use_the_password_grant(provider: Provider) -> None:
    answer = provider.login("admin", ADMIN_PASSWORD, client="stranger-app")
    assert answer.status_code in (400, 401)
    assert "invalid_client" in answer.text
