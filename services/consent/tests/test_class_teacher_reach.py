"""A class teacher reaches only the students of their own classes and those students'
guardians (R-ROLE-3, issue 14 item 6); the school's administration reaches the whole
school. A record out of reach answers 404 exactly like one that does not exist; the audit
names who registered, withdrew and ended each record."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask.testing import FlaskClient

from .conftest import API, SCHOOL, new_id
from .families import Family, World

Headers = Callable[..., dict[str, str]]
RECEIVED = {"received_at": "2025-11-14T10:00:00+00:00"}


def teacher(as_role: Headers, family: Family) -> dict[str, str]:
    return as_role("class_teacher", user=family.class_teacher_id, school=family.school_id)


def register(client: FlaskClient, headers: dict[str, str], family: Family) -> dict[str, Any]:
    form = {
        "guardian_id": family.guardian_id,
        "student_id": family.student_id,
        "representation": "parent",
        "decision": "given",
        "signed_on": "2025-09-01",
    }
    answer = client.post(f"{API}/consents", json=form, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


def conclude(client: FlaskClient, headers: dict[str, str], family: Family) -> dict[str, Any]:
    form = {
        "guardian_id": family.guardian_id,
        "student_id": family.student_id,
        "applied_on": "2025-09-02",
    }
    answer = client.post(f"{API}/agreements", json=form, headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json


@pytest.fixture
def two_classes(world: World) -> tuple[Family, Family]:
    """Two families of one school, in classes 5А and 5Б with different class teachers."""
    return world.a_family(SCHOOL), world.a_family(SCHOOL)


def test_a_class_teacher_registers_only_for_their_own_class(
    client: FlaskClient, as_role: Headers, two_classes: tuple[Family, Family], published
) -> None:
    mine, theirs = two_classes
    register(client, teacher(as_role, mine), mine)
    form = {
        "guardian_id": theirs.guardian_id,
        "student_id": theirs.student_id,
        "representation": "parent",
        "decision": "given",
        "signed_on": "2025-09-01",
    }
    answer = client.post(f"{API}/consents", json=form, headers=teacher(as_role, mine))
    assert (answer.status_code, answer.json["error"]["code"]) == (422, "unknown_student")
    agreement = client.post(
        f"{API}/agreements",
        json={**{k: form[k] for k in ("guardian_id", "student_id")}, "applied_on": "2025-09-02"},
        headers=teacher(as_role, mine),
    )
    assert agreement.status_code == 422
    assert len(published("consent.given")) == 1


def test_another_class_s_consent_is_a_404_to_read_and_to_withdraw_and_opens_no_erasure(
    client: FlaskClient, as_role: Headers, two_classes: tuple[Family, Family], published
) -> None:
    mine, theirs = two_classes
    consent = register(client, teacher(as_role, theirs), theirs)
    me = teacher(as_role, mine)
    read = client.get(f"{API}/consents/{consent['id']}", headers=me)
    withdrawn = client.post(f"{API}/consents/{consent['id']}/withdrawal", json=RECEIVED, headers=me)
    none_such = client.get(f"{API}/consents/{new_id()}", headers=me)
    assert (read.status_code, read.json) == (404, none_such.json)
    assert (withdrawn.status_code, withdrawn.json) == (404, none_such.json)
    assert published("consent.erasure.requested") == []
    still = client.get(f"{API}/consents/{consent['id']}", headers=teacher(as_role, theirs))
    assert still.json["status"] == "given"


def test_another_class_s_agreement_is_a_404_for_every_path(
    client: FlaskClient, as_role: Headers, two_classes: tuple[Family, Family], published
) -> None:
    mine, theirs = two_classes
    agreement = conclude(client, teacher(as_role, theirs), theirs)
    me = teacher(as_role, mine)
    url = f"{API}/agreements/{agreement['id']}"
    answers = [
        client.get(url, headers=me),
        client.get(f"{url}/application.pdf", headers=me),
        client.post(f"{url}/version", json={"accepted": True}, headers=me),
        client.post(f"{url}/termination", json={"by": "guardian"}, headers=me),
    ]
    assert [answer.status_code for answer in answers] == [404, 404, 404, 404]
    assert published("consent.agreement.terminated") == []
    assert client.get(url, headers=teacher(as_role, theirs)).json["status"] == "in_force"


def test_the_lists_show_a_class_teacher_only_their_classes_and_the_administration_all(
    client: FlaskClient, as_role: Headers, two_classes: tuple[Family, Family]
) -> None:
    mine, theirs = two_classes
    my_consent = register(client, teacher(as_role, mine), mine)
    register(client, teacher(as_role, theirs), theirs)
    my_agreement = conclude(client, teacher(as_role, mine), mine)
    conclude(client, teacher(as_role, theirs), theirs)

    consents = client.get(f"{API}/consents", headers=teacher(as_role, mine)).json
    agreements = client.get(f"{API}/agreements", headers=teacher(as_role, mine)).json
    assert [c["id"] for c in consents] == [my_consent["id"]]
    assert [a["id"] for a in agreements] == [my_agreement["id"]]
    by_student = client.get(
        f"{API}/consents?student_id={theirs.student_id}", headers=teacher(as_role, mine)
    )
    assert by_student.json == []
    for role in ("administrator", "director", "deputy_director"):
        assert len(client.get(f"{API}/consents", headers=as_role(role)).json) == 2
        assert len(client.get(f"{API}/agreements", headers=as_role(role)).json) == 2


def test_a_student_transferred_to_another_class_follows_to_its_class_teacher(
    client: FlaskClient, as_role: Headers, world: World, two_classes: tuple[Family, Family]
) -> None:
    moving, other = two_classes
    consent = register(client, teacher(as_role, moving), moving)
    world.apply(world.transfer_event(SCHOOL, moving.student_id, moving.class_id, other.class_id))
    url = f"{API}/consents/{consent['id']}"
    assert client.get(url, headers=teacher(as_role, moving)).status_code == 404
    assert client.get(url, headers=teacher(as_role, other)).status_code == 200


def test_a_new_class_teacher_takes_over_the_class(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    family = world.a_family(SCHOOL)
    consent = register(client, teacher(as_role, family), family)
    successor = new_id()
    world.apply(world.class_event(SCHOOL, family.class_id, successor))
    url = f"{API}/consents/{consent['id']}"
    assert client.get(url, headers=teacher(as_role, family)).status_code == 404
    assert client.get(url, headers=as_role("class_teacher", user=successor)).status_code == 200


def test_the_record_and_the_act_name_who_registered_and_who_withdrew(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    family = world.a_family(SCHOOL)
    consent = register(client, teacher(as_role, family), family)
    deputy = new_id()
    answer = client.post(
        f"{API}/consents/{consent['id']}/withdrawal",
        json=RECEIVED,
        headers=as_role("deputy_director", user=deputy),
    )
    assert answer.json["consent"]["registered_by"] == family.class_teacher_id
    assert answer.json["consent"]["withdrawn_by"] == deputy
    [revoked] = published("consent.revoked")
    assert revoked["data"]["registered_by"] == deputy
    erasure = client.get(
        f"{API}/erasures/{answer.json['erasure_id']}", headers=as_role("director")
    ).json
    assert erasure["status"] == "open"


def test_an_agreement_names_who_registered_it_and_who_registered_its_end(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    family = world.a_family(SCHOOL)
    agreement = conclude(client, teacher(as_role, family), family)
    assert agreement["registered_by"] == family.class_teacher_id
    ended = client.post(
        f"{API}/agreements/{agreement['id']}/termination",
        json={"by": "guardian"},
        headers=teacher(as_role, family),
    ).json
    assert (ended["terminated_by"], ended["termination_registered_by"]) == (
        "guardian",
        family.class_teacher_id,
    )


def test_a_removed_class_leads_nobody(client: FlaskClient, as_role: Headers, world: World) -> None:
    family = world.a_family(SCHOOL)
    consent = register(client, teacher(as_role, family), family)
    world.apply(
        world.class_event(SCHOOL, family.class_id, family.class_teacher_id, change="removed")
    )
    url = f"{API}/consents/{consent['id']}"
    assert client.get(url, headers=teacher(as_role, family)).status_code == 404
    assert client.get(url, headers=as_role("deputy_director")).status_code == 200


def has_offset(moment: str) -> bool:
    return datetime.fromisoformat(moment.replace("Z", "+00:00")).utcoffset() is not None


def test_every_date_time_in_the_answers_carries_its_offset(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    family = world.a_family(SCHOOL)
    consent = register(client, teacher(as_role, family), family)
    agreement = conclude(client, teacher(as_role, family), family)
    withdrawn = client.post(
        f"{API}/consents/{consent['id']}/withdrawal",
        json=RECEIVED,
        headers=teacher(as_role, family),
    ).json
    ended = client.post(
        f"{API}/agreements/{agreement['id']}/termination",
        json={"by": "guardian"},
        headers=teacher(as_role, family),
    ).json
    erasure = client.get(
        f"{API}/erasures/{withdrawn['erasure_id']}", headers=as_role("director")
    ).json
    moments = [
        withdrawn["consent"]["registered_at"],
        withdrawn["consent"]["withdrawn_at"],
        ended["concluded_at"],
        ended["effective_at"],
        erasure["received_at"],
        erasure["deadline"],
    ]
    assert all(has_offset(moment) for moment in moments), moments
