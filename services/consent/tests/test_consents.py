"""Consents and refusals are registered; a revocation stops processing and opens the erasure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from .conftest import API, SCHOOL, new_id
from .families import Family, World

Headers = Callable[..., dict[str, str]]


def teacher_of(as_role: Headers, family: Family) -> dict[str, str]:
    return as_role("class_teacher", user=family.class_teacher_id, school=family.school_id)


def a_consent(
    client: FlaskClient,
    as_role: Headers,
    world: World,
    decision: str = "given",
    family: Family | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """A consent registered by the family's class teacher (a new family unless given)."""
    family = family or world.a_family(SCHOOL)
    form = {
        "guardian_id": family.guardian_id,
        "student_id": family.student_id,
        "representation": "parent",
        "decision": decision,
        "signed_on": "2025-09-01",
        **fields,
    }
    answer = client.post(f"{API}/consents", json=form, headers=teacher_of(as_role, family))
    assert answer.status_code == 201, answer.json
    return answer.json


DEPUTY = "deputy_director"


def test_a_class_teacher_registers_a_signed_consent_and_the_others_learn_of_it(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    consent = a_consent(client, as_role, world)
    assert consent["status"] == "given"
    assert consent["legal_basis"].startswith("Согласие субъекта")
    assert "electronic_diary" in consent["purposes"]
    [given] = published("consent.given")
    assert given["data"]["consent_id"] == consent["id"]
    assert given["data"]["template_version"] == 1


def test_a_refusal_is_recorded_too_but_announces_nothing(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    refusal = a_consent(client, as_role, world, decision="refused")  # R-CON-5
    listed = client.get(f"{API}/consents?status=refused", headers=as_role(DEPUTY)).json
    assert [c["id"] for c in listed] == [refusal["id"]]
    assert published("consent.given") == []


def test_a_revocation_opens_an_erasure_due_in_three_working_days(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    family = world.a_family(SCHOOL)
    consent = a_consent(client, as_role, world, family=family)
    answer = client.post(
        f"{API}/consents/{consent['id']}/withdrawal",
        json={"received_at": "2025-11-14T18:30:00+00:00"},  # a Friday evening in Moscow
        headers=teacher_of(as_role, family),
    )
    assert answer.status_code == 200
    assert answer.json["consent"]["status"] == "withdrawn"
    assert answer.json["consent"]["withdrawn_by"] == family.class_teacher_id
    [revoked] = published("consent.revoked")
    [request] = published("consent.erasure.requested")
    assert revoked["data"]["reason"] == "withdrawn_by_guardian"
    assert request["data"]["erasure_id"] == answer.json["erasure_id"]
    assert request["data"]["deadline"] == "2025-11-19T20:59:59.000Z"  # Wednesday 23:59:59 MSK
    assert {s["kind"] for s in request["data"]["subjects"]} == {"student", "guardian"}
    assert "marks" in request["data"]["categories"]
    assert [kept["category"] for kept in request["data"]["retain"]] == [
        "erasure_act",
        "final_marks",
    ]


def test_a_guardian_with_another_child_under_consent_keeps_their_own_data(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    first_child = world.a_family(SCHOOL)
    second_child = world.a_family(SCHOOL, guardian_id=first_child.guardian_id)
    first = a_consent(client, as_role, world, family=first_child)
    a_consent(client, as_role, world, family=second_child)
    client.post(
        f"{API}/consents/{first['id']}/withdrawal",
        json={"received_at": "2025-11-14T10:00:00+00:00"},
        headers=as_role(DEPUTY),
    )
    [request] = published("consent.erasure.requested")
    assert request["data"]["subjects"] == [{"subject_id": first["student_id"], "kind": "student"}]


def test_revoking_twice_or_revoking_a_refusal_is_a_clear_409_and_changes_nothing(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    consent = a_consent(client, as_role, world)
    refusal = a_consent(client, as_role, world, decision="refused")
    body = {"received_at": "2025-11-14T10:00:00+00:00"}
    client.post(f"{API}/consents/{consent['id']}/withdrawal", json=body, headers=as_role(DEPUTY))
    again = client.post(
        f"{API}/consents/{consent['id']}/withdrawal", json=body, headers=as_role(DEPUTY)
    )
    refused = client.post(
        f"{API}/consents/{refusal['id']}/withdrawal", json=body, headers=as_role(DEPUTY)
    )
    assert (again.status_code, again.json["error"]["code"]) == (409, "consent_not_in_force")
    assert refused.status_code == 409
    assert len(published("consent.erasure.requested")) == 1


def test_revoking_a_consent_that_does_not_exist_is_a_404(
    client: FlaskClient, as_role: Headers
) -> None:
    answer = client.post(
        f"{API}/consents/{new_id()}/withdrawal",
        json={"received_at": "2025-11-14T10:00:00+00:00"},
        headers=as_role("class_teacher"),
    )
    assert answer.status_code == 404


def test_another_schools_consent_is_invisible(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    consent = a_consent(client, as_role, world)
    stranger = as_role("administrator", school="school-other")
    assert client.get(f"{API}/consents/{consent['id']}", headers=stranger).status_code == 404
    assert client.get(f"{API}/consents", headers=stranger).json == []


@pytest.mark.parametrize("role", ["guardian", "student", "subject_teacher", "operations"])
def test_only_class_teachers_and_the_schools_leadership_register_consents(
    client: FlaskClient, as_role: Headers, world: World, role: str
) -> None:
    family = world.a_family(SCHOOL)
    form = {
        "guardian_id": family.guardian_id,
        "student_id": family.student_id,
        "representation": "parent",
        "decision": "given",
        "signed_on": "2025-09-01",
    }
    assert client.post(f"{API}/consents", json=form, headers=as_role(role)).status_code == 403


def test_a_consent_form_with_missing_or_wrong_fields_is_refused_field_by_field(
    client: FlaskClient, as_role: Headers
) -> None:
    answer = client.post(
        f"{API}/consents",
        json={
            "guardian_id": "not-an-id",
            "decision": "maybe",
            "purposes": ["selling_data"],
            "template_version": 10**30,  # past any database integer
        },
        headers=as_role("class_teacher"),
    )
    assert answer.status_code == 422
    assert {
        "guardian_id",
        "student_id",
        "decision",
        "signed_on",
        "representation",
        "template_version",
    } <= set(answer.json["error"]["fields"])


def test_a_purpose_the_template_does_not_have_is_refused(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    family = world.a_family(SCHOOL)
    form = {
        "guardian_id": family.guardian_id,
        "student_id": family.student_id,
        "representation": "parent",
        "decision": "given",
        "signed_on": "2025-09-01",
        "purposes": ["selling_data"],
    }
    answer = client.post(f"{API}/consents", json=form, headers=teacher_of(as_role, family))
    assert (answer.status_code, answer.json["error"]["code"]) == (422, "unknown_purpose")


def test_the_templates_are_the_schools_real_documents(
    client: FlaskClient, as_role: Headers
) -> None:
    templates = client.get(f"{API}/templates", headers=as_role("class_teacher")).json
    assert {(t["kind"], t["version"]) for t in templates} == {
        ("processing", 1),
        ("diary_agreement", 1),
    }
    processing = next(t for t in templates if t["kind"] == "processing")
    text = client.get(f"{API}/templates/{processing['id']}", headers=as_role("guardian")).json[
        "text"
    ]
    assert "даю свое согласие" in text
