"""Whom each role finds on the register of people (issue 14 §6; R-ROLE-3, R-PD-1).

A class teacher reaches the students of their own class and those students' guardians,
with the API and in the console; everyone else of the school answers 404 exactly like an
id nobody has. The leadership and administrators reach the whole school.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from schoolkit.testing import Bus
from schoolkit.worker import Worker

from .conftest import Provider
from .console_setup import sign_in
from .test_invitations import identity_worker, place_in_class

__all__ = ["identity_worker"]

PASSWORD = "Длинный пароль 2025"


def people(provider: Provider, headers: dict[str, str], **params: str) -> list[dict[str, Any]]:
    answer = requests.get(provider.api("/v1/people"), params=params, headers=headers, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def one(provider: Provider, headers: dict[str, str], person_id: str) -> requests.Response:
    return requests.get(provider.api(f"/v1/people/{person_id}"), headers=headers, timeout=10)


@pytest.fixture
def school(
    bus: Bus, provider: Provider, make_person: Callable, admin: dict, identity_worker: Worker
) -> dict[str, Any]:
    """Class 5А of one class teacher (a student and her mother) and, next door, class 5Б
    (a student and his father), a subject teacher and a deputy director."""
    made: dict[str, Any] = {
        "teacher": make_person("staff", login="klassruk", roles=["class_teacher"]),
        "other_teacher": make_person("staff", roles=["class_teacher", "subject_teacher"]),
        "deputy": make_person("staff", login="zavuch", roles=["deputy_director"]),
        "own_student": make_person("student", last_name="Свой", birth_date="2014-03-01"),
        "own_guardian": make_person("guardian", last_name="Своя", email="mama@example.org"),
        "other_student": make_person("student", last_name="Чужой", birth_date="2014-05-02"),
        "other_guardian": make_person("guardian", last_name="Чужой", phone="+79160000009"),
    }
    for guardian, student in (("own_guardian", "own_student"), ("other_guardian", "other_student")):
        link = {"guardian_id": made[guardian]["id"], "student_id": made[student]["id"]}
        answer = requests.post(
            provider.api("/v1/guardianships"), json=link, headers=admin, timeout=10
        )
        assert answer.status_code == 201, answer.text
    place_in_class(
        bus, provider, str(uuid.uuid4()), made["teacher"]["id"], [made["own_student"]["id"]]
    )
    place_in_class(
        bus, provider, str(uuid.uuid4()), made["other_teacher"]["id"], [made["other_student"]["id"]]
    )
    return made


def test_a_class_teacher_finds_only_their_own_class_and_its_guardians(
    provider: Provider, school: dict[str, Any]
) -> None:
    teacher = provider.bearer("klassruk", PASSWORD)

    listed = {person["id"] for person in people(provider, teacher)}

    assert listed == {school["own_student"]["id"], school["own_guardian"]["id"]}
    assert people(provider, teacher, kind="staff") == []
    assert people(provider, teacher, q="Чужой") == []
    assert (
        one(provider, teacher, school["own_guardian"]["id"]).json()["email"] == "mama@example.org"
    )
    nobody = one(provider, teacher, str(uuid.uuid4()))
    assert nobody.status_code == 404
    for stranger in ("other_student", "other_guardian", "other_teacher", "deputy"):
        answer = one(provider, teacher, school[stranger]["id"])
        assert (answer.status_code, answer.json()) == (404, nobody.json()), stranger


def test_the_leadership_and_administrators_find_the_whole_school(
    provider: Provider, school: dict[str, Any], admin: dict
) -> None:
    deputy = provider.bearer("zavuch", PASSWORD)
    everyone = {person["id"] for person in school.values()}
    for headers in (deputy, admin):
        assert everyone <= {person["id"] for person in people(provider, headers)}
        assert one(provider, headers, school["other_guardian"]["id"]).status_code == 200


def test_in_the_console_a_class_teacher_finds_only_their_own_class(
    provider: Provider, school: dict[str, Any]
) -> None:
    browser = requests.Session()
    signed_in = sign_in(browser, provider.url, "klassruk", PASSWORD)
    assert signed_in.status_code == 200, signed_in.text

    listing = browser.get(f"{provider.url}/console/people", timeout=10).text
    stranger = browser.get(
        f"{provider.url}/console/people/{school['other_guardian']['id']}", timeout=10
    )

    assert "Свой" in listing and "Своя" in listing
    assert "Чужой" not in listing
    assert stranger.status_code == 404
