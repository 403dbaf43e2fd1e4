"""identity erases only the students and guardians of the erasure's own school (DESIGN
§4 6a), ends their sessions everywhere, and lets no unsent event about them go out."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import requests
from sqlalchemy import select

from identity.handlers import HANDLERS
from identity.models import Account, Person
from schoolkit import tombstones
from schoolkit.events import Event
from schoolkit.tables import outbox

from .conftest import SCHOOL, Provider

OTHER_SCHOOL = "school-2"
CATEGORIES = ["account", "sessions", "contacts", "guardianships", "invitations", "profile"]
PASSWORD = "Длинный пароль 2025"


def erasure_requested(school_id: str, *subjects: tuple[str, str]) -> Event:
    erasure_id = str(uuid.uuid4())
    data = {
        "erasure_id": erasure_id,
        "reason": "consent_revoked",
        "subjects": [{"subject_id": sid, "kind": kind} for sid, kind in subjects],
        "categories": CATEGORIES,
        "retain": [],
        "deadline": "2030-01-10",
        "requested_at": "2030-01-07T10:00:00Z",
        "basis": {"kind": "consent", "id": str(uuid.uuid4())},
        "attempt": 1,
    }
    return Event("consent.erasure.requested", data, school_id, subject=subjects[0][0])


def erase(provider: Provider, event: Event) -> dict[str, Any]:
    """Through identity's own handler, as its worker applies the event; the completion."""
    with provider.database.transaction() as session:
        HANDLERS["consent.erasure.requested"](session, event)
    [completion] = [
        body
        for body in provider.published("identity.erasure.completed")
        if body["data"]["erasure_id"] == event.data["erasure_id"]
    ]
    return completion


def still_there(provider: Provider, person_id: str) -> tuple[bool, bool]:
    with provider.database.transaction() as session:
        return session.get(Person, person_id) is not None, session.get(
            Account, person_id
        ) is not None


def me(provider: Provider, headers: dict[str, str]) -> int:
    return requests.get(provider.api("/v1/me"), headers=headers, timeout=10).status_code


def test_another_schools_request_naming_our_family_erases_and_buries_nothing(
    provider: Provider, make_person: Callable[..., dict[str, Any]]
) -> None:
    guardian = make_person("guardian", login="mama-ivanova", password=PASSWORD)
    student = make_person("student", login="vanya", password=PASSWORD, birth_date="2014-05-01")
    token = provider.bearer("mama-ivanova", PASSWORD)

    completion = erase(
        provider,
        erasure_requested(OTHER_SCHOOL, (student["id"], "student"), (guardian["id"], "guardian")),
    )

    assert still_there(provider, guardian["id"]) == (True, True)
    assert still_there(provider, student["id"]) == (True, True)
    assert me(provider, token) == 200
    assert completion["data"]["counts"].get("refused_subjects") == 2
    assert completion["data"]["counts"].get("account", 0) == 0
    with provider.database.transaction() as session:
        assert not tombstones.is_erased(session, SCHOOL, guardian["id"], student["id"])


def test_a_request_naming_a_staff_member_leaves_her_account_whatever_kind_it_says(
    provider: Provider, make_person: Callable[..., dict[str, Any]]
) -> None:
    deputy = make_person("staff", login="zavuch", password=PASSWORD, roles=["deputy_director"])
    for kind in ("staff", "guardian", "student"):
        completion = erase(provider, erasure_requested(SCHOOL, (deputy["id"], kind)))
        assert completion["data"]["counts"].get("refused_subjects") == 1, kind

    assert still_there(provider, deputy["id"]) == (True, True)
    assert me(provider, provider.bearer("zavuch", PASSWORD)) == 200
    with provider.database.transaction() as session:
        assert not tombstones.is_erased(session, SCHOOL, deputy["id"])


def test_an_erased_guardians_sessions_end_and_nothing_unsent_about_her_remains(
    provider: Provider, make_person: Callable[..., dict[str, Any]]
) -> None:
    guardian = make_person("guardian", login="mama-petrova", password=PASSWORD)
    neighbour = make_person("guardian", login="papa-sidorov", password=PASSWORD)
    token = provider.bearer("mama-petrova", PASSWORD)
    assert about(provider, guardian["id"], "identity.user.registered")  # not sent yet

    completion = erase(provider, erasure_requested(SCHOOL, (guardian["id"], "guardian")))

    assert still_there(provider, guardian["id"]) == (False, False)
    assert completion["data"]["counts"]["account"] == 1
    assert "refused_subjects" not in completion["data"]["counts"]
    assert me(provider, token) == 401
    [revoked] = about(provider, guardian["id"], "identity.session.revoked")
    # The erasure is said as such (not as an administrator's act), and tells nobody.
    assert (revoked["data"]["scope"], revoked["data"]["reason"]) == ("all", "erased")
    assert revoked["data"]["notice"] is False
    assert about(provider, guardian["id"], "identity.user.registered") == []
    assert about(provider, guardian["id"], "identity.contact.changed") == []
    assert about(provider, neighbour["id"], "identity.user.registered")  # someone else's stays

    again = erase(provider, erasure_requested(SCHOOL, (guardian["id"], "guardian")))
    assert "refused_subjects" not in again["data"]["counts"]  # asked twice: confirmed again


def about(provider: Provider, person_id: str, event_type: str) -> list[dict[str, Any]]:
    with provider.database.transaction() as session:
        bodies = session.scalars(select(outbox.c.body).where(outbox.c.event_type == event_type))
        return [body for body in map(json.loads, bodies) if body.get("subject") == person_id]


def test_a_person_erased_with_a_retained_profile_takes_no_new_writes(
    provider: Provider, admin: dict[str, str], make_person: Callable[..., dict[str, Any]]
) -> None:
    guardian = make_person("guardian", login="mama-kuznetsova", password=PASSWORD)
    student = make_person("student", birth_date="2014-05-01")
    kept = "Федеральный закон № 273-ФЗ, ст. 28"
    event = erasure_requested(SCHOOL, (guardian["id"], "guardian"))
    event.data.update(
        categories=["account", "sessions", "guardianships", "invitations"],
        retain=[{"category": "profile", "basis": kept}, {"category": "contacts", "basis": kept}],
    )
    erase(provider, event)
    assert still_there(provider, guardian["id"]) == (True, False)  # the profile was kept

    edit = requests.patch(
        provider.api(f"/v1/people/{guardian['id']}"),
        json={"first_name": "Анна"},
        headers=admin,
        timeout=10,
    )
    link = requests.post(
        provider.api("/v1/guardianships"),
        json={"guardian_id": guardian["id"], "student_id": student["id"]},
        headers=admin,
        timeout=10,
    )
    invite = requests.post(
        provider.api("/v1/invitations"),
        json={"student_id": student["id"], "guardian_id": guardian["id"]},
        headers=admin,
        timeout=10,
    )
    assert [edit.status_code, link.status_code, invite.status_code] == [404, 404, 404]
    assert edit.json()["error"]["code"] == "not_found"
    assert about(provider, guardian["id"], "identity.person.changed") == []
