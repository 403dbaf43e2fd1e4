"""A consent or a diary agreement names only a family that identity links in the caller's
school (issue 14 items 0 and 7): another school's people, staff, ids that exist nowhere and
erased ids are refused alike, nothing is stored, nothing starts an erasure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from consent.policy import load_policy
from schoolkit.events import Event

from .conftest import API, SCHOOL, new_id
from .families import Family, World

Headers = Callable[..., dict[str, str]]
OTHER = "school-other"


def consent_form(guardian_id: str, student_id: str) -> dict[str, Any]:
    return {
        "guardian_id": guardian_id,
        "student_id": student_id,
        "representation": "parent",
        "decision": "given",
        "signed_on": "2025-09-01",
    }


def agreement_form(guardian_id: str, student_id: str) -> dict[str, Any]:
    return {"guardian_id": guardian_id, "student_id": student_id, "applied_on": "2025-09-02"}


FORMS = {"consents": consent_form, "agreements": agreement_form}


def nothing_stored(client: FlaskClient, as_role: Headers, published) -> bool:
    for school in (SCHOOL, OTHER):
        admin = as_role("administrator", school=school)
        if client.get(f"{API}/consents", headers=admin).json:
            return False
        if client.get(f"{API}/agreements", headers=admin).json:
            return False
    return published("consent.given") == [] and published("consent.agreement.concluded") == []


@pytest.mark.parametrize("path", ["consents", "agreements"])
def test_another_schools_class_teacher_cannot_name_a_family_of_this_school(
    client: FlaskClient, as_role: Headers, world: World, published, path: str
) -> None:
    form = FORMS[path]
    family = world.a_family(SCHOOL)
    class_id, teacher = world.a_class(OTHER)
    world.a_family(OTHER, class_id=class_id)  # a class of their own, with a family in it
    answer = client.post(
        f"{API}/{path}",
        json=form(family.guardian_id, family.student_id),
        headers=as_role("class_teacher", user=teacher, school=OTHER),
    )
    assert (answer.status_code, answer.json["error"]["code"]) == (422, "unknown_student")
    assert answer.json["error"]["fields"] == {"student_id": "no such student in your reach"}
    assert nothing_stored(client, as_role, published)


@pytest.mark.parametrize("path", ["consents", "agreements"])
def test_another_schools_director_cannot_name_a_family_of_this_school(
    client: FlaskClient, as_role: Headers, world: World, published, path: str
) -> None:
    form = FORMS[path]
    family = world.a_family(SCHOOL)
    answer = client.post(
        f"{API}/{path}",
        json=form(family.guardian_id, family.student_id),
        headers=as_role("director", school=OTHER),
    )
    assert (answer.status_code, answer.json["error"]["code"]) == (422, "unknown_student")
    assert nothing_stored(client, as_role, published)


def test_staff_ids_are_no_family_not_even_for_the_administration(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    family = world.a_family(SCHOOL)
    deputy, teacher = new_id(), family.class_teacher_id
    world.apply(world.person_event(SCHOOL, deputy, "staff"))
    admin = as_role("administrator")
    as_student = client.post(f"{API}/consents", json=consent_form(teacher, deputy), headers=admin)
    as_guardian = client.post(
        f"{API}/consents", json=consent_form(deputy, family.student_id), headers=admin
    )
    assert (as_student.status_code, as_student.json["error"]["code"]) == (422, "unknown_student")
    assert (as_guardian.status_code, as_guardian.json["error"]["code"]) == (
        422,
        "unknown_guardian",
    )
    assert as_guardian.json["error"]["fields"] == {"guardian_id": "no such guardian in this school"}
    assert nothing_stored(client, as_role, published)


def answers_for(
    client: FlaskClient, as_role: Headers, guardian_id: str, student_id: str
) -> list[tuple[int, dict[str, Any]]]:
    admin = as_role("administrator")
    found = []
    for path, form in FORMS.items():
        answer = client.post(f"{API}/{path}", json=form(guardian_id, student_id), headers=admin)
        found.append((answer.status_code, answer.json["error"]))
    return found


def test_a_foreign_an_unknown_and_an_erased_student_answer_alike(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    family = world.a_family(SCHOOL)
    foreign = world.a_family(OTHER)
    erased = world.a_family(SCHOOL)
    world.apply(erasure_of(erased.student_id))

    unknown = answers_for(client, as_role, family.guardian_id, new_id())
    assert unknown[0][0] == 422
    assert answers_for(client, as_role, family.guardian_id, foreign.student_id) == unknown
    assert answers_for(client, as_role, family.guardian_id, erased.student_id) == unknown
    assert nothing_stored(client, as_role, published)


def test_a_foreign_an_unknown_and_an_erased_guardian_answer_alike(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    family = world.a_family(SCHOOL)
    foreign = world.a_family(OTHER)
    erased = world.a_family(SCHOOL)
    world.apply(erasure_of(erased.guardian_id, kind="guardian"))

    unknown = answers_for(client, as_role, new_id(), family.student_id)
    assert unknown[0][1]["code"] == "unknown_guardian"
    assert answers_for(client, as_role, foreign.guardian_id, family.student_id) == unknown
    assert answers_for(client, as_role, erased.guardian_id, family.student_id) == unknown
    assert nothing_stored(client, as_role, published)


def test_a_409_for_an_existing_agreement_is_not_told_to_another_school(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    family = world.a_family(SCHOOL)
    form = agreement_form(family.guardian_id, family.student_id)
    assert (
        client.post(f"{API}/agreements", json=form, headers=as_role("director")).status_code == 201
    )
    probe = client.post(f"{API}/agreements", json=form, headers=as_role("director", school=OTHER))
    assert (probe.status_code, probe.json["error"]["code"]) == (422, "unknown_student")


def test_a_guardian_and_a_student_not_linked_are_refused(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    first, second = world.a_family(SCHOOL), world.a_family(SCHOOL)
    answer = client.post(
        f"{API}/consents",
        json=consent_form(second.guardian_id, first.student_id),
        headers=as_role("deputy_director"),
    )
    assert (answer.status_code, answer.json["error"]["code"]) == (422, "not_linked")
    assert answer.json["error"]["fields"] == {"guardian_id": "not linked to this student"}
    assert nothing_stored(client, as_role, published)


def assert_linked(client: FlaskClient, as_role: Headers, family: Family, expected: int) -> None:
    answer = client.post(
        f"{API}/consents",
        json=consent_form(family.guardian_id, family.student_id),
        headers=as_role("deputy_director"),
    )
    assert answer.status_code == expected, answer.json


def test_an_unlinked_guardian_is_no_longer_the_students_guardian_here(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    class_id, _ = world.a_class(SCHOOL)
    guardian, student, link_id = new_id(), new_id(), new_id()
    world.apply(
        world.person_event(SCHOOL, guardian, "guardian"),
        world.person_event(SCHOOL, student, "student"),
        world.enrol_event(SCHOOL, student, class_id),
        world.link_event(SCHOOL, guardian, student, link_id),
    )
    family = Family(SCHOOL, guardian, student, class_id, "")
    world.apply(world.unlink_event(SCHOOL, guardian, student, link_id))
    assert_linked(client, as_role, family, expected=422)


def test_a_late_link_older_than_the_unlink_does_not_bring_the_link_back(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    class_id, _ = world.a_class(SCHOOL)
    guardian, student, link_id = new_id(), new_id(), new_id()
    linked = world.link_event(SCHOOL, guardian, student, link_id)
    unlinked = world.unlink_event(SCHOOL, guardian, student, link_id)
    outcomes = world.apply(
        world.person_event(SCHOOL, guardian, "guardian"),
        world.person_event(SCHOOL, student, "student"),
        unlinked,
        linked,  # redelivered after the unlink: version 1 < 2
    )
    assert outcomes[-1] == "stale"
    assert_linked(client, as_role, Family(SCHOOL, guardian, student, class_id, ""), expected=422)


def erasure_of(subject_id: str, kind: str = "student") -> Event:
    """The request consent itself sends when a family's consent is withdrawn."""
    policy = load_policy()
    retain = [
        {"category": kept.name, "basis": kept.law or "", "until": "2050-11-14"}
        for kept in policy.to_retain("consent_revoked")
    ]
    data = {
        "erasure_id": new_id(),
        "subjects": [{"subject_id": subject_id, "kind": kind}],
        "reason": "consent_revoked",
        "categories": policy.to_erase("consent_revoked"),
        "retain": retain,
        "deadline": "2025-11-19T20:59:59.000Z",
        "attempt": 1,
    }
    return Event("consent.erasure.requested", data, SCHOOL)


def test_an_erasure_takes_consents_copies_and_a_late_event_does_not_bring_them_back(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    family = world.a_family(SCHOOL)
    world.apply(erasure_of(family.student_id), erasure_of(family.guardian_id, kind="guardian"))
    student, guardian = (c["data"]["counts"] for c in published("consent.erasure.completed"))
    assert student == {
        "agreements": 0,
        "consents": 0,
        "enrolments": 1,
        "guardianships": 1,
        "profile": 1,
    }
    assert (guardian["profile"], guardian["guardianships"]) == (1, 0)
    # identity's late event about the erased student is dropped, and the link stays gone
    late = world.apply(
        world.person_event(SCHOOL, family.student_id, "student"),
        world.link_event(SCHOOL, family.guardian_id, family.student_id, new_id()),
    )
    assert late == ["tombstoned", "tombstoned"]
    assert_linked(client, as_role, family, expected=422)


def test_another_school_cannot_withdraw_or_end_this_schools_records(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    family = world.a_family(SCHOOL)
    admin = as_role("administrator")
    consent = client.post(
        f"{API}/consents", json=consent_form(family.guardian_id, family.student_id), headers=admin
    ).json
    agreement = client.post(
        f"{API}/agreements",
        json=agreement_form(family.guardian_id, family.student_id),
        headers=admin,
    ).json
    stranger = as_role("director", school=OTHER)
    withdrawn = client.post(
        f"{API}/consents/{consent['id']}/withdrawal",
        json={"received_at": "2025-11-14T10:00:00+00:00"},
        headers=stranger,
    )
    ended = client.post(
        f"{API}/agreements/{agreement['id']}/termination", json={"by": "guardian"}, headers=stranger
    )
    assert (withdrawn.status_code, ended.status_code) == (404, 404)
    assert published("consent.erasure.requested") == []
