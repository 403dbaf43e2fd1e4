"""Temporary passwords, password changes and profile edits (issue 3 §1, §4; R-IDN-5)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import requests

from identity.schemas import E164

from .conftest import Provider

CONTRACTS = Path(__file__).resolve().parents[3] / "contracts" / "events"

PASSWORD = "Длинный пароль 2025"
NEW_PASSWORD = "Совсем другой пароль 7"


def me(provider: Provider, headers: dict[str, str]) -> requests.Response:
    return requests.get(provider.api("/v1/me"), headers=headers, timeout=10)


def change(
    provider: Provider, headers: dict[str, str], current: str, new: str
) -> requests.Response:
    body = {"current_password": current, "new_password": new}
    return requests.post(provider.api("/v1/me/password"), json=body, headers=headers, timeout=10)


def test_a_temporary_password_only_lets_the_user_choose_a_new_one(
    provider: Provider, admin: dict, make_person: Callable
) -> None:
    teacher = make_person("staff", login="uchitel", roles=["director"])
    old_session = provider.bearer("uchitel", PASSWORD)

    issued = requests.post(
        provider.api(f"/v1/people/{teacher['id']}/temporary-password"), headers=admin, timeout=10
    )
    temporary = issued.json()["temporary_password"]
    with_temporary = provider.login("uchitel", temporary).json()

    assert issued.headers["Cache-Control"] == "no-store"
    [revoked] = [
        e["data"]
        for e in provider.published("identity.session.revoked")
        if e["data"]["reason"] == "administrator"
    ]
    assert (revoked["scope"], revoked["notice"]) == ("all", True)  # notify tells the user
    assert me(provider, old_session).status_code == 401  # every earlier session ended
    assert provider.login("uchitel", PASSWORD).status_code == 400
    assert with_temporary["access_token"]
    headers = {"Authorization": f"Bearer {with_temporary['access_token']}"}
    assert me(provider, headers).json()["must_change_password"] is True
    # A director may list people, but not with a temporary password.
    listed = requests.get(provider.api("/v1/people"), headers=headers, timeout=10)
    assert listed.status_code == 403
    assert change(provider, headers, temporary, NEW_PASSWORD).status_code == 204
    assert me(provider, headers).status_code == 401  # sign in again with the new password
    fresh = me(provider, provider.bearer("uchitel", NEW_PASSWORD)).json()
    assert fresh["must_change_password"] is False
    listed = requests.get(
        provider.api("/v1/people"), headers=provider.bearer("uchitel", NEW_PASSWORD), timeout=10
    )
    assert listed.status_code == 200


def test_a_password_change_needs_the_current_password_and_a_strong_new_one(
    provider: Provider, make_person: Callable
) -> None:
    make_person(login="mama.ivanova")
    headers = provider.bearer("mama.ivanova", PASSWORD)

    wrong = change(provider, headers, "не тот пароль вовсе", NEW_PASSWORD)
    weak = change(provider, headers, PASSWORD, "1234567890")
    with_login = change(provider, headers, PASSWORD, "mama.ivanova-2025")
    same = change(provider, headers, PASSWORD, PASSWORD)

    assert (wrong.status_code, wrong.json()["error"]["fields"]) == (
        403,
        {"current_password": "wrong"},
    )
    assert (weak.status_code, weak.json()["error"]["fields"]) == (
        422,
        {"new_password": "common_password"},
    )
    assert with_login.json()["error"]["fields"] == {"new_password": "contains_login"}
    assert same.json()["error"]["fields"] == {"new_password": "reused"}
    assert provider.login("mama.ivanova", PASSWORD).status_code == 200  # nothing changed


def test_only_an_administrator_issues_temporary_passwords(
    provider: Provider, make_person: Callable
) -> None:
    target = make_person(login="target.user")
    make_person("staff", login="director", roles=["director"])

    answer = requests.post(
        provider.api(f"/v1/people/{target['id']}/temporary-password"),
        headers=provider.bearer("director", PASSWORD),
        timeout=10,
    )

    assert answer.status_code == 403
    assert provider.login("target.user", PASSWORD).status_code == 200


def test_editing_a_person_announces_the_profile_and_the_contacts(
    provider: Provider, admin: dict, make_person: Callable
) -> None:
    teacher = make_person("staff", login="zavuch", roles=["subject_teacher"])

    edited = requests.patch(
        provider.api(f"/v1/people/{teacher['id']}"),
        json={"roles": ["subject_teacher", "deputy_director"], "email": "zavuch@example.org"},
        headers=admin,
        timeout=10,
    )

    assert edited.status_code == 200, edited.text
    assert edited.json()["roles"] == ["deputy_director", "subject_teacher"]
    [updated] = [
        e for e in provider.published("identity.person.changed") if e["data"]["change"] == "updated"
    ]
    assert updated["data"]["entity_version"] == 2
    contacts = [e["data"] for e in provider.published("identity.contact.changed")]
    assert contacts[-1]["email"] == "zavuch@example.org"
    token_roles = me(provider, provider.bearer("zavuch", PASSWORD)).json()["roles"]
    assert token_roles == ["deputy_director", "subject_teacher"]


def test_bad_edits_and_another_schools_people_change_nothing(
    provider: Provider, admin: dict, make_person: Callable
) -> None:
    teacher = make_person("staff", roles=["subject_teacher"])
    other_admin = provider.bearer("admin", "Ключ-от-кабинета-42", school="school-2")
    path = provider.api(f"/v1/people/{teacher['id']}")

    foreign = requests.patch(path, json={"last_name": "Взлом"}, headers=other_admin, timeout=10)
    bad_role = requests.patch(path, json={"roles": ["king"]}, headers=admin, timeout=10)
    bad_phone = requests.patch(path, json={"phone": "call me"}, headers=admin, timeout=10)

    assert foreign.status_code == 404
    assert (bad_role.status_code, bad_role.json()["error"]["fields"]) == (422, {"roles": "invalid"})
    assert bad_phone.status_code == 422 and "phone" in bad_phone.json()["error"]["fields"]
    unchanged = requests.get(path, headers=admin, timeout=10).json()
    assert (unchanged["last_name"], unchanged["roles"]) == ("Иванова", ["subject_teacher"])


def test_phones_are_kept_in_e164_as_the_event_contract_wants(
    provider: Provider, admin: dict, make_person: Callable
) -> None:
    """Issue 14 §11b: a phone without `+` was accepted, then refused by the contract of
    identity.contact.changed: a 500. A Russian number as written is completed to E.164."""
    contract = json.loads((CONTRACTS / "identity.contact.changed.v1.json").read_text())
    assert contract["properties"]["data"]["properties"]["phone"]["pattern"] == E164

    written = make_person("guardian", phone="8 (916) 123-45-67")
    path = provider.api(f"/v1/people/{written['id']}")
    edited = requests.patch(path, json={"phone": "79160000002"}, headers=admin, timeout=10)
    foreign = requests.post(
        provider.api("/v1/people"),
        json={"kind": "guardian", "last_name": "Смит", "first_name": "Анна", "phone": "12345678"},
        headers=admin,
        timeout=10,
    )

    assert written["phone"] == "+79161234567"
    assert edited.status_code == 200 and edited.json()["phone"] == "+79160000002"
    phones = [e["data"].get("phone") for e in provider.published("identity.contact.changed")]
    assert phones[-2:] == ["+79161234567", "+79160000002"]
    assert foreign.status_code == 422
    assert "phone" in foreign.json()["error"]["fields"]
    names = [
        p["last_name"]
        for p in requests.get(provider.api("/v1/people"), headers=admin, timeout=10).json()
    ]
    assert "Смит" not in names
