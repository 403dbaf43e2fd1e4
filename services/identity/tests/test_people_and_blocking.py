"""People, guardianships and blocking (issue 3 §1, §4; R-IDN-4, R-IDN-6, R-ROLE-1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import requests

from identity.oauth.keys import KeyRing, sealing_key_from_env
from schoolkit.auth import TokenVerifier

from .conftest import ADMIN_PASSWORD, Provider

PASSWORD = "Длинный пароль 2025"


def test_creating_a_guardian_tells_the_others_who_and_how_to_reach_them(
    provider: Provider, make_person: Callable
) -> None:
    guardian = make_person("guardian", email="mother@example.org", phone="+79160000001")
    [changed] = [
        e
        for e in provider.published("identity.person.changed")
        if e["data"]["person_id"] == guardian["id"]
    ]
    [contact] = [
        e
        for e in provider.published("identity.contact.changed")
        if e["data"]["person_id"] == guardian["id"]
    ]
    assert changed["data"]["kind"] == "guardian"
    assert "email" not in changed["data"]  # contacts go to notify only
    assert contact["data"]["email"] == "mother@example.org"


def test_a_guardian_is_linked_to_a_student_once(
    provider: Provider, admin: dict, make_person: Callable
) -> None:
    guardian, student = make_person("guardian"), make_person("student")
    body = {"guardian_id": guardian["id"], "student_id": student["id"]}
    first = requests.post(provider.api("/v1/guardianships"), json=body, headers=admin, timeout=10)
    again = requests.post(provider.api("/v1/guardianships"), json=body, headers=admin, timeout=10)
    assert (first.status_code, again.status_code) == (201, 409)
    [linked] = provider.published("identity.guardian.linked")
    assert linked["data"]["guardian_id"] == guardian["id"]


def test_a_duplicate_login_is_a_409_and_a_weak_password_a_422_naming_the_rule(
    provider: Provider, admin: dict, make_person: Callable
) -> None:
    make_person(login="ivanova")
    body = {
        "kind": "guardian",
        "last_name": "Петрова",
        "first_name": "Анна",
        "login": "ivanova",
        "password": PASSWORD,
    }
    taken = requests.post(provider.api("/v1/people"), json=body, headers=admin, timeout=10)
    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "login_taken")
    for password, rule in (
        ("short", "min_length"),
        ("qwertyuiop", "common_password"),
        ("petrova-2025-x", "contains_login"),
    ):
        weak = requests.post(
            provider.api("/v1/people"),
            json={**body, "login": "petrova", "password": password},
            headers=admin,
            timeout=10,
        )
        assert weak.status_code == 422
        assert weak.json()["error"]["fields"]["password"] == rule
        assert password not in weak.text


def test_only_a_students_birth_date_is_asked_or_kept(
    provider: Provider, admin: dict, make_person: Callable
) -> None:
    body = {"last_name": "Петрова", "first_name": "Анна", "birth_date": "1985-05-01"}
    for kind in ("guardian", "staff"):
        refused = requests.post(
            provider.api("/v1/people"), json={**body, "kind": kind}, headers=admin, timeout=10
        )
        assert refused.status_code == 422
        assert "birth_date" in refused.json()["error"]["fields"]
    student = requests.post(
        provider.api("/v1/people"),
        json={**body, "kind": "student", "birth_date": "2014-05-01"},
        headers=admin,
        timeout=10,
    )
    assert student.status_code == 201
    teacher = make_person(kind="staff")
    edited = requests.patch(
        provider.api(f"/v1/people/{teacher['id']}"),
        json={"birth_date": "1980-01-01"},
        headers=admin,
        timeout=10,
    )
    assert edited.status_code == 422
    assert "birth_date" in edited.json()["error"]["fields"]


def test_another_schools_people_are_invisible(provider: Provider, make_person: Callable) -> None:
    student = make_person("student")
    other_admin = provider.bearer("admin", ADMIN_PASSWORD, school="school-2")
    assert (
        requests.get(
            provider.api(f"/v1/people/{student['id']}"), headers=other_admin, timeout=10
        ).status_code
        == 404
    )
    listed = requests.get(
        provider.api("/v1/people?kind=student"), headers=other_admin, timeout=10
    ).json()
    assert listed == []


@pytest.mark.parametrize("role", ["subject_teacher", "operations"])
def test_only_administrators_create_people(
    provider: Provider, make_person: Callable, role: str
) -> None:
    make_person("staff", login=f"staff-{role}", roles=[role])
    headers = provider.bearer(f"staff-{role}", PASSWORD)
    body = {"kind": "student", "last_name": "Сидоров", "first_name": "Пётр"}
    assert (
        requests.post(
            provider.api("/v1/people"), json=body, headers=headers, timeout=10
        ).status_code
        == 403
    )


def test_a_blocked_teachers_valid_token_is_refused_at_once_and_the_block_is_announced(
    provider: Provider, admin: dict, make_person: Callable
) -> None:
    teacher = make_person("staff", login="suspect")
    token = provider.bearer("suspect", PASSWORD)
    assert requests.get(provider.api("/v1/me"), headers=token, timeout=10).status_code == 200
    blocked = requests.post(
        provider.api(f"/v1/people/{teacher['id']}/block"),
        json={"reason": "suspected_unlawful_use"},
        headers=admin,
        timeout=10,
    )
    assert blocked.status_code == 200
    assert requests.get(provider.api("/v1/me"), headers=token, timeout=10).status_code == 401
    assert provider.login("suspect", PASSWORD).status_code == 400
    [event] = provider.published("identity.account.blocked")
    assert (event["data"]["person_id"], event["data"]["notice"]) == (teacher["id"], True)
    assert provider.published("identity.session.revoked")[-1]["data"]["scope"] == "all"

    requests.post(
        provider.api(f"/v1/people/{teacher['id']}/unblock"), json={}, headers=admin, timeout=10
    )
    assert provider.login("suspect", PASSWORD).status_code == 200


def test_a_user_who_reports_compromise_is_blocked_at_once(
    provider: Provider, make_person: Callable
) -> None:
    make_person(login="worried")
    token = provider.bearer("worried", PASSWORD)
    assert (
        requests.post(provider.api("/v1/compromise-reports"), headers=token, timeout=10).status_code
        == 200
    )
    assert requests.get(provider.api("/v1/me"), headers=token, timeout=10).status_code == 401
    [event] = provider.published("identity.account.blocked")
    assert event["data"]["reason"] == "compromise_reported"


def test_the_tokens_verify_with_the_kit_after_a_key_rotation(provider: Provider) -> None:
    """No valid token fails during a rotation: old and new keys are both published."""
    old_token = provider.bearer("admin", ADMIN_PASSWORD)["Authorization"].split()[1]
    verifier = TokenVerifier(provider.api("/oauth/jwks"), "school-identity", refresh_interval=0.0)
    verifier.verify(old_token)

    with provider.database.transaction() as session:
        KeyRing(sealing_key_from_env(), __import__("datetime").timedelta(minutes=10)).add_key(
            session, signs_from=datetime.now(UTC)
        )
    new_token = provider.bearer("admin", ADMIN_PASSWORD)["Authorization"].split()[1]
    assert verifier.verify(old_token).user_id == verifier.verify(new_token).user_id
    kids = {
        key["kid"] for key in requests.get(provider.api("/oauth/jwks"), timeout=10).json()["keys"]
    }
    assert len(kids) == 2


def test_the_register_is_read_a_page_at_a_time_to_the_end(
    provider: Provider, admin: dict, make_person: Callable
) -> None:
    """Issue 14 §9: the list stopped at 200 people with no way to the rest. Same last
    names on purpose: the order (last name, first name, id) still pages without a gap."""
    made = {
        make_person("guardian", last_name="Петрова", first_name=f"Анна{n}")["id"] for n in range(7)
    }
    url: str | None = provider.api("/v1/people?kind=guardian&q=Петрова&limit=3")
    pages: list[list[dict]] = []
    while url:
        answer = requests.get(url, headers=admin, timeout=10)
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
        next_link = answer.links.get("next", {}).get("url")
        url = provider.url + next_link if next_link else None

    assert [len(page) for page in pages] == [3, 3, 1]
    seen = [person["id"] for page in pages for person in page]
    assert set(seen) == made and len(seen) == len(made)
    names = [(p["last_name"], p["first_name"]) for page in pages for p in page]
    assert names == sorted(names)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=many", "limit"),
        ("cursor=x!", "cursor"),
    ],
)
def test_a_page_size_out_of_range_or_a_forged_cursor_is_a_422(
    provider: Provider, admin: dict, query: str, field: str
) -> None:
    answer = requests.get(provider.api(f"/v1/people?{query}"), headers=admin, timeout=10)
    assert answer.status_code == 422
    assert set(answer.json()["error"]["fields"]) == {field}
