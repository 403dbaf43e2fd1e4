"""The role table (REQUIREMENTS R-ROLE) as far as identity is concerned, token expiry and
the reset of the failure count; one test per rule."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import requests

from identity.oauth import server
from schoolkit.auth import TokenRejected, TokenVerifier

from .conftest import Provider

PASSWORD = "Длинный пароль 2025"
# R-ROLE-1: administrators; R-ROLE-2: the director and deputy look people up (staff,
# classes); R-ROLE-3: class teachers look people up to hand out credentials, but only their
# own classes' students and guardians (test_people_reach.py), so a student of no class of
# theirs is a 404; R-ROLE-4, 5, 6, 7: subject teachers, guardians, students and operations
# never see the register. (list status, status of one student of no class of theirs)
MAY_LIST_PEOPLE = {
    "administrator": (200, 200),
    "director": (200, 200),
    "deputy_director": (200, 200),
    "class_teacher": (200, 404),
    "subject_teacher": (403, 403),
    "operations": (403, 403),
    "guardian": (403, 403),
    "student": (403, 403),
}


def signed_in_as(role: str, make_person: Callable, provider: Provider) -> dict[str, str]:
    login = f"as-{role.replace('_', '-')}"
    if role in ("guardian", "student"):
        make_person(role, login=login)
    else:
        make_person("staff", login=login, roles=[role])
    return provider.bearer(login, PASSWORD)


@pytest.mark.parametrize(("role", "expected"), sorted(MAY_LIST_PEOPLE.items()))
def test_who_may_read_the_register_of_people(
    provider: Provider, make_person: Callable, role: str, expected: tuple[int, int]
) -> None:
    student = make_person("student")
    headers = signed_in_as(role, make_person, provider)

    listed = requests.get(provider.api("/v1/people"), headers=headers, timeout=10)
    one = requests.get(provider.api(f"/v1/people/{student['id']}"), headers=headers, timeout=10)

    assert (listed.status_code, one.status_code) == expected


@pytest.mark.parametrize("role", ["director", "deputy_director", "class_teacher", "operations"])
def test_only_an_administrator_blocks_edits_and_links(
    provider: Provider, make_person: Callable, role: str
) -> None:
    guardian = make_person("guardian", login="some.guardian")
    student = make_person("student")
    headers = signed_in_as(role, make_person, provider)

    answers = [
        requests.post(
            provider.api(f"/v1/people/{guardian['id']}/block"),
            json={"reason": "other"},
            headers=headers,
            timeout=10,
        ),
        requests.patch(
            provider.api(f"/v1/people/{guardian['id']}"),
            json={"last_name": "Другая"},
            headers=headers,
            timeout=10,
        ),
        requests.post(
            provider.api("/v1/guardianships"),
            json={"guardian_id": guardian["id"], "student_id": student["id"]},
            headers=headers,
            timeout=10,
        ),
    ]

    assert [answer.status_code for answer in answers] == [403, 403, 403]
    assert provider.login("some.guardian", PASSWORD).status_code == 200


def test_an_access_token_stops_working_when_it_expires(
    provider: Provider, make_person: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(server, "ACCESS_TOKEN_SECONDS", 2)
    make_person(login="short.lived")
    answer = provider.login("short.lived", PASSWORD).json()
    # iat has milliseconds and Authlib compares it with whole seconds: one second of
    # leeway for the fresh token; the services allow 30 s of clock skew in production.
    TokenVerifier(provider.api("/oauth/jwks"), "school-identity", leeway=1).verify(
        answer["access_token"]
    )

    time.sleep(3.1)

    assert answer["expires_in"] == 2
    with pytest.raises(TokenRejected, match="expired"):
        TokenVerifier(provider.api("/oauth/jwks"), "school-identity", leeway=0).verify(
            answer["access_token"]
        )


def test_a_successful_sign_in_resets_the_failure_count(
    provider: Provider, make_person: Callable
) -> None:
    make_person(login="forgetful")
    for _ in range(4):
        provider.login("forgetful", "not quite right")
    assert provider.login("forgetful", PASSWORD).status_code == 200

    for _ in range(4):
        provider.login("forgetful", "not quite right again")

    assert provider.login("forgetful", PASSWORD).status_code == 200
