"""Diary agreements: concluded on the guardian's application, versions, termination (R-CON-2…4)."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from flask.testing import FlaskClient
from pypdf import PdfReader

from consent.coordinator import Coordinator
from consent.registry import start_due_agreement_erasures
from consent.settings import ErasureSettings
from schoolkit.db import Database

from .conftest import API, SCHOOL
from .families import Family, World

Headers = Callable[..., dict[str, str]]
DEPUTY = "deputy_director"


def an_agreement(
    client: FlaskClient, as_role: Headers, world: World, family: Family | None = None
) -> dict[str, Any]:
    """An agreement registered by the family's class teacher (a new family unless given)."""
    family = family or world.a_family(SCHOOL)
    form = {
        "guardian_id": family.guardian_id,
        "student_id": family.student_id,
        "applied_on": "2025-09-02",
    }
    teacher = as_role("class_teacher", user=family.class_teacher_id)
    answer = client.post(f"{API}/agreements", json=form, headers=teacher)
    assert answer.status_code == 201, answer.json
    return answer.json


def test_an_application_registered_concludes_the_agreement_with_a_registration_number(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    agreement = an_agreement(client, as_role, world)
    assert agreement["status"] == "in_force"
    assert agreement["registration_number"] == "ЭД-2025/1"
    [concluded] = published("consent.agreement.concluded")
    assert concluded["data"]["registration_number"] == "ЭД-2025/1"


def test_the_guardian_gets_a_printable_copy_with_the_registration_mark(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    agreement = an_agreement(client, as_role, world)
    answer = client.get(
        f"{API}/agreements/{agreement['id']}/application.pdf", headers=as_role(DEPUTY)
    )
    assert answer.mimetype == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.data)).pages)
    assert "Отметка о регистрации" in text
    assert "ЭД-2025/1" in text


def test_a_second_agreement_for_the_same_family_is_a_409(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    agreement = an_agreement(client, as_role, world)
    form = {
        "guardian_id": agreement["guardian_id"],
        "student_id": agreement["student_id"],
        "applied_on": "2025-09-03",
    }
    answer = client.post(f"{API}/agreements", json=form, headers=as_role(DEPUTY))
    assert (answer.status_code, answer.json["error"]["code"]) == (409, "agreement_exists")


def test_a_guardian_who_refuses_a_new_version_stays_on_theirs(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    agreement = an_agreement(client, as_role, world)
    answer = client.post(
        f"{API}/agreements/{agreement['id']}/version",
        json={"accepted": False},
        headers=as_role(DEPUTY),
    )
    assert answer.json["template_id"] == agreement["template_id"]
    assert len(published("consent.agreement.concluded")) == 1


def test_terminated_by_the_guardian_the_diary_data_goes_at_once(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    agreement = an_agreement(client, as_role, world)
    answer = client.post(
        f"{API}/agreements/{agreement['id']}/termination",
        json={"by": "guardian"},
        headers=as_role(DEPUTY),
    )
    assert answer.json["status"] == "terminated"
    [terminated] = published("consent.agreement.terminated")
    [request] = published("consent.erasure.requested")
    assert terminated["data"]["by"] == "guardian"
    assert request["data"]["reason"] == "agreement_terminated"
    assert request["data"]["categories"] == ["acknowledgements", "diary"]


def test_terminated_by_the_school_the_erasure_waits_for_the_stated_time(
    client: FlaskClient, as_role: Headers, world: World, published, database_url: str
) -> None:
    agreement = an_agreement(client, as_role, world)
    effective = datetime.now(UTC) + timedelta(days=14)
    body = {"by": "school", "effective_at": effective.isoformat()}
    client.post(
        f"{API}/agreements/{agreement['id']}/termination",
        json=body,
        headers=as_role("deputy_director"),
    )
    [notice] = published("consent.agreement.terminated")
    assert notice["data"]["effective_at"].startswith(effective.date().isoformat())
    assert published("consent.erasure.requested") == []

    database = Database(database_url)
    with database.transaction() as session:
        start_due_agreement_erasures(
            session, Coordinator(ErasureSettings()), effective + timedelta(seconds=1)
        )
    database.dispose()
    assert len(published("consent.erasure.requested")) == 1


def test_terminating_an_ended_agreement_is_a_409_and_opens_nothing_more(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    agreement = an_agreement(client, as_role, world)
    url = f"{API}/agreements/{agreement['id']}/termination"
    client.post(url, json={"by": "guardian"}, headers=as_role(DEPUTY))
    again = client.post(url, json={"by": "guardian"}, headers=as_role(DEPUTY))
    assert (again.status_code, again.json["error"]["code"]) == (409, "agreement_not_in_force")
    assert len(published("consent.erasure.requested")) == 1


def test_the_school_must_say_when_its_termination_takes_effect(
    client: FlaskClient, as_role: Headers, world: World
) -> None:
    agreement = an_agreement(client, as_role, world)
    answer = client.post(
        f"{API}/agreements/{agreement['id']}/termination",
        json={"by": "school"},
        headers=as_role("deputy_director"),
    )
    assert (answer.status_code, answer.json["error"]["code"]) == (422, "effective_at_required")


def terminate(client: FlaskClient, as_role: Headers, agreement: dict[str, Any]) -> None:
    answer = client.post(
        f"{API}/agreements/{agreement['id']}/termination",
        json={"by": "guardian"},
        headers=as_role(DEPUTY),
    )
    assert answer.status_code == 200, answer.json


def test_an_ended_agreement_erases_only_whom_no_other_agreement_still_serves(
    client: FlaskClient, as_role: Headers, world: World, published
) -> None:
    child = world.a_family(SCHOOL)
    mother, student = child.guardian_id, child.student_id
    with_father = world.a_family(SCHOOL, class_id=child.class_id, student_id=student)
    father = with_father.guardian_id
    second_child = world.a_family(SCHOOL, guardian_id=father)
    sibling = second_child.student_id
    mothers = an_agreement(client, as_role, world, child)
    an_agreement(client, as_role, world, with_father)
    fathers_other = an_agreement(client, as_role, world, second_child)

    # The mother ends hers: the father still reads the child's diary, so only she goes.
    terminate(client, as_role, mothers)
    [request] = published("consent.erasure.requested")
    assert request["data"]["subjects"] == [{"subject_id": mother, "kind": "guardian"}]

    # The father ends his for the sibling, but keeps the one for the first child: the
    # sibling's diary goes, and he stays (erased, he would lose the first child's too).
    terminate(client, as_role, fathers_other)
    requests = published("consent.erasure.requested")
    assert requests[1]["data"]["subjects"] == [{"subject_id": sibling, "kind": "student"}]
